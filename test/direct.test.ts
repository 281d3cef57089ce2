import { defineEntity, p, wrap, type EntityManager, type EntityMetadata } from '@mikro-orm/core';
import Fastify, { type FastifyRequest } from 'fastify';
import t from 'tap';
import { migrationsPath } from '../src/library/config.ts';
import { canInsertDirectly, exists, findOneBy, findOneWithRelated, findRowBy, insertDirectly, rowMetaOf, rowsToEntities } from '../src/rest/orm/direct.ts';
import {
  APIClient,
  authEntities,
  createTestDatabase,
  createToken,
  createUser,
  databasePlugin,
  DefaultRouter,
  fastrest,
  ModelSerializer,
  ModelViewSet,
  NestedField,
  PrimaryKeyRelatedField,
  serverOptions,
  SlugRelatedField,
  Token,
  User,
} from '../src/rest/index.ts';
import { readerOf } from '../src/rest/orm/database.ts';
import { mapRows, rowMapper, type MappingDriver } from '../src/rest/orm/direct/rows.ts';

/** The columns of a shelf, shared by `Shelf` and its filtered twin `OpenShelf`. */
const shelfProperties = () => ({
  id: p.integer().primary().autoincrement(),
  name: p.string().length(50).unique(),
  note: p.string().length(50).default(''),
  archived: p.boolean().default(false),
});
const Shelf = defineEntity({ name: 'Shelf', tableName: 'direct_shelf', properties: shelfProperties() });
const Volume = defineEntity({
  name: 'Volume',
  tableName: 'direct_volume',
  properties: {
    id: p.integer().primary().autoincrement(),
    title: p.string().length(100),
    code: p.string().length(20).unique(),
    pages: p.integer().nullable(),
    shelf: () => p.manyToOne(Shelf),
    createdAt: p.datetime().onCreate(() => new Date()),
    updatedAt: p.datetime().onCreate(() => new Date()).onUpdate(() => new Date()),
  },
});
/** A volume whose creation MikroORM announces: its inserts are never direct. */
const Announced = defineEntity({
  name: 'Announced',
  tableName: 'direct_announced',
  properties: { id: p.integer().primary().autoincrement(), title: p.string().length(100) },
  hooks: { afterCreate: [() => {}] },
});
/** Shelves that are not archived, by a default filter: reads of them are never direct. */
const OpenShelf = defineEntity({
  name: 'OpenShelf',
  tableName: 'direct_shelf',
  properties: shelfProperties(),
  filters: { open: { name: 'open', cond: { archived: false }, default: true } },
});
/** A place inside a building: an embeddable, which the generated row mappers leave to MikroORM's. */
const Place = defineEntity({ name: 'Place', embeddable: true, properties: { room: p.string().length(20), floor: p.integer() } });
const Reading = defineEntity({
  name: 'Reading',
  tableName: 'direct_reading',
  properties: { id: p.integer().primary().autoincrement(), place: () => p.embedded(Place), at: p.datetime().nullable() },
});

class ShelfSummarySerializer extends ModelSerializer.for(Shelf, { name: 'ShelfSummary', fields: ['id', 'name'] }) {}

class VolumeSerializer extends ModelSerializer.for(Volume, {
  fields: ['id', 'shelf', 'shelfDetail', 'code', 'title', 'pages', 'createdAt', 'updatedAt'],
  declaredFields: {
    shelf: new SlugRelatedField({ entity: Shelf, slugField: 'name', createIfMissing: true }),
    shelfDetail: new NestedField(ShelfSummarySerializer, { source: 'shelf' }),
  },
  readOnlyFields: ['id', 'createdAt', 'updatedAt'],
}) {
  /** Test seams, run after the shelf and code are validated, as a concurrent client would: "Orphan" deletes the shelf, "Taken" takes the code. */
  async validateTitle(value: string, ctx: { request?: FastifyRequest }): Promise<string> {
    const orm = ctx.request!.server.orm;
    const body = ctx.request!.body as { shelf?: string; code?: string };
    if (value === 'Orphan') await orm.em.fork().nativeDelete(Shelf, { name: body.shelf });
    if (value === 'Taken') {
      await orm.em.getConnection().execute('insert into direct_volume (title, code, shelf_id, created_at, updated_at) values (?, ?, 1, now(), now())', ['First', body.code]);
    }
    return value;
  }
}

