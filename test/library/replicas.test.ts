/**
 * Two replicas of the Library: two real `node src/library/main.ts` processes on two ports, one
 * fresh PostgreSQL database and the machine's Redis. Whatever one replica does (a session, a
 * token, a throttle count, the migrations at start), the other sees, over real HTTP.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readdir } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import pg from 'pg';
import t, { type Test } from 'tap';
import { migrationsPath } from '../../src/library/config.ts';
import { entities } from '../../src/library/entities.ts';
import { sampleBooks } from '../../src/library/seed.ts';
import { createTestDatabase, createUser, RedisThrottleStore } from '../../src/rest/index.ts';
import { csrfFromHtml } from '../auth-helpers.ts';
import { isbn } from '../helpers.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const redisUrl = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const PASSWORD = 'correct-horse-battery-staple';

async function redisOrNull(): Promise<Redis | null> {
  const client = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null, connectTimeout: 1000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.ping();
    return client;
  } catch {
    client.disconnect();
    return null;
  }
}

const probe = await redisOrNull();
probe?.disconnect();
const skip = !process.env['DATABASE_URL']
  ? 'DATABASE_URL is not set: replicas share a PostgreSQL server'
  : !probe
    ? `Redis is not reachable at ${redisUrl}: start redis-server to run this test (.ci/run does)`
    : false;

/** One replica: `node src/library/main.ts` on a port the kernel picks, its output kept. */
class Replica {
  readonly child: ChildProcess;
  base = '';
  output = '';
  readonly exited: Promise<unknown>;

