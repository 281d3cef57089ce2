/**
 * Outages for real: a FaultProxy (fastrest/testing) sits between the Library and PostgreSQL or
 * Redis and is cut and restored; SIGTERM is sent to the real server process (node src/library/main.ts)
 * while it is under load.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import t, { type Test } from 'tap';
import { buildApp } from '../../src/library/app.ts';
import { migrationsPath } from '../../src/library/config.ts';
import { entities } from '../../src/library/entities.ts';
import { APIClient, atomic, createTestDatabase, createUser, FaultProxy, openDatabase } from '../../src/rest/index.ts';
import { isbn } from '../helpers.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const serverUrl = process.env['DATABASE_URL'];
const redisUrl = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';

/** Polls `check` every 20 ms until it passes; returns the milliseconds it took (fails past `limit`). */
async function within(limit: number, check: () => Promise<boolean>): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < limit) {
    if (await check()) return Date.now() - started;
    await sleep(20);
  }
  throw new Error(`not within ${limit} ms`);
}

/** A Library on a fresh PostgreSQL database reached through a fault proxy, with a member to write as. */
async function libraryBehindProxy(t: Test) {
  const db = await createTestDatabase({ entities, migrationsPath, serverUrl });
  const proxy = await FaultProxy.forUrl(db.url!, 5432).start();
  const orm = await openDatabase({ url: proxy.url(db.url!), entities, migrationsPath });
  const logs: string[] = [];
  const app = await buildApp(orm, { logger: { level: 'warn', stream: { write: (line: string) => void logs.push(line) } } });
  t.teardown(async () => {
    proxy.restore();
    await app.close();
    await proxy.close();
    await db.drop();
  });
  const member = await createUser(db.orm.em.fork(), { username: 'member', password: 'correct-horse-battery-staple' });
  const client = await new APIClient(app).forceAuthenticate(member);
  return { db, proxy, app, client, logs };
}

const noPostgres = serverUrl ? false : 'DATABASE_URL is not set: the outage needs PostgreSQL over TCP';

t.test('while PostgreSQL is unreachable the API answers 503 with Retry-After, and recovers by itself', { skip: noPostgres }, async (t) => {
  const { db, proxy, client, logs } = await libraryBehindProxy(t);
  const count = async () => Number((await db.orm.em.fork().getConnection().execute('select count(*) as n from library_book'))[0].n);
  const created = await client.post('/api/books/', { title: 'Before the outage', author: 'Someone', isbn: isbn(1) });
  t.equal(created.statusCode, 201);
  const before = await count();

  for (const mode of ['refuse', 'hang'] as const) {
    await t.test(`a cut that ${mode === 'refuse' ? 'refuses connections' : 'leaves connections hanging'} gives 503, never 500 nor a hang`, async (t) => {
      proxy.cut(mode);
      for (const [method, url, body] of [
        ['GET', '/api/books/', undefined],
        ['GET', `/api/books/${created.data.id}/`, undefined],
        ['POST', '/api/books/', { title: 'During the outage', author: 'Nobody', isbn: isbn(2) }],
        ['PATCH', `/api/books/${created.data.id}/`, { title: 'Changed during the outage' }],
      ] as const) {
        const started = Date.now();
        const res = await client.request(method, url, body);
        t.equal(res.statusCode, 503, `${method} ${url}`);
        t.equal(res.headers['retry-after'], '2');
        t.same(res.data, { detail: 'Service temporarily unavailable, try again later.' });
        t.ok(Date.now() - started < 3500, `answered within the 2 s connect timeout (${Date.now() - started} ms)`);
      }
      const ready = await client.get('/ready');
      t.equal(ready.statusCode, 503);
      t.same(ready.data, { status: 'unavailable', database: 'unavailable' });
      t.equal((await client.get('/health')).statusCode, 200, 'the process lives on');
      t.notMatch(logs.join(''), /"level":50/, 'nothing logged as an unhandled error');

      proxy.restore();
      const took = await within(2000, async () => (await client.get('/api/books/')).statusCode === 200);
      t.pass(`the API answers again ${took} ms after the database is back`);
      t.equal((await client.get('/ready')).statusCode, 200);
      t.equal(await count(), before, 'no write of the outage reached the database');
      const book = await client.get(`/api/books/${created.data.id}/`);
      t.equal(book.data.title, 'Before the outage');
    });
  }

  await t.test('writes work again after the outages', async (t) => {
    const again = await client.post('/api/books/', { title: 'After the outage', author: 'Someone', isbn: isbn(3) });
    t.equal(again.statusCode, 201);
    t.equal(await count(), before + 1);
  });
});

