/**
 * Read replicas on a real streaming replica: the test makes a PostgreSQL primary with initdb in a
 * temporary folder, a standby of it with pg_basebackup, and pauses the standby's replay, so a row
 * written since is on the primary only. Reads that find it ran on the primary; reads that miss it
 * ran on the replica. Where the PostgreSQL binaries cannot run, the "replica" is a second database
 * that never receives the writes, which tells the two apart just as well.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { access, chown, mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import type { MikroORM } from '@mikro-orm/core';
import pg from 'pg';
import t, { type Test } from 'tap';
import { buildApp } from '../src/library/app.ts';
import { loadConfig, migrationsPath } from '../src/library/config.ts';
import { Author, Book, entities } from '../src/library/entities.ts';
import { createToken, createUser, migrate, openDatabase, readsFromPrimary, stickToPrimary, withDatabaseName } from '../src/rest/index.ts';
import { exists, findOneBy, findRowBy } from '../src/rest/orm.ts';
import { isbn } from './helpers.ts';

const run = promisify(execFile);

t.test('DATABASE_REPLICA_URLS is a comma-separated list of URLs', async (t) => {
  t.same(loadConfig({}).replicaUrls, []);
  t.same(loadConfig({ DATABASE_REPLICA_URLS: ' postgres://a/x , postgres://b/x,' }).replicaUrls, ['postgres://a/x', 'postgres://b/x']);
});

t.test('DATABASE_POOL_SIZE sets the connections per pool (10 by default)', async (t) => {
  t.equal(loadConfig({}).poolSize, 10);
  t.equal(loadConfig({ DATABASE_POOL_SIZE: '4' }).poolSize, 4);
  for (const bad of ['0', '2.5', 'many']) t.throws(() => loadConfig({ DATABASE_POOL_SIZE: bad }), /DATABASE_POOL_SIZE must be/);
});

t.test('replicas need a PostgreSQL primary and postgres:// URLs', async (t) => {
  await t.rejects(openDatabase({ dataDir: 'memory://', entities, migrationsPath, replicaUrls: ['postgres://r/x'] }), { code: 'FASTREST_ERR_DATABASE_URL' });
  await t.rejects(openDatabase({ url: 'postgres://127.0.0.1:1/x', entities, migrationsPath, replicaUrls: ['mysql://user:secret@r/x'] }), {
    code: 'FASTREST_ERR_DATABASE_URL',
    message: /mysql:\/\/\*\*\*@r\/x/,
  });
});

/** A primary and a replica, and how to hold back and catch up the replica. */
interface Pair {
  kind: 'streaming replica' | 'second database';
  primary: string;
  replica: string;
  /** From now on, writes on the primary do not reach the replica. */
  pause(): Promise<void>;
  /** The replica has everything the primary has (streaming only). */
  catchUp?(): Promise<void>;
}

const query = async (url: string, sql: string) => {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
};

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

/** The newest installed PostgreSQL's bin folder (Debian's layout), or null. */
async function postgresBin(): Promise<string | null> {
  const versions = await readdir('/usr/lib/postgresql').catch(() => [] as string[]);
  for (const version of versions.sort((a, b) => Number(b) - Number(a))) {
    const bin = `/usr/lib/postgresql/${version}/bin`;
    if (await access(`${bin}/pg_basebackup`).then(() => true, () => false)) return bin;
  }
  return null;
}

