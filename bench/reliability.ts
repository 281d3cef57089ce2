/**
 * `npm run reliability`: the Library under load through faults, as a table. The real server
 * (bench/library-server.ts, the app `npm start` builds) runs in its own process on a fresh
 * PostgreSQL database, reaching PostgreSQL and Redis through fault proxies (FaultProxy from
 * fastrest/testing). Phases: steady load (reads, creates, concurrent PATCH increments without
 * If-Match), a PostgreSQL outage, a Redis outage, then SIGTERM under load. Afterwards every
 * acknowledged write is checked against the database. Bounded in time, drops its database.
 * See docs/reliability.md.
 *
 * Environment (all optional):
 *   BENCH_DATABASE_URL  server to create the database on (default DATABASE_URL, else postgres://postgres@127.0.0.1:5432/postgres)
 *   REDIS_URL           the Redis the throttles use (default redis://127.0.0.1:6379)
 *   RELIABILITY_LOAD    seconds of steady load (default 5)
 *   RELIABILITY_OUTAGE  seconds each outage lasts (default 3)
 *   BENCH_OUT           a file to write the Markdown report to
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import http from 'node:http';
import { availableParallelism } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import pg from 'pg';
import { migrationsPath } from '../src/library/config.ts';
import { entities } from '../src/library/entities.ts';
import { migrate, openDatabase, withDatabaseName } from 'fastrest';
import { FaultProxy } from 'fastrest/testing';

const env = process.env;
const serverUrl = env['BENCH_DATABASE_URL'] || env['DATABASE_URL'] || 'postgres://postgres@127.0.0.1:5432/postgres';
const redisUrl = env['REDIS_URL'] || 'redis://127.0.0.1:6379';
const loadSeconds = Number(env['RELIABILITY_LOAD'] ?? 5);
const outageSeconds = Number(env['RELIABILITY_OUTAGE'] ?? 3);
const WORKERS = 12;
const COUNTERS = 4;
const DEADLINE_MS = (90 + loadSeconds * 2 + outageSeconds * 4) * 1000;
const started = Date.now();
const log = (message: string) => console.error(`[reliability ${((Date.now() - started) / 1000).toFixed(0).padStart(3)}s] ${message}`);

function isbn(stem: number): string {
  const digits = String(978_000_000_000 + stem).padStart(12, '0');
  let sum = 0;
  for (let i = 0; i < 12; i++) sum += Number(digits[i]) * (i % 2 === 0 ? 1 : 3);
  return `${digits}${(10 - (sum % 10)) % 10}`;
}

async function sql<T = any>(url: string, text: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text, params)).rows;
  } finally {
    await client.end();
  }
}

const tokenKey = randomBytes(20).toString('hex');

async function prepare(url: string): Promise<void> {
  const orm = await openDatabase({ url, entities, migrationsPath });
  try {
    await migrate(orm);
  } finally {
    await orm.close(true);
  }
  const [user] = await sql(url, `insert into auth_user (username, password, date_joined) values ('reliability', '!', now()) returning id`);
  await sql(url, 'insert into authtoken_token (key_hash, prefix, user_id, created) values ($1, $2, $3, now())', [createHash('sha256').update(tokenKey).digest('hex'), tokenKey.slice(0, 8), user.id]);
  await sql(url, `insert into library_author (name) values ('Counter')`);
  await sql(url, `insert into library_book (title, subtitle, author_id, isbn, created_at, updated_at) select 'Counter ' || n, '0', 1, ($1::text[])[n], now(), now() from generate_series(1, ${COUNTERS}) as n`, [
    Array.from({ length: COUNTERS }, (_, i) => isbn(900_000 + i)),
  ]);
}

interface Result {
  phase: string;
  started: number;
  ended: number;
  method: string;
  status: number | string;
  body?: any;
}

let serverErrors = '';
const agent = new http.Agent({ keepAlive: true, maxSockets: WORKERS + 4 });
let base = '';
const results: Result[] = [];
let phase = 'load';

function request(method: string, path: string, body?: unknown): Promise<Result> {
  return new Promise((resolve) => {
    const began = Date.now();
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const headers: Record<string, string> = { authorization: `Token ${tokenKey}` };
    if (payload) Object.assign(headers, { 'content-type': 'application/json', 'content-length': String(payload.length) });
    const finish = (status: number | string, text?: string) => {
      let parsed: unknown;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        parsed = text;
      }
      const result = { phase, started: began, ended: Date.now(), method, status, body: parsed };
      results.push(result);
      resolve(result);
    };
    const req = http.request(`${base}${path}`, { method, agent, headers, timeout: 15_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => finish(res.statusCode!, text));
      res.on('error', (error: NodeJS.ErrnoException) => finish(error.code ?? error.message));
    });
    req.on('timeout', () => req.destroy(new Error('ETIMEDOUT_CLIENT')));
    req.on('error', (error: NodeJS.ErrnoException) => finish(error.code ?? error.message));
    req.end(payload);
  });
}

let stem = 1;
/** Acknowledged creates: isbn -> title; and increments acknowledged per counter book. */
const created = new Map<string, string>();
const increments = new Map<number, number>();