  constructor(env: Record<string, string>) {
    const { DATABASE_URL: _, DATA_DIR: __, ...inherited } = process.env;
    this.child = spawn(process.execPath, ['src/library/main.ts'], {
      cwd: root,
      env: { ...inherited, NODE_ENV: 'production', HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const read = (chunk: Buffer) => {
      this.output += chunk;
      this.base ||= /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(this.output)?.[1] ?? '';
    };
    this.child.stdout!.on('data', read);
    this.child.stderr!.on('data', read);
    this.exited = once(this.child, 'exit');
  }

  /** Resolves once `/ready` answers 200; rejects with the output if the process exits first. */
  async ready(): Promise<void> {
    let exited = false;
    void this.exited.then(() => (exited = true));
    for (const deadline = Date.now() + 120_000; Date.now() < deadline; await sleep(50)) {
      if (exited) throw new Error(`a replica exited while starting:\n${this.output}`);
      if (!this.base) continue;
      const ok = await fetch(`${this.base}/ready`).then((r) => r.ok, () => false);
      if (ok) return;
    }
    throw new Error(`a replica did not get ready:\n${this.output}`);
  }

  /** The JSON log lines whose message matches. */
  logged(pattern: RegExp): string[] {
    return this.output.split('\n').filter((line) => pattern.test(line));
  }
}

async function startReplicas(t: Test, env: Record<string, string>, whileStarting: () => Promise<void> = async () => {}): Promise<Replica[]> {
  const replicas = [new Replica(env), new Replica(env)];
  t.teardown(async () => {
    for (const replica of replicas) {
      if (replica.child.exitCode === null && replica.child.signalCode === null) {
        replica.child.kill('SIGTERM');
        await replica.exited;
      }
    }
  });
  const ready = Promise.all(replicas.map((r) => r.ready()));
  await whileStarting();
  await ready;
  return replicas;
}

/** The `name=value` pairs of a response's Set-Cookie headers. */
function cookiesOf(res: Response): Record<string, string> {
  return Object.fromEntries(res.headers.getSetCookie().map((c) => c.split(';')[0]!.split(/=(.*)/s).slice(0, 2) as [string, string]));
}
const cookieHeader = (jar: Record<string, string>) =>
  Object.entries(jar)
    .map(([k, v]) => `${k}=${v}`)
    .join('; ');
const newBook = () => JSON.stringify({ title: 'Replicated', author: 'Two Processes', isbn: isbn(Math.floor(Math.random() * 1e8)) });

t.test('two replicas on one PostgreSQL database and one Redis', { skip }, async (t) => {
  const db = await createTestDatabase({ entities, migrationsPath, migrate: false });
  t.teardown(() => db.drop());
  const prefix = `fastrest-test:replicas:${process.pid}:${randomBytes(4).toString('hex')}:`;
  const redis = (await redisOrNull())!;
  t.teardown(async () => {
    await new RedisThrottleStore({ client: redis, prefix }).clear();
    await redis.quit();
  });
  // Both start on a database without tables, and both want to migrate and seed. The test holds
  // the replicas' start-up lock until both wait for it, then lets them go at the same instant.
  const holder = new pg.Client({ connectionString: db.url! });
  await holder.connect();
  t.teardown(() => holder.end());
  await holder.query(`select pg_advisory_lock(hashtext('library:start'))`);
  let waiting = 0;
  const waitForBoth = async () => {
    for (const deadline = Date.now() + 60_000; Date.now() < deadline && waiting < 2; await sleep(50)) {
      const { rows } = await holder.query(`select count(*)::int as n from pg_locks where locktype = 'advisory' and not granted and database = (select oid from pg_database where datname = current_database())`);
      waiting = rows[0].n;
    }
    await holder.query(`select pg_advisory_unlock(hashtext('library:start'))`);
  };
  const [a, b] = await startReplicas(t, {
    DATABASE_URL: db.url!,
    REDIS_URL: redisUrl,
    REDIS_PREFIX: prefix,
    SECRET_KEY: randomBytes(36).toString('base64'),
    THROTTLE_ANON: '20/min',
    // One pooled connection: the start-up locks live on connections of their own, the migrations get the pool.
    DATABASE_POOL_SIZE: '1',
    MIGRATE_ON_START: 'true',
    SEED: 'true',
  }, waitForBoth);
  t.not(a!.base, b!.base, 'the replicas listen on two ports');
  t.equal(waiting, 2, 'both replicas waited for the start-up lock at once');

  t.test('the migrations run once when both start together', async (t) => {
    const files = (await readdir(migrationsPath)).filter((f) => /^Migration\d+\.ts$/.test(f));
    const applied = [a!, b!].map((r: Replica) => r.logged(/"msg":"Applied migrations: /).length);
    const none = [a!, b!].map((r: Replica) => r.logged(/"msg":"No migrations to apply"/).length);
    t.same(applied.toSorted(), [0, 1], 'one replica applied the migrations');
    t.same(none.toSorted(), [0, 1], 'the other found none pending');
    const rows = await db.orm.em.getConnection().execute<{ name: string }[]>('select name from mikro_orm_migrations order by id');
    t.equal(rows.length, files.length, 'each migration is recorded once');
    t.equal(new Set(rows.map((r: { name: string }) => r.name)).size, files.length);
    const [{ count }] = await db.orm.em.getConnection().execute<{ count: string }[]>('select count(*) from library_book');
    t.equal(Number(count), sampleBooks.length, 'the sample books are seeded once');
  });

  // Anonymous API requests, from here on, count against THROTTLE_ANON: this test comes first.
  t.test('the anonymous rate holds across both: 20/min allows exactly 20 requests in total', async (t) => {
    const statuses: number[][] = [[], []];
    for (let i = 0; i < 30; i++) {
      const replica = i % 2 ? b! : a!;
      statuses[i % 2]!.push((await fetch(`${replica.base}/api/books/`)).status);
    }
    const all = statuses.flat();
    t.equal(all.filter((s) => s === 200).length, 20, '20 answered');
    t.equal(all.filter((s) => s === 429).length, 10, 'the rest throttled');
    t.ok(statuses.every((list) => list.includes(200) && list.includes(429)), 'each replica answered and throttled some');
  });

  await createUser(db.orm.em.fork(), { username: 'reader', password: PASSWORD });

  t.test('a session opened on one replica authenticates on the other', async (t) => {
    const page = await fetch(`${a!.base}/api-auth/login/`);
    const jar = cookiesOf(page);
    const form = new URLSearchParams({ username: 'reader', password: PASSWORD, next: '/api/', csrfmiddlewaretoken: csrfFromHtml(await page.text()) });
    const login = await fetch(`${a!.base}/api-auth/login/`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: cookieHeader(jar) },
      body: form,
    });
    t.equal(login.status, 302, 'logged in on the first replica');
    Object.assign(jar, cookiesOf(login));
    t.ok(jar['sessionid'], 'a session cookie');
    // The CSRF secret cookie the first replica signed at log-in gives the second replica's page its token.
    const csrf = csrfFromHtml(await (await fetch(`${b!.base}/api-auth/login/`, { headers: { cookie: cookieHeader(jar) } })).text());
    const created = await fetch(`${b!.base}/api/books/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie: cookieHeader(jar), 'x-csrftoken': csrf },
      body: newBook(),
    });
    t.equal(created.status, 201, 'a session-authenticated write (CSRF checked) on the second replica');
    const anonymous = await fetch(`${b!.base}/api/books/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: newBook() });
    t.equal(anonymous.status, 403, 'without the cookie the second replica refuses it');
  });

  t.test('a token made on one replica authenticates on the other, and revoking it there ends it on both', async (t) => {
    const made = await fetch(`${a!.base}/api/auth/token/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'reader', password: PASSWORD }),
    });
    t.equal(made.status, 200);
    const { token } = (await made.json()) as { token: string };
    const authorization = `Token ${token}`;
    const created = await fetch(`${b!.base}/api/books/`, { method: 'POST', headers: { 'content-type': 'application/json', authorization }, body: newBook() });
    t.equal(created.status, 201, 'the second replica accepts the token');
    t.equal((await fetch(`${b!.base}/api/auth/token/`, { method: 'DELETE', headers: { authorization } })).status, 204, 'revoked on the second');
    const after = await fetch(`${a!.base}/api/books/`, { method: 'POST', headers: { 'content-type': 'application/json', authorization }, body: newBook() });
    // 403, not 401: the first authentication class (session) sends no WWW-Authenticate, as in DRF.
    t.same({ status: after.status, body: await after.json() }, { status: 403, body: { detail: 'Invalid token.' } }, 'the first replica no longer accepts it');
  });
});