/** A new primary cluster and a streaming standby of it, both on loopback, removed when the test ends. */
async function streamingPair(t: Test): Promise<Pair> {
  const bin = await postgresBin();
  if (!bin) throw new Error('no PostgreSQL binaries in /usr/lib/postgresql');
  const dir = await mkdtemp(join(tmpdir(), 'fastrest-replica-'));
  // initdb refuses root: run the server as the postgres user then.
  const asRoot = process.getuid?.() === 0;
  if (asRoot) await chown(dir, Number((await run('id', ['-u', 'postgres'])).stdout), Number((await run('id', ['-g', 'postgres'])).stdout));
  const sh = (command: string) => (asRoot ? run('su', ['postgres', '-c', command]) : run('sh', ['-c', command]));
  const [primaryPort, replicaPort] = [await freePort(), await freePort()];
  const options = (port: number) => `-o '-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=40 -c shared_buffers=16MB'`;
  const started: string[] = [];
  t.teardown(async () => {
    for (const data of started.reverse()) await sh(`${bin}/pg_ctl -D ${data} -m immediate stop`).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  });
  await sh(`${bin}/initdb -D ${dir}/primary -U postgres -A trust --no-sync -E UTF8 >/dev/null`);
  await sh(`${bin}/pg_ctl -D ${dir}/primary -l ${dir}/primary.log ${options(primaryPort)} -w start >/dev/null`);
  started.push(`${dir}/primary`);
  await sh(`${bin}/pg_basebackup -h 127.0.0.1 -p ${primaryPort} -U postgres -D ${dir}/replica -R -X stream`);
  await sh(`${bin}/pg_ctl -D ${dir}/replica -l ${dir}/replica.log ${options(replicaPort)} -w start >/dev/null`);
  started.push(`${dir}/replica`);
  const server = (port: number) => `postgres://postgres@127.0.0.1:${port}/postgres`;
  await query(server(primaryPort), 'create database library');
  const primary = withDatabaseName(server(primaryPort), 'library');
  const replica = withDatabaseName(server(replicaPort), 'library');
  const catchUp = async () => {
    const [{ lsn }] = await query(primary, 'select pg_current_wal_lsn()::text as lsn');
    for (let i = 0; i < 400; i++) {
      const [row] = await query(replica, `select pg_last_wal_replay_lsn() >= '${lsn}'::pg_lsn as done`).catch(() => [{ done: false }]);
      if (row.done) return;
      await sleep(25);
    }
    throw new Error('the replica did not catch up');
  };
  return {
    kind: 'streaming replica',
    primary,
    replica,
    pause: async () => void (await query(replica, 'select pg_wal_replay_pause()')),
    catchUp: async () => {
      await query(replica, 'select pg_wal_replay_resume()');
      await catchUp();
    },
  };
}

/** Two databases on DATABASE_URL's server: the "replica" is migrated too but never gets the primary's writes. */
async function databasePair(t: Test): Promise<Pair> {
  const server = process.env['DATABASE_URL']!;
  const suffix = `${process.pid}_${randomBytes(4).toString('hex')}`;
  const names = [`fastrest_test_primary_${suffix}`, `fastrest_test_replica_${suffix}`];
  for (const name of names) await query(server, `create database "${name}"`);
  t.teardown(async () => {
    for (const name of names) await query(server, `drop database if exists "${name}" with (force)`);
  });
  return { kind: 'second database', primary: withDatabaseName(server, names[0]!), replica: withDatabaseName(server, names[1]!), pause: async () => {} };
}

const skip = process.env['DATABASE_URL'] ? false : 'DATABASE_URL is not set: replicas are a PostgreSQL feature';