/** One worker's request: mostly reads, some creates, some read-then-PATCH increments of a counter book. */
async function step(worker: number): Promise<void> {
  const roll = Math.random();
  if (roll < 0.5) {
    await request('GET', roll < 0.25 ? '/api/books/?limit=20' : `/api/books/${1 + Math.floor(Math.random() * COUNTERS)}/`);
  } else if (roll < 0.75) {
    const book = { title: `Reliability ${stem}`, author: 'Counter', isbn: isbn(stem++) };
    const res = await request('POST', '/api/books/', book);
    if (res.status === 201) created.set(book.isbn, book.title);
  } else {
    const id = 1 + (worker % COUNTERS);
    const read = await request('GET', `/api/books/${id}/`);
    if (read.status !== 200) return;
    const res = await request('PATCH', `/api/books/${id}/`, { subtitle: String(Number(read.body.subtitle) + 1) });
    if (res.status === 200) increments.set(id, (increments.get(id) ?? 0) + 1);
  }
}

let running = true;
async function worker(n: number): Promise<void> {
  while (running) {
    await step(n);
    const last = results.at(-1);
    if (last && typeof last.status === 'string') await sleep(20);
  }
}

function startServer(extraEnv: Record<string, string>): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [fileURLToPath(new URL('./library-server.ts', import.meta.url))], {
    env: { ...env, NODE_ENV: 'production', PORT: '0', HOST: '127.0.0.1', THROTTLE_USER: '', SHUTDOWN_GRACE: '5000', ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stderr!.on('data', (chunk: Buffer) => void (serverErrors += chunk));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the server did not start within 30 s')), 30_000);
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk;
      const match = /listening (\d+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve({ child, url: `http://127.0.0.1:${match[1]}` });
      }
    });
    child.on('exit', (code) => reject(new Error(`the server exited with ${code} before listening`)));
  });
}

/** Milliseconds until `check` passes, polling every 10 ms (NaN past 20 s). */
async function until(check: () => Promise<boolean>): Promise<number> {
  const from = Date.now();
  while (Date.now() - from < 20_000) {
    if (await check()) return Date.now() - from;
    await sleep(10);
  }
  return Number.NaN;
}

const histogram = (rows: Result[]) => {
  const counts = new Map<string, number>();
  for (const r of rows) counts.set(String(r.status), (counts.get(String(r.status)) ?? 0) + 1);
  return [...counts].sort().map(([status, n]) => `${status}: ${n}`).join(', ') || 'none';
};