/** Volumes by their shelf's key, for writes that name an existing shelf. */
class VolumeByKeySerializer extends ModelSerializer.for(Volume, {
  name: 'VolumeByKey',
  fields: ['id', 'title', 'code', 'shelf'],
  declaredFields: { shelf: new PrimaryKeyRelatedField({ entity: Shelf }) },
}) {}

/** The standard create: one INSERT, no transaction. */
class VolumeViewSet extends ModelViewSet<VolumeSerializer> {
  readonly serializer = new VolumeSerializer();
}

/** The same create through an overridden `performCreate`: the unit of work in a transaction. */
class TransactionalVolumeViewSet extends ModelViewSet<VolumeSerializer> {
  readonly serializer = new VolumeSerializer();
  override async performCreate(request: FastifyRequest, data: Record<string, unknown>): Promise<object> {
    return super.performCreate(request, data);
  }
}

class VolumeByKeyViewSet extends ModelViewSet<VolumeByKeySerializer> {
  readonly serializer = new VolumeByKeySerializer();
}

let pendingShelves = 0;
/** A create whose request's EntityManager holds a pending shelf: the write cannot be the one INSERT. */
class PendingVolumeViewSet extends ModelViewSet<VolumeSerializer> {
  readonly serializer = new VolumeSerializer();
  override initial(request: FastifyRequest, reply: Parameters<ModelViewSet['initial']>[1]) {
    request.em.persist(request.em.create(Shelf, { name: `Pending ${++pendingShelves}` }));
    return super.initial(request, reply);
  }
}

const db = await createTestDatabase({ entities: [Shelf, Volume, Announced, Reading, Place, ...authEntities], migrationsPath, migrate: false });
await db.orm.schema.create();
// A constraint the entity does not declare: only the database knows titles are unique per shelf.
await db.orm.em.getConnection().execute('create unique index direct_volume_title_per_shelf on direct_volume (shelf_id, title)');
const app = Fastify(serverOptions());
await app.register(databasePlugin, { orm: db.orm, closeOnExit: false });
await app.register(fastrest);
await app.register(
  new DefaultRouter()
    .register('volumes', new VolumeViewSet(), { basename: 'volume' })
    .register('tx-volumes', new TransactionalVolumeViewSet(), { basename: 'txvolume' })
    .register('key-volumes', new VolumeByKeyViewSet(), { basename: 'keyvolume' })
    .register('pending-volumes', new PendingVolumeViewSet(), { basename: 'pendingvolume' })
    .plugin('/api'),
);
await app.ready();
t.teardown(async () => {
  await app.close();
  await db.drop();
});
const client = new APIClient(app);
const rows = async (sql: string) => (await db.orm.em.getConnection().execute(sql)) as Record<string, unknown>[];
const fork = (): EntityManager => db.orm.em.fork();
await fork().insert(Shelf, { name: 'Poetry', note: 'upstairs' } as never);

/** A response without what differs between two creates of the same data (key, times). */
const comparable = (body: Record<string, unknown>) => {
  const { id: _id, createdAt, updatedAt, ...rest } = body;
  return { ...rest, times: [typeof createdAt, typeof updatedAt] };
};

t.test('a create that is one INSERT answers what the transactional create answers', async (t) => {
  for (const [i, body] of [
    { title: 'Odes', code: 'A-1', shelf: 'Poetry' },
    { title: 'Sonnets', code: 'A-2', shelf: 'Poetry', pages: 120 },
    { title: 'Elegies', code: 'A-3', shelf: 'Poetry', pages: null },
  ].entries()) {
    const direct = await client.post('/api/volumes/', body);
    const transactional = await client.post('/api/tx-volumes/', { ...body, code: `T-${i}`, title: `${body.title} again` });
    t.equal(direct.statusCode, 201);
    t.equal(transactional.statusCode, 201);
    t.same(comparable(direct.data), { ...comparable(transactional.data), code: body.code, title: body.title }, `${body.title}: the same body`);
    t.equal(direct.headers['location'], `http://localhost:80/api/volumes/${direct.data.id}/`);
    t.equal(direct.data.shelfDetail.name, 'Poetry', 'the related object shown as loaded by validation');
    const [stored] = await rows(`select title, code, pages, shelf_id, created_at, updated_at from direct_volume where id = ${direct.data.id}`);
    t.equal(new Date(stored!['created_at'] as string).toISOString(), direct.data.createdAt, 'the answer shows what was stored');
    t.equal(stored!['pages'] ?? null, body.pages ?? null);
  }
});