async function redisAnswers(): Promise<boolean> {
  const probe = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null, connectTimeout: 1000 });
  probe.on('error', () => {});
  try {
    await probe.connect();
    return (await probe.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

t.test('a transaction whose connection is cut gives its pool slot back, so the pool neither shrinks nor blocks closing', { skip: noPostgres }, async (t) => {
  const db = await createTestDatabase({ entities, migrationsPath, serverUrl });
  const proxy = await FaultProxy.forUrl(db.url!, 5432).start();
  // One connection: a slot kept by a dead transaction would leave none for the query after it.
  const orm = await openDatabase({ url: proxy.url(db.url!), entities, migrationsPath, poolSize: 1 });
  t.teardown(async () => {
    proxy.restore();
    await proxy.close();
    await db.drop();
  });
  const cutMidway = async (fail: boolean) => {
    const em = orm.em.fork();
    return atomic(em, async () => {
      await em.getConnection().execute('select 1', [], 'all', em.getTransactionContext());
      proxy.cut('refuse');
      await sleep(50);
      if (fail) throw new Error('the work failed');
      return 'done';
    });
  };
  await t.rejects(cutMidway(true), /the work failed/, 'the work fails, then its ROLLBACK on the cut connection');
  proxy.restore();
  t.same(await orm.em.fork().getConnection().execute('select 1 as one'), [{ one: 1 }], 'the one slot serves the next query');
  await t.rejects(cutMidway(false), 'the COMMIT on the cut connection fails');
  proxy.restore();
  t.same(await orm.em.fork().getConnection().execute('select 2 as two'), [{ two: 2 }], 'and again after a failed COMMIT');
  const closed = await Promise.race([orm.close(true).then(() => 'closed'), sleep(3000).then(() => 'still closing after 3 s')]);
  t.equal(closed, 'closed', 'the pool closes: no client is left checked out');
});

t.test('while Redis is unreachable the throttles fail open with a warning, and throttle again once it is back', { skip: (await redisAnswers()) ? false : `Redis is not reachable at ${redisUrl}` }, async (t) => {
  const proxy = await FaultProxy.forUrl(redisUrl, 6379).start();
  const saved = { REDIS_URL: process.env['REDIS_URL'], THROTTLE_ANON: process.env['THROTTLE_ANON'] };
  process.env['REDIS_URL'] = proxy.url(redisUrl);
  process.env['THROTTLE_ANON'] = '3/min';
  const db = await createTestDatabase({ entities, migrationsPath });
  const logs: string[] = [];
  const app = await buildApp(db.orm, { logger: { level: 'warn', stream: { write: (line: string) => void logs.push(line) } } });
  Object.assign(process.env, saved);
  for (const [key, value] of Object.entries(saved)) if (value === undefined) delete process.env[key];
  t.teardown(async () => {
    await app.close();
    await proxy.close();
    await db.drop();
  });
  const warn = console.warn;
  console.warn = () => {};
  t.teardown(() => void (console.warn = warn));
  // A fresh address per phase, so the history of one phase does not count in the next.
  const get = (ip: string) => app.inject({ method: 'GET', url: '/api/books/', remoteAddress: ip });
  await within(2000, async () => (await app.inject({ method: 'GET', url: '/health' })).statusCode === 200 && (await get('10.0.0.1')).statusCode === 200);
  const statuses = async (ip: string, n: number) => {
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push((await get(ip)).statusCode);
    return out;
  };
  t.ok((await statuses('10.0.0.2', 5)).includes(429), 'Redis up: the fourth request in a minute is throttled');

  proxy.cut('refuse');
  const during = await statuses('10.0.0.3', 6);
  t.same(during, [200, 200, 200, 200, 200, 200], 'Redis down: every request is served (fail open)');
  t.match(logs.join(''), /throttle store unavailable: request allowed without throttling/);
  t.notMatch(logs.join(''), /"level":50/, 'no error logged');

  proxy.cut('hang');
  const started = Date.now();
  t.equal((await get('10.0.0.4')).statusCode, 200, 'a Redis that does not answer: served too');
  t.ok(Date.now() - started < 1500, `within the store timeout (${Date.now() - started} ms)`);

  proxy.restore();
  const took = await within(3000, async () => (await statuses(`10.0.1.${Math.floor(Math.random() * 250)}`, 4)).includes(429));
  t.pass(`throttling again ${took} ms after Redis is back`);
});

t.test('SIGTERM under load: requests in flight finish, later ones are refused or get 503, the process exits within the grace period', async (t) => {
  const db = serverUrl ? await createTestDatabase({ entities, migrationsPath, migrate: false, serverUrl }) : null;
  if (db) await db.orm.close(true);
  t.teardown(async () => {
    if (db) await db.drop();
  });
  const { DATABASE_URL: _, DATA_DIR: __, ...inherited } = process.env;
  const child = spawn(process.execPath, ['src/library/main.ts'], {
    cwd: root,
    env: { ...inherited, NODE_ENV: 'production', HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', SHUTDOWN_GRACE: '5000', ...(db ? { DATABASE_URL: db.url! } : { DATA_DIR: 'memory://' }) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.teardown(() => void (child.exitCode === null && child.kill('SIGKILL')));
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = once(child, 'exit');
  let base = '';
  await within(120_000, async () => {
    base ||= /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1] ?? '';
    return Boolean(base) && (await fetch(`${base}/ready`).then((r) => r.status === 200, () => false));
  });

  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  t.teardown(() => agent.destroy());
  let signalledAt = Infinity;
  const results: { started: number; status: number | string }[] = [];
  const one = () =>
    new Promise<void>((resolve) => {
      const started = Date.now();
      const req = http.get(`${base}/api/books/`, { agent }, (res) => {
        res.resume();
        res.on('end', () => (results.push({ started, status: res.statusCode! }), resolve()));
      });
      req.on('error', (error: NodeJS.ErrnoException) => (results.push({ started, status: error.code ?? error.message }), resolve()));
    });
  const loop = async () => {
    while (child.exitCode === null && Date.now() < signalledAt + 3000) {
      await one();
      if (results.at(-1)!.status === 'ECONNREFUSED') await sleep(10);
    }
  };
  // Schemas compile on a route's first request: that one is made before the load, which is about the stop.
  await one();
  const loops = Array.from({ length: 16 }, loop);
  await sleep(1000);
  signalledAt = Date.now();
  child.kill('SIGTERM');
  const [code] = await exited;
  const exitTook = Date.now() - signalledAt;
  await Promise.all(loops);

  const inFlight = results.filter((r) => r.started < signalledAt - 100);
  const after = results.filter((r) => r.started > signalledAt);
  t.ok(inFlight.length > 50, `load before the signal (${inFlight.length} requests)`);
  t.same(inFlight.filter((r) => r.status !== 200), [], 'every request sent before SIGTERM was answered 200');
  t.same(results.filter((r) => typeof r.status === 'number' && r.status >= 500 && r.status !== 503), [], 'no 5xx but 503');
  t.ok(after.every((r) => r.status === 503 || r.status === 200 || typeof r.status === 'string'), 'later requests: 503, refused, or served before the close');
  t.equal(code, 0, 'a clean exit');
  t.ok(exitTook < 5000, `exited ${exitTook} ms after SIGTERM, within the 5 s grace`);
  t.match(output, /"grace":5000/, 'SHUTDOWN_GRACE sets the grace period');
});