async function main(): Promise<number> {
  const name = `fastrest_reliability_${process.pid}_${randomBytes(3).toString('hex')}`;
  const url = withDatabaseName(serverUrl, name);
  let server: ChildProcess | undefined;
  const pgProxy = FaultProxy.forUrl(serverUrl, 5432);
  const redisProxy = FaultProxy.forUrl(redisUrl, 6379);
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  const prefix = `library:`;
  let createdDb = false;
  const cleanup = async () => {
    running = false;
    if (server && server.exitCode === null) server.kill('SIGKILL');
    agent.destroy();
    await pgProxy.close();
    await redisProxy.close();
    redis.disconnect();
    if (createdDb) await sql(serverUrl, `drop database if exists "${name}" with (force)`).catch((error) => log(`could not drop ${name}: ${error}`));
    createdDb = false;
  };
  const deadline = setTimeout(() => {
    log(`still running after ${DEADLINE_MS / 1000} s: stopping`);
    void cleanup().finally(() => process.exit(1));
  }, DEADLINE_MS);
  try {
    log(`creating ${name}`);
    await sql(serverUrl, `create database "${name}"`);
    createdDb = true;
    await prepare(url);
    await pgProxy.start();
    await redisProxy.start();
    // The throttle store is in use (anonymous rate high enough never to refuse); the member's requests use
    // the `user` scope, left off, so the rate limits the anonymous probe only.
    const started_ = await startServer({ DATABASE_URL: pgProxy.url(url), REDIS_URL: redisProxy.url(redisUrl), THROTTLE_ANON: '1000000/min' });
    server = started_.child;
    base = started_.url;
    const exited = new Promise<number | null>((resolve) => server!.once('exit', (code) => resolve(code)));
    const workers = Array.from({ length: WORKERS }, (_, i) => worker(i));
    const anonProbe = () => new Promise<number>((resolve) => http.get(`${base}/api/books/1/`, (res) => (res.resume(), resolve(res.statusCode!))).on('error', () => resolve(0)));

    log(`steady load: ${WORKERS} workers for ${loadSeconds} s`);
    await sleep(loadSeconds * 1000);

    log(`PostgreSQL outage: ${outageSeconds} s`);
    phase = 'pg-outage';
    pgProxy.cut('refuse');
    await sleep(outageSeconds * 1000);
    phase = 'pg-recovery';
    pgProxy.restore();
    const restoredAt = Date.now();
    const pgRecovery = await until(async () => (await request('GET', '/ready')).status === 200 && (await request('GET', '/api/books/?limit=1')).status === 200);
    const firstOk = results.find((r) => r.started >= restoredAt && r.status !== 503 && typeof r.status === 'number' && r.method !== 'HEAD');
    phase = 'load';
    await sleep(1000);

    log(`Redis outage: ${outageSeconds} s`);
    phase = 'redis-outage';
    redisProxy.cut('refuse');
    const redisProbes: number[] = [];
    for (const end = Date.now() + outageSeconds * 1000; Date.now() < end; ) {
      redisProbes.push(await anonProbe());
      await sleep(50);
    }
    phase = 'redis-recovery';
    redisProxy.restore();
    const key = `${prefix}throttle_anon_127.0.0.1`;
    const redisRecovery = await until(async () => {
      const before = await redis.zcard(key);
      await anonProbe();
      return (await redis.zcard(key)) > before;
    });
    phase = 'load';
    await sleep(1000);

    log('SIGTERM under load');
    phase = 'sigterm';
    const signalledAt = Date.now();
    server.kill('SIGTERM');
    const code = await exited;
    const exitMs = Date.now() - signalledAt;
    running = false;
    await Promise.all(workers);

    log('checking the data');
    const rows = await sql<{ isbn: string; title: string; id: number; subtitle: string }>(url, 'select id, isbn, title, subtitle from library_book');
    const byIsbn = new Map(rows.map((r) => [r.isbn, r]));
    const lost = [...created].filter(([i]) => !byIsbn.has(i)).length;
    const changed = [...created].filter(([i, title]) => byIsbn.has(i) && byIsbn.get(i)!.title !== title).length;
    const unacknowledged = rows.filter((r) => r.title.startsWith('Reliability ') && !created.has(r.isbn)).length;
    let lostUpdates = 0;
    let acknowledged = 0;
    for (let id = 1; id <= COUNTERS; id++) {
      const value = Number(rows.find((r) => r.id === id)!.subtitle);
      acknowledged += increments.get(id) ?? 0;
      lostUpdates += (increments.get(id) ?? 0) - value;
    }
    const sent = results.length;
    const fiveXx = results.filter((r) => typeof r.status === 'number' && r.status >= 500);
    const outage = results.filter((r) => r.phase === 'pg-outage');
    const inFlight = results.filter((r) => r.started < signalledAt && r.phase === 'sigterm');
    const inFlightFailures = inFlight.filter((r) => typeof r.status !== 'number' || r.status >= 500).length;
    const afterSignal = results.filter((r) => r.started >= signalledAt);
    const outsideOutages = fiveXx.filter((r) => !['pg-outage', 'pg-recovery'].includes(r.phase));
    const slowest = Math.max(0, ...outage.map((r) => r.ended - r.started));

    const lines = [
      `Node ${process.version}, ${availableParallelism()} cores, PostgreSQL at ${new URL(serverUrl).host}, Redis at ${new URL(redisUrl).host}; ${WORKERS} workers (keep-alive), ` +
        `${loadSeconds} s of steady load, outages of ${outageSeconds} s (connections reset, new ones refused).`,
      '',
      '| measure | value |',
      '| --- | --- |',
      `| requests sent | ${sent} |`,
      `| 5xx answers (all phases) | ${fiveXx.length} (${histogram(fiveXx)}) |`,
      `| 5xx outside the PostgreSQL outage | ${outsideOutages.length} |`,
      `| acknowledged creates / rows lost / rows changed | ${created.size} / ${lost} / ${changed} |`,
      `| rows written but not acknowledged (partial writes) | ${unacknowledged} |`,
      `| concurrent PATCH increments acknowledged / lost updates (no If-Match) | ${acknowledged} / ${lostUpdates} |`,
      `| PostgreSQL outage: answers | ${histogram(outage)} |`,
      `| PostgreSQL outage: slowest answer | ${slowest} ms |`,
      `| PostgreSQL back: recovery (until /ready and a list answer 200) | ${pgRecovery} ms (first non-503 answer ${firstOk ? firstOk.started - restoredAt : 'n/a'} ms after) |`,
      `| Redis outage: anonymous answers | ${histogram(redisProbes.map((status) => ({ status }) as Result))} |`,
      `| Redis back: recovery (until the throttle writes to Redis again) | ${redisRecovery} ms |`,
      `| SIGTERM: requests in flight / failed | ${inFlight.length} / ${inFlightFailures} |`,
      `| SIGTERM: requests started after the signal | ${histogram(afterSignal)} |`,
      `| SIGTERM: exit code / time to exit | ${code} / ${exitMs} ms |`,
    ];
    if (code !== 0) lines.push('', `The server exited ${code}; its stderr:`, '', ...serverErrors.trim().split('\n').slice(-10).map((line) => `    ${line.slice(0, 300)}`));
    const report = lines.join('\n');
    console.log(report);
    if (env['BENCH_OUT']) await writeFile(env['BENCH_OUT'], `${report}\n`);
    return outsideOutages.length || lost || changed || unacknowledged || inFlightFailures || code !== 0 ? 1 : 0;
  } finally {
    clearTimeout(deadline);
    await cleanup();
    log('done: server stopped, database dropped');
  }
}

process.exitCode = await main().catch((error: Error) => {
  console.error(error.stack ?? error.message);
  return 1;
});