t.test('a taken unique value is refused by the INSERT itself: a 400, and no key is used up', async (t) => {
  const first = await client.post('/api/volumes/', { title: 'Psalms', code: 'U-1', shelf: 'Poetry' });
  const again = await client.post('/api/volumes/', { title: 'Hymns', code: 'U-1', shelf: 'Poetry' });
  t.equal(again.statusCode, 400);
  t.same(again.data, { code: ['volume with this code already exists.'] });
  t.same(await client.post('/api/tx-volumes/', { title: 'Hymns', code: 'U-1', shelf: 'Poetry' }).then((r) => r.data), again.data, 'as the transactional create answers');
  const next = await client.post('/api/volumes/', { title: 'Hymns', code: 'U-2', shelf: 'Poetry' });
  t.equal(next.data.id, first.data.id + 1, 'the refused INSERT took no value of the sequence');
  const both = await client.post('/api/volumes/', { title: 'Hymns', code: 'U-2', shelf: 'Nowhere', pages: 'x' });
  t.equal(both.statusCode, 400);
  t.same(Object.keys(both.data).sort(), ['pages'], 'schema errors come first');
  const fieldAndUnique = await client.post('/api/key-volumes/', { title: 'Hymns', code: 'U-2', shelf: 999 });
  t.same(fieldAndUnique.data, { shelf: ['Invalid pk "999" - object does not exist.'], code: ['volume by key with this code already exists.'] }, 'with other field errors, every error at once');
});

t.test('a value taken between validation and the INSERT is still a 400', async (t) => {
  const taken = await client.post('/api/volumes/', { title: 'Taken', code: 'R-1', shelf: 'Poetry' });
  t.equal(taken.statusCode, 400);
  t.same(taken.data, { code: ['volume with this code already exists.'] });
  await fork().insert(Shelf, { name: 'Loose' } as never);
  const orphan = await client.post('/api/volumes/', { title: 'Orphan', code: 'R-2', shelf: 'Loose' });
  t.equal(orphan.statusCode, 400);
  t.same(orphan.data, { shelf: ['The related object does not exist.'] }, 'a related row deleted meanwhile');
  const title = { title: 'Twice', code: 'R-3', shelf: 'Poetry' };
  t.equal((await client.post('/api/volumes/', title)).statusCode, 201);
  const direct = await client.post('/api/volumes/', { ...title, code: 'R-4' });
  const transactional = await client.post('/api/tx-volumes/', { ...title, code: 'R-5' });
  t.equal(direct.statusCode, 400, 'a constraint only the database knows');
  t.same(direct.data, { non_field_errors: ['The fields must make a unique set.'] });
  t.same(transactional.data, direct.data, 'as inside a transaction');
});

t.test('a create that is not one INSERT still runs in a transaction', async (t) => {
  const created = await client.post('/api/volumes/', { title: 'Haiku', code: 'N-1', shelf: 'Drawer' });
  t.equal(created.statusCode, 201, 'a shelf to create first');
  t.same(created.data.shelfDetail, { id: created.data.shelfDetail.id, name: 'Drawer' });
  t.equal((await rows("select count(*)::int as n from direct_shelf where name = 'Drawer'"))[0]!['n'], 1);
});

