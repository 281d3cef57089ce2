import { defineEntity, p, type EntityManager } from '@mikro-orm/core';
import t from 'tap';
import { migrationsPath } from '../src/library/config.ts';
import { createTestDatabase } from '../src/rest/index.ts';
import { CompiledQueries, CompiledQuery, executePrepared, numberedPlaceholders, runStatement, slot } from '../src/rest/orm/statements.ts';

/** A table with a timestamp, so rows show the ORM's own value mapping. */
const Note = defineEntity({
  name: 'Note',
  tableName: 'statements_note',
  properties: {
    id: p.integer().primary().autoincrement(),
    body: p.string().length(100),
    pinned: p.boolean().default(false),
    writtenAt: p.datetime(),
  },
});

type QB = { select(f: string[]): QB; where(c: object): QB; andWhere(c: object): QB; orderBy(o: object): QB; limit(n: number): QB; execute(m: string): Promise<any> };
const qbOf = (em: EntityManager) => (em as unknown as { createQueryBuilder(e: unknown): QB }).createQueryBuilder(Note);

t.test('placeholders are numbered outside quotes; SQL that is not plain is refused', async (t) => {
  t.equal(numberedPlaceholders('select * from "a?" where x = ? and y = \'?\' and z in (?, ?)'), 'select * from "a?" where x = $1 and y = \'?\' and z in ($2, $3)');
  t.equal(numberedPlaceholders('select ?? from t'), null, 'an identifier placeholder');
  t.equal(numberedPlaceholders('select $1'), null, 'a dollar sign outside quotes');
  t.equal(numberedPlaceholders("select 'open"), null, 'an unclosed quote');
});

t.test('prepared statements answer what the ORM answers, on this database', async (t) => {
  const db = await createTestDatabase({ entities: [Note], migrationsPath, migrate: false });
  t.teardown(() => db.drop());
  await db.orm.schema.create();
  const em = db.orm.em.fork();
  const writtenAt = new Date('2024-05-06T07:08:09.123Z');
  em.create(Note, { body: 'first', writtenAt });
  em.create(Note, { body: "it's second", pinned: true, writtenAt });
  await em.flush();

  const build = () => qbOf(db.orm.em.fork()).select(['id', 'body', 'pinned', 'writtenAt']).orderBy({ id: 'asc' });
  const expected = await build().execute('all');
  t.same(await executePrepared(db.orm, build() as never), expected, 'rows mapped to properties, dates as Date');
  t.same(await executePrepared(db.orm, build() as never), expected, 'and again, with the statement already prepared');
  t.ok(expected[0].writtenAt instanceof Date);

  const byBody = await executePrepared(db.orm, qbOf(em).select(['id']).where({ body: "it's second", writtenAt }) as never);
  t.same(byBody, [{ id: 2 }], 'strings with quotes and dates as values');

  const compiled = CompiledQuery.compile(qbOf(em).select(['id', 'body']).where({ id: slot(0) }).limit(1) as never, 1);
  t.ok(compiled, 'a slot that is a parameter compiles');
  t.same(await compiled!.run(db.orm, [2]), [{ id: 2, body: "it's second" }]);
  t.same(await compiled!.run(db.orm, [1]), [{ id: 1, body: 'first' }], 'the same statement with another value');
  t.same(await compiled!.run(db.orm, [99]), [], 'no row');
  t.equal(CompiledQuery.compile(qbOf(em).select(['id']).where({ id: 1 }) as never, 1), null, 'a slot that is not in the query does not compile');

  if (db.driver === 'postgresql') {
    const [prepared] = await runStatement(db.orm, "select count(*)::int as n from pg_prepared_statements where name like 'fastrest\\_%'", []);
    t.ok((prepared as { n: number }).n >= 1, 'on PostgreSQL they are named statements of the pool');
  }
  t.same(await runStatement(em, 'select count(*)::int as n from statements_note where pinned = ?', [true]), [{ n: 1 }], 'an EntityManager serves as well');
  await em.transactional(async (tx) => {
    tx.create(Note, { body: 'uncommitted', writtenAt });
    await tx.flush();
    const inside = await runStatement(tx, 'select count(*)::int as n from statements_note', []);
    t.same(inside, [{ n: 3 }], 'inside a transaction, statements see its writes');
  });

  if (db.driver === 'postgresql') {
    const sql = 'select id from statements_note where written_at = ? and id > ? order by id';
    const expected = await qbOf(db.orm.em.fork()).select(['id']).where({ writtenAt }).orderBy({ id: 'asc' }).execute('all');
    t.same(await runStatement(db.orm, sql, [writtenAt, 0]), expected, 'a date sent as the ORM inlines it');
    const [named] = await runStatement(db.orm, "select count(*)::int as n from pg_prepared_statements where statement like '%written_at = $1 and id > $2%'", []);
    t.ok((named as { n: number }).n >= 1, 'so statements with dates are prepared too');
  }
  const error = await runStatement(db.orm, 'insert into statements_note (body, pinned, written_at) values (?, ?, ?) returning id', [null, false, writtenAt]).catch((e: Error) => e);
  t.equal((error as Error).constructor.name, 'NotNullConstraintViolationException', "database errors come back as the ORM's exceptions");
});

t.test('compiled queries are built once per key, and past their bound not at all', async (t) => {
  const db = await createTestDatabase({ entities: [Note], migrationsPath, migrate: false });
  t.teardown(() => db.drop());
  const queries = new CompiledQueries(2);
  let builds = 0;
  const build = () => {
    builds++;
    return qbOf(db.orm.em.fork()).select(['id']).where({ id: slot(0) }) as never;
  };
  const first = queries.get('by-id', build, 1);
  t.ok(first instanceof CompiledQuery);
  t.equal(queries.get('by-id', build, 1), first, 'the same key answers the same query');
  t.equal(builds, 1, 'built once');
  t.equal(queries.get('no-slot', () => qbOf(db.orm.em.fork()).select(['id']) as never, 1), null, 'a query whose slot is missing does not compile, and that is remembered');
  t.equal(queries.get('third', build, 1), undefined, 'past the bound: no room');
  t.equal(builds, 1, 'and nothing was built for it');
});