t.test('reads go to the replica, and a request that wrote reads from the primary', { skip }, async (t) => {
  let pair: Pair;
  try {
    pair = await streamingPair(t);
  } catch (error) {
    t.comment(`no streaming replica here (${(error as Error).message.split('\n')[0]}): a second database stands in for it`);
    pair = await databasePair(t);
  }
  t.comment(`replica: ${pair.kind}`);
  // The schema and a user with a token, on both (replicated, or migrated on each).
  const setup = await openDatabase({ url: pair.primary, entities, migrationsPath });
  await migrate(setup);
  const user = await createUser(setup.em.fork(), { username: 'writer', password: 'correct-horse-battery' });
  const { key } = await createToken(setup.em.fork(), user);
  await setup.close(true);
  if (pair.kind === 'second database') {
    // What replication would have copied: the schema, the user and the token.
    const replica = await openDatabase({ url: pair.replica, entities, migrationsPath });
    await migrate(replica);
    await replica.close(true);
    for (const table of ['auth_user', 'authtoken_token']) {
      for (const row of await query(pair.primary, `select * from ${table}`)) {
        const columns = Object.keys(row);
        const client = new pg.Client({ connectionString: pair.replica });
        await client.connect();
        await client.query(`insert into ${table} (${columns.join(', ')}) values (${columns.map((_, i) => `$${i + 1}`).join(', ')})`, Object.values(row));
        await client.end();
      }
    }
  }
  await pair.catchUp?.();

  const orm: MikroORM = await openDatabase({ url: pair.primary, replicaUrls: [pair.replica], entities, migrationsPath, poolSize: 4 });
  t.teardown(() => orm.close(true));
  t.equal((await orm.driver.getConnection('read').getNativeClient() as pg.Pool).options.max, 4, 'each replica gets a pool of poolSize connections');
  t.equal((await orm.driver.getConnection('write').getNativeClient() as pg.Pool).options.max, 4, 'and so does the primary');
  await pair.pause();
  const name = `Only on the primary ${randomBytes(3).toString('hex')}`;

  t.test('the ORM: a fork reads from the replica until it writes, then from the primary', async (t) => {
    const writer = orm.em.fork();
    t.notOk(readsFromPrimary(writer));
    writer.create(Author, { name });
    await writer.flush();
    t.ok(readsFromPrimary(writer), 'a flush sticks the fork to the primary');
    t.equal(await writer.count(Author, { name }), 1, 'the fork that wrote reads its write (primary)');
    t.ok(await writer.findOne(Author, { name }, { disableIdentityMap: true }));
    const reader = orm.em.fork();
    t.equal(await reader.count(Author, { name }), 0, 'a fresh fork reads from the replica, where the row is not');
    t.equal(await reader.findOne(Author, { name }), null);
    t.equal(await reader.transactional((em) => em.count(Author, { name })), 1, 'a transaction runs on the primary');
    const explicit = orm.em.fork();
    t.equal(await explicit.count(Author, { name }, { connectionType: 'write' }), 1, 'connectionType: write still asks the primary');
  });

  t.test("fastrest's direct reads use the replica too, and the primary once the EntityManager wrote", async (t) => {
    const reader = orm.em.fork();
    t.equal(await findOneBy(reader, Author, { name }), null, 'findOneBy: replica');
    t.equal(await findRowBy(reader, Author, { name }), null, 'findRowBy: replica');
    t.equal(await exists(reader, Author, { name }), false, 'exists: replica');
    t.equal(await findRowBy(orm.em, Author, { name }), null, "the app's own EntityManager: replica");
    stickToPrimary(reader);
    t.equal(((await findOneBy(reader, Author, { name })) as { name: string } | null)?.name, name, 'findOneBy after a write: primary');
    t.equal(await exists(reader, Author, { name }), true, 'exists after a write: primary');
    // The direct reads ran as fastrest's named statements on the replica's own pool, not through the ORM.
    const replicaPool = (await orm.driver.getConnection('read').getNativeClient()) as pg.Pool;
    const { rows } = await replicaPool.query(`select name from pg_prepared_statements where name like 'fastrest\\_%'`);
    t.ok(rows.length > 0, `named statements on the replica (${rows.length})`);
  });

  t.test('over the API: a book created is not read back until the replica has it', async (t) => {
    const app = await buildApp(orm);
    t.teardown(() => app.close());
    const authorization = `Token ${key}`;
    const created = await app.inject({ method: 'POST', url: '/api/books/', headers: { authorization }, payload: { title: 'Lagging', author: name, isbn: isbn(Math.floor(Math.random() * 1e8)) } });
    t.equal(created.statusCode, 201, 'the write goes to the primary (the token is read from the replica)');
    const { id } = created.json() as { id: number };
    t.equal((await app.inject({ url: `/api/books/${id}/` })).statusCode, 404, 'the retrieve reads the replica (direct path)');
    const list = (await app.inject({ url: '/api/books/' })).json() as { count: number; results: unknown[] };
    t.same(list.results, [], 'the list reads the replica');
    if (pair.catchUp) {
      await pair.catchUp();
      t.equal((await app.inject({ url: `/api/books/${id}/` })).statusCode, 200, 'once replayed, the replica has it');
    }
    const orm2 = await openDatabase({ url: pair.primary, entities, migrationsPath });
    t.teardown(() => orm2.close(true));
    t.equal(await orm2.em.fork().count(Book, { id }), 1, 'the primary had it all along');
  });
});