t.test('one INSERT only when MikroORM would do nothing more', async (t) => {
  const em = fork();
  const shelf = (await findOneBy<{ id: number }>(em, Shelf, { name: 'Poetry' }))!;
  const data = { title: 'T', code: 'C-1', shelf };
  t.ok(canInsertDirectly(em, Volume, data));
  t.ok(canInsertDirectly(em, Volume, { ...data, shelf: shelf.id }), 'a key for the relation');
  t.notOk(canInsertDirectly(em, Announced, { title: 'T' }), 'an entity with lifecycle hooks');
  t.notOk(canInsertDirectly(fork(), Volume, data), 'a related entity of another EntityManager');
  t.notOk(canInsertDirectly(em, Volume, { ...data, createdAt: '2024-01-01T00:00:00Z' }), 'a date the ORM would convert');
  t.notOk(canInsertDirectly(em, Volume, { ...data, shelf: { name: 'New' } }), 'a related object to create');
  em.create(Shelf, { name: 'Pending' } as never);
  t.notOk(canInsertDirectly(em, Volume, data), 'something else to flush');
  const subscribed = db.orm.em.fork({ freshEventManager: true });
  subscribed.getEventManager().registerSubscriber({ afterCreate: () => {} } as never);
  t.notOk(canInsertDirectly(subscribed, Volume, { ...data, shelf: 1 }), 'an event subscriber');
});

t.test('the row of a direct INSERT is what em.create and flush store', async (t) => {
  const em = fork();
  const row = (await insertDirectly(em, Volume, { title: 'Row', code: 'I-1', shelf: 1 }))!;
  const flushed = fork();
  const entity = flushed.create(Volume, { title: 'Row 2', code: 'I-2', shelf: 1 } as never);
  await flushed.flush();
  const { createdAt: _c, updatedAt: _u, ...expected } = { ...wrap(entity).toObject(), shelf: 1 };
  t.same({ ...row, shelf: 1, createdAt: undefined, updatedAt: undefined }, { ...expected, id: row['id'], code: 'I-1', title: 'Row', createdAt: undefined, updatedAt: undefined }, 'what the flushed entity holds');
  t.ok(row['createdAt'] instanceof Date && row['updatedAt'] instanceof Date, 'onCreate values');
  t.equal((entity as { id: number }).id, (row['id'] as number) + 1);
  t.equal(em.getUnitOfWork().getIdentityMap().values().length, 0, 'no entity made');
  const shelf = (await insertDirectly(fork(), Shelf, { name: 'Defaults' }))!;
  t.same(shelf, { id: shelf['id'], name: 'Defaults', note: '', archived: false }, 'column defaults as the entity holds them');
  t.equal(await insertDirectly(fork(), Shelf, { name: 'Defaults' }, ['name']), null, 'a unique value taken: nothing inserted');
});

t.test('direct reads answer what em.findOne and em.count answer', async (t) => {
  const em = fork();
  const found = await findOneBy<object>(em, Shelf, { name: 'Poetry' });
  const expected = await fork().findOne(Shelf, { name: 'Poetry' });
  t.same(wrap(found!).toObject(), wrap(expected!).toObject());
  t.equal(em.getUnitOfWork().getById(Shelf, (found as { id: number }).id), found, 'merged into the EntityManager');
  t.equal(await findOneBy(em, Shelf, { name: 'Poetry' }), found, 'the same entity when read again');
  t.equal(await findOneBy(em, Shelf, { name: 'Nowhere' }), null);
  t.equal(await exists(em, Shelf, { name: 'Poetry' }), true);
  t.equal(await exists(em, Shelf, { name: 'Poetry', id: { $ne: (found as { id: number }).id } }), false, 'excluding one row');

  await fork().insert(Shelf, { name: 'Closed', archived: true } as never);
  const filtered = await createTestDatabase({ entities: [OpenShelf], migrationsPath, migrate: false });
  t.teardown(() => filtered.drop());
  await filtered.orm.schema.create();
  await filtered.orm.em.fork().insert(OpenShelf, { name: 'Closed', archived: true } as never);
  t.equal(await findOneBy(filtered.orm.em.fork(), OpenShelf, { name: 'Closed' }), null, 'filters apply: the ORM reads');
  t.equal(await exists(filtered.orm.em.fork(), OpenShelf, { name: 'Closed' }), false);
});

t.test('a token and its user read with one join are the entities em.findOne populates', async (t) => {
  const user = await createUser(fork(), { username: 'reader', password: 'a-long-password-1' });
  const { token } = await createToken(fork(), user);
  const em = fork();
  const direct = await findOneWithRelated<typeof token>(em, Token, { keyHash: token.keyHash }, 'user');
  const expected = await fork().findOne(Token, { keyHash: token.keyHash }, { populate: ['user'] });
  t.same(wrap(direct!).toObject(), wrap(expected!).toObject(), 'the token, its user populated');
  t.ok(wrap(direct!.user).isInitialized());
  t.equal(em.getUnitOfWork().getById(Token, direct!.id), direct);
  t.equal(await findOneWithRelated(fork(), Token, { keyHash: 'x'.repeat(64) }, 'user'), null);
});

t.test('the one-INSERT create runs no transaction; an overridden performCreate runs one', async (t) => {
  const logged = await createTestDatabase({ entities: [Shelf, Volume, Announced, Reading, Place, ...authEntities], migrationsPath, migrate: false, debug: true });
  const statements: string[] = [];
  (logged.orm.config.getLogger() as unknown as { writer: (message: string) => void }).writer = (message) => {
    if (message.includes('[query]')) statements.push(message.replace(/\u001b\[[0-9;]*m/g, '').replace(/^\[query\] /, ''));
  };
  await logged.orm.schema.create();
  const logApp = Fastify(serverOptions());
  await logApp.register(databasePlugin, { orm: logged.orm });
  await logApp.register(fastrest);
  const forked: boolean[] = [];
  logApp.addHook('onResponse', async (request) => {
    forked.push(readerOf(request) !== logged.orm.em);
  });
  await logApp.register(
    new DefaultRouter()
      .register('volumes', new VolumeViewSet(), { basename: 'volume' })
      .register('tx-volumes', new TransactionalVolumeViewSet(), { basename: 'txvolume' })
      .plugin('/api'),
  );
  t.teardown(async () => {
    await logApp.close();
    await logged.drop();
  });
  await logApp.ready();
  const logClient = new APIClient(logApp);
  t.equal((await logClient.post('/api/volumes/', { title: 'Setup', code: 'L-0', shelf: 'Logged' })).statusCode, 201);
  t.ok(new VolumeSerializer().defersUniqueChecks());
  const sent = async (path: string, code: string) => {
    statements.length = 0;
    t.equal((await logClient.post(path, { title: code, code, shelf: 'Logged' })).statusCode, 201);
    return statements.map((s) => s.split(' ')[0]!.toLowerCase());
  };
  t.same(await sent('/api/volumes/', 'L-1'), ['select', 'insert'], 'the shelf, then one INSERT that also checks the code');
  t.match(statements[1], /^insert into "direct_volume" .* select .* where not exists \(select 1 from "direct_volume" where "code" = /);
  t.same(await sent('/api/tx-volumes/', 'L-2'), ['select', 'select', 'begin', 'insert', 'commit'], 'the shelf, the code, then the unit of work');
  t.same(forked.slice(-2), [false, true], 'the one-INSERT create read its shelf as a row and forked no EntityManager; the unit of work did');
  t.ok(new VolumeSerializer().validatesToRows());
  t.notOk(new TransactionalVolumeSerializerProbe().validatesToRows(), 'a validate<Field> hook on a related field sees entities');
});

/** A serializer whose hook on the related field must see the Shelf entity. */
class TransactionalVolumeSerializerProbe extends VolumeSerializer {
  validateShelf(value: unknown): unknown {
    return value;
  }
}

t.test('a shelf read as a row becomes the entity when the create is not the one INSERT after all', async (t) => {
  await client.post('/api/volumes/', { title: 'First', code: 'ROWS-0', shelf: 'Rows' });
  const res = await client.post('/api/pending-volumes/', { title: 'Second', code: 'ROWS-1', shelf: 'Rows' });
  t.equal(res.statusCode, 201);
  t.match(res.json(), { code: 'ROWS-1', shelf: 'Rows', shelfDetail: { name: 'Rows' } });
  t.same(await rows("select name from direct_shelf where name in ('Rows', 'Pending 1') order by name"), [{ name: 'Pending 1' }, { name: 'Rows' }], 'the pending shelf was flushed with the volume');
});

t.test('findRowBy reads the row on the app\'s EntityManager; rowsToEntities makes the entity findOneBy makes', async (t) => {
  await client.post('/api/volumes/', { title: 'Lookup', code: 'ROWS-2', shelf: 'Row lookups' });
  const row = await findRowBy(db.orm.em, Shelf, { name: 'Row lookups' });
  t.equal(rowMetaOf(row)?.className, 'Shelf');
  t.equal(await findRowBy(db.orm.em, Shelf, { name: 'No such shelf' }), null);
  const em = fork();
  const data = rowsToEntities(em, { shelf: row, title: 'kept' });
  t.equal(data.title, 'kept');
  t.equal(data.shelf, await findOneBy(em, Shelf, { name: 'Row lookups' }), 'the same managed entity');
  t.same(wrap(data.shelf as object).toObject(), wrap((await findOneBy(fork(), Shelf, { name: 'Row lookups' }))!).toObject());
});

t.test('generated row mappers give what MikroORM\'s result mapper gives, column set by column set', async (t) => {
  const user = await createUser(fork(), { username: 'mapped', password: 'a-long-password-1' });
  await fork().insert(Volume, { title: 'Mapped', code: 'MAP-1', shelf: 1, pages: null, createdAt: new Date('2024-02-29T12:00:00.05Z'), updatedAt: new Date() } as never);
  const driver = db.orm.em.getDriver() as unknown as MappingDriver;
  const metaOf = (entity: object) => db.orm.em.getMetadata(entity as never) as EntityMetadata;
  const cases: Array<[object, string]> = [
    [Volume, 'select * from direct_volume'],
    [Volume, 'select title, created_at, shelf_id as shelf_id, 7 as extra from direct_volume'],
    // Booleans as the database may send them (0/1), and a column named like a property.
    [Shelf, `select id, name, 1 as archived, 'x' as note from direct_shelf`],
    [Shelf, 'select id, null as archived, name as "createdAt" from direct_shelf'],
    [User, `select * from auth_user where id = ${user.id}`],
  ];
  for (const [entity, sql] of cases) {
    const meta = metaOf(entity);
    const result = await rows(sql);
    t.ok(result.length, sql);
    const map = rowMapper(driver, meta, Object.keys(result[0]!));
    t.ok(map, `generated for ${meta.className}`);
    t.equal(rowMapper(driver, meta, Object.keys(result[0]!)), map, 'made once per column set');
    for (const row of result) {
      const expected = driver.mapResult({ ...row }, meta)!;
      const mapped = map!({ ...row });
      t.strictSame(mapped, expected, sql);
      t.same(Object.keys(mapped).sort(), Object.keys(expected).sort(), 'the same own keys');
      t.equal(Object.getPrototypeOf(mapped), Object.prototype, 'a plain object, whatever the column names');
    }
  }
  // Columns named like what every object inherits stay own keys (MikroORM's mapper drops them).
  const [odd] = await rows(`select id, 'p' as "__proto__", 'c' as "constructor" from direct_shelf`);
  const oddMapped = rowMapper(driver, metaOf(Shelf), Object.keys(odd!))!({ ...odd });
  t.same(Object.entries(oddMapped), [['id', odd!['id']], ['__proto__', 'p'], ['constructor', 'c']]);
  t.equal(Object.getPrototypeOf(oddMapped), Object.prototype);

  // Dates as text or numbers, parsed as the platform parses them.
  const volume = metaOf(Volume);
  const texts = { id: 1, created_at: '2026-11-22 23:34:45.457123+00', updated_at: 1_700_000_000_000 };
  t.strictSame(rowMapper(driver, volume, Object.keys(texts))!({ ...texts }), driver.mapResult({ ...texts }, volume));

  // An entity with an embeddable keeps MikroORM's mapper, row by row.
  const reading = metaOf(Reading);
  await fork().insert(Reading, { place: { room: 'A1', floor: 2 }, at: null } as never);
  const stored = await rows('select * from direct_reading');
  t.equal(rowMapper(driver, reading, Object.keys(stored[0]!)), null, 'no generated mapper');
  t.strictSame(mapRows(driver, reading, stored.map((row) => ({ ...row }))), stored.map((row) => driver.mapResult({ ...row }, reading)));
  t.same(mapRows(driver, reading, []), [], 'no rows, nothing to map');
});
