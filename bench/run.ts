/**
 * `npm run bench`: the Library's list, retrieve and create against two servers written by hand on
 * Fastify + pg, in the same run, on a fresh PostgreSQL database holding 10,000 books:
 *   raw      (bench/raw-server.ts) the same work as the Library (token check, author by name, ISBN pre-check);
 *   minimal  (bench/raw-server.ts, MINIMAL=1) issue 20's baseline: create checks no token and makes one
 *            statement (author found or added in it, the unique index refusing a taken ISBN).
 * Each server runs in its own process on loopback; wrk (autocannon when wrk is not installed) loads
 * one at a time, at each connection level, the order of the servers rotated every round, and the
 * tables give the medians, the ratios, p99 latency, and each server's footprint: start-up to the
 * first 200 (migrations already applied), idle RSS, RSS after the loads, CPU per request.
 * Bounded in time, stops by itself, drops its database. See docs/performance.md.
 *
 * Environment (all optional):
 *   BENCH_DATABASE_URL  server to create the database on (default DATABASE_URL, else postgres://postgres@127.0.0.1:5432/postgres)
 *   BENCH_ROUNDS        measured runs per server, endpoint and connection level (default 3)
 *   BENCH_DURATION      seconds per run (default 3)
 *   BENCH_WARMUP        warm-up seconds per server and endpoint, at the first connection level (default 5;
 *                       fastrest's throughput climbs for about 8 s after it starts, so lengthen it for steady figures);
 *                       later levels warm up for a third of it
 *   BENCH_CONNECTIONS   comma-separated connection levels (default 10,50)
 *   BENCH_ONLY          comma-separated endpoints to run (list,retrieve,create)
 *   BENCH_SERVERS       comma-separated baselines beside fastrest (default raw,minimal)
 *   BENCH_LOADER        wrk or autocannon (default wrk when it is on the PATH)
 *   BENCH_PROFILE       a folder: run the servers under `node --cpu-prof`, profiles in <folder>/<server>
 *   BENCH_OUT           a file to write the Markdown report to
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import pg from 'pg';
import { migrationsPath } from '../src/library/config.ts';
import { entities } from '../src/library/entities.ts';
import { migrate, openDatabase, withDatabaseName } from 'fastrest';

const env = process.env;
const serverUrl = env['BENCH_DATABASE_URL'] || env['DATABASE_URL'] || 'postgres://postgres@127.0.0.1:5432/postgres';
const rounds = positive('BENCH_ROUNDS', 3);
const duration = positive('BENCH_DURATION', 3);
const warmup = positive('BENCH_WARMUP', 5);
const levels = (env['BENCH_CONNECTIONS'] || '10,50').split(',').map((level) => {
  const value = Number(level);
  if (!Number.isInteger(value) || value <= 0) throw new Error('BENCH_CONNECTIONS must be positive whole numbers, comma-separated');
  return value;
});
const BOOKS = 10_000;
const PAGE = 20;
const endpoints = ['retrieve', 'list', 'create'] as const;
type Endpoint = (typeof endpoints)[number];
const only = (env['BENCH_ONLY'] ?? '').split(',').filter(Boolean) as Endpoint[];
const selected = endpoints.filter((e) => !only.length || only.includes(e));
type ServerName = 'raw' | 'minimal' | 'fastrest';
const baselines = (env['BENCH_SERVERS'] || 'raw,minimal').split(',').filter((name): name is 'raw' | 'minimal' => name === 'raw' || name === 'minimal');
/** The issue's target: fastrest at 0.9x the minimal handler (the raw server's work is closer to the Library's). */
const TARGET = 0.9;
const loader = env['BENCH_LOADER'] || (spawnSync('wrk', ['-v']).error ? 'autocannon' : 'wrk');
const started = Date.now();
const warmupAt = (level: number) => (level === levels[0] ? warmup : Math.max(1, Math.round(warmup / 3)));
/** The run gives up by itself past this: setup and start-ups, then every load with half again as margin. */
const DEADLINE_MS =
  (90 + 1.5 * selected.length * (baselines.length + 1) * levels.reduce((sum, level) => sum + warmupAt(level) + rounds * duration, 0)) * 1000;

function positive(name: string, fallback: number): number {
  const value = Number(env[name] ?? fallback);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number`);
  return value;
}

const log = (message: string) => console.error(`[bench ${((Date.now() - started) / 1000).toFixed(0).padStart(3)}s] ${message}`);

/** A valid ISBN-13 from a stem (the same scheme as test/helpers.ts). */
function isbn(stem: number): string {
  const digits = String(978_000_000_000 + stem).padStart(12, '0');
  let sum = 0;
  for (let i = 0; i < 12; i++) sum += Number(digits[i]) * (i % 2 === 0 ? 1 : 3);
  return `${digits}${(10 - (sum % 10)) % 10}`;
}

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

const AUTHORS = 500;
/** The key of the token the create requests authenticate with (TokenAuthentication). */
const tokenKey = randomBytes(20).toString('hex');

/** Applies the Library's migrations, adds a member with a token, the authors and the books (in batches of 1,000). */
async function prepare(url: string): Promise<void> {
  const orm = await openDatabase({ url, entities, migrationsPath });
  try {
    await migrate(orm);
  } finally {
    await orm.close(true);
  }
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const user = await client.query(`insert into auth_user (username, password, date_joined) values ('bench', '!', now()) returning id`);
    await client.query('insert into authtoken_token (key_hash, prefix, user_id, created) values ($1, $2, $3, now())', [
      createHash('sha256').update(tokenKey).digest('hex'),
      tokenKey.slice(0, 8),
      user.rows[0].id,
    ]);
    await client.query(`insert into library_author (name) select 'Author ' || n from generate_series(1, ${AUTHORS}) as n`);
    for (let start = 1; start <= BOOKS; start += 1000) {
      const ids = Array.from({ length: Math.min(1000, BOOKS - start + 1) }, (_, i) => start + i);
      await client.query(
        `insert into library_book (title, subtitle, author_id, isbn, created_at, updated_at)
         select t, s, a, i, now(), now() from unnest($1::text[], $2::text[], $3::int[], $4::text[]) as u(t, s, a, i)`,
        [ids.map((n) => `Book number ${n}`), ids.map((n) => (n % 3 ? `Volume ${n % 7}` : '')), ids.map((n) => 1 + (n % AUTHORS)), ids.map(isbn)],
      );
    }
    await client.query('analyze');
  } finally {
    await client.end();
  }
}

interface Server {
  name: ServerName;
  url: string;
  child: ChildProcess;
  /** From spawning the process to the first 200 of GET /api/books/1/, in ms. */
  startupMs: number;
  /** CPU time the process used up to that first 200, in ms. */
  startupCpuMs: number;
  /** Resident memory 2 s after that first 200, in bytes. */
  idleRss: number;
}

/** VmRSS and VmHWM (its peak) of a process, in bytes; NaN where /proc is absent. */
async function rssOf(pid: number | undefined): Promise<{ rss: number; peak: number }> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN) * 1024;
    return { rss: kib('VmRSS'), peak: kib('VmHWM') };
  } catch {
    return { rss: Number.NaN, peak: Number.NaN };
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Starts a server script in its own process, waits for its `listening <port>` line and its first 200, then 2 s of idling. */
async function startServer(name: ServerName, script: string, extraEnv: Record<string, string>, nodeArgs: string[] = []): Promise<Server> {
  const spawned = performance.now();
  const child = spawn(process.execPath, [...nodeArgs, fileURLToPath(new URL(script, import.meta.url))], {
    // No anonymous or per-user throttles (the Library's default): every request is served.
    env: { ...env, NODE_ENV: 'production', PORT: '0', HOST: '127.0.0.1', THROTTLE_ANON: '', THROTTLE_USER: '', REDIS_URL: '', ...extraEnv },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} server did not start within 30 s`)), 30_000);
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk;
      const match = /listening (\d+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve(`http://127.0.0.1:${match[1]}`);
      }
    });
    child.on('exit', (code) => reject(new Error(`${name} server exited with ${code} before listening`)));
  });
  while ((await fetch(`${url}/api/books/1/`).then((res) => res.status, () => 0)) !== 200) {
    if (performance.now() - spawned > 30_000) throw new Error(`${name} server gave no 200 within 30 s`);
    await sleep(5);
  }
  const startupMs = performance.now() - spawned;
  const startupCpuMs = (await cpuOf(child.pid)) / 1000;
  await sleep(2000);
  return { name, url, child, startupMs, startupCpuMs, idleRss: (await rssOf(child.pid)).rss };
}

async function stopServer(server: Server | undefined): Promise<void> {
  if (!server || server.child.exitCode !== null) return;
  const exited = new Promise((resolve) => server.child.once('exit', resolve));
  server.child.kill('SIGTERM');
  const timer = setTimeout(() => server.child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/** The JSON answer of one request, with the server's origin replaced so two servers compare. */
async function answer(server: Server, path: string, init?: RequestInit) {
  const res = await fetch(server.url + path, init);
  const text = (await res.text()).replaceAll(server.url, 'ORIGIN');
  return { status: res.status, body: text ? JSON.parse(text) : null, location: res.headers.get('location')?.replace(server.url, 'ORIGIN') };
}

/** Whether the list of the Library answers `?limit=` with a page (LimitOffsetPagination) or with every row. */
async function listMode(library: Server): Promise<'page' | 'all'> {
  const res = await answer(library, `/api/books/?limit=${PAGE}`);
  return res.body && !Array.isArray(res.body) && Array.isArray(res.body.results) ? 'page' : 'all';
}

let createStem = 5_000_000;
const bookBody = () => JSON.stringify({ title: 'A benchmark book', subtitle: 'Measured', author: `Author ${1 + (createStem % AUTHORS)}`, isbn: isbn(createStem++) });
const createHeaders = () => ({ 'content-type': 'application/json', authorization: `Token ${tokenKey}` });

/** The request of one endpoint, varied per request (random ids and offsets, unique ISBNs). */
function requestOf(endpoint: Endpoint, mode: 'page' | 'all'): autocannon.Request {
  const random = (n: number) => Math.floor(Math.random() * n);
  switch (endpoint) {
    case 'retrieve':
      return { method: 'GET', setupRequest: (req) => ({ ...req, path: `/api/books/${1 + random(BOOKS)}/` }) };
    case 'list':
      return mode === 'page'
        ? { method: 'GET', setupRequest: (req) => ({ ...req, path: `/api/books/?limit=${PAGE}&offset=${random(BOOKS - PAGE)}` }) }
        : { method: 'GET', path: '/api/books/' };
    case 'create':
      return {
        method: 'POST',
        path: '/api/books/',
        headers: createHeaders(),
        setupRequest: (req) => ({ ...req, body: bookBody() }),
      };
  }
}

/** Each baseline must answer the same statuses and JSON as the Library for the same requests, or the comparison is void. */
async function checkSameAnswers(raw: Server, library: Server, mode: 'page' | 'all'): Promise<void> {
  const paths = ['/api/books/1/', `/api/books/${BOOKS}/`, '/api/books/999999/', ...(mode === 'page' ? [`/api/books/?limit=${PAGE}&offset=40`, `/api/books/?limit=${PAGE}`] : [])];
  for (const path of paths) {
    const [a, b] = await Promise.all([answer(raw, path), answer(library, path)]);
    if (a.status !== b.status || JSON.stringify(a.body) !== JSON.stringify(b.body)) {
      throw new Error(`GET ${path} differs:\n ${raw.name.padEnd(8)} ${a.status} ${JSON.stringify(a.body).slice(0, 400)}\n fastrest ${b.status} ${JSON.stringify(b.body).slice(0, 400)}`);
    }
  }
  const post = (server: Server, body: string) => answer(server, '/api/books/', { method: 'POST', headers: createHeaders(), body });
  const [createdA, createdB] = [await post(raw, bookBody()), await post(library, bookBody())];
  const shape = (r: Awaited<ReturnType<typeof answer>>) =>
    JSON.stringify([r.status, Object.keys(r.body ?? {}), r.body?.title, r.body?.subtitle, typeof r.body?.author, Object.keys(r.body?.authorDetail ?? {}), r.location?.replace(/\d+\/$/, 'ID/')]);
  if (shape(createdA) !== shape(createdB)) throw new Error(`POST /api/books/ differs:\n ${raw.name.padEnd(8)} ${shape(createdA)}\n fastrest ${shape(createdB)}`);
  const duplicate = JSON.stringify({ title: 'Again', author: 'Someone', isbn: createdA.body.isbn });
  const [dupA, dupB] = [await post(raw, duplicate), await post(library, duplicate)];
  if (dupA.status !== dupB.status || JSON.stringify(dupA.body) !== JSON.stringify(dupB.body)) {
    throw new Error(`POST of a taken ISBN differs: ${raw.name} ${dupA.status} ${JSON.stringify(dupA.body)}, fastrest ${dupB.status} ${JSON.stringify(dupB.body)}`);
  }
}

interface Sample {
  rps: number;
  p99: number;
  failures: number;
  /** CPU time per request, in microseconds, of the server process and of PostgreSQL (Linux only, else NaN). */
  serverCpu: number;
  databaseCpu: number;
}

const TICK_US = 1e6 / 100; // USER_HZ is 100 on Linux

/** utime + stime of one process, in microseconds; NaN where /proc is absent. */
async function cpuOf(pid: number | undefined): Promise<number> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_US;
  } catch {
    return Number.NaN;
  }
}

/** CPU time of each PostgreSQL process on this machine by pid, in microseconds (empty where /proc is absent). */
async function postgresCpu(): Promise<Map<string, number>> {
  const byPid = new Map<string, number>();
  try {
    for (const pid of await readdir('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
      if (!stat.includes('(postgres)')) continue;
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      byPid.set(pid, (Number(fields[11]) + Number(fields[12])) * TICK_US);
    }
  } catch {
    // No /proc: no figure.
  }
  return byPid;
}

/**
 * PostgreSQL's CPU time between two readings: processes alive at the end count from their first
 * reading (or from zero when they started since); processes that exited meanwhile (autovacuum
 * workers) are left out, so the figure never goes negative. NaN without /proc.
 */
function postgresCpuSince(before: Map<string, number>, after: Map<string, number>): number {
  if (!after.size) return Number.NaN;
  let total = 0;
  for (const [pid, cpu] of after) total += cpu - (before.get(pid) ?? 0);
  return total;
}

/** The first ISBN stem of the next wrk run: each run (and each of its threads) gets a range of its own. */
let wrkStem = 20_000_000;

/** One wrk run (bench/wrk.lua prints its figures as a JSON line). */
function runWrk(server: Server, endpoint: Endpoint, mode: 'page' | 'all', seconds: number, connections: number) {
  const script = fileURLToPath(new URL('./wrk.lua', import.meta.url));
  const args = ['-t', String(Math.min(2, connections)), '-c', String(connections), '-d', `${seconds}s`, '--timeout', '10s', '-s', script, server.url];
  args.push('--', endpoint, String(BOOKS), String(mode === 'page' ? PAGE : 0), String(wrkStem), tokenKey);
  wrkStem += 10_000_000;
  return new Promise<{ total: number; seconds: number; p99: number; failures: number }>((resolve, reject) => {
    const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk));
    child.on('error', reject);
    child.on('exit', (code) => {
      const line = out.trim().split('\n').at(-1) ?? '';
      if (code !== 0 || !line.startsWith('{')) return reject(new Error(`wrk exited with ${code}: ${out}`));
      const r = JSON.parse(line) as { requests: number; duration_us: number; errors: number; non2xx: number; p99_us: number };
      resolve({ total: r.requests, seconds: r.duration_us / 1e6, p99: r.p99_us / 1000, failures: r.errors + r.non2xx });
    });
  });
}

async function load(server: Server, endpoint: Endpoint, mode: 'page' | 'all', seconds: number, connections: number): Promise<Sample> {
  const [server0, database0] = [await cpuOf(server.child.pid), await postgresCpu()];
  let result: { total: number; seconds: number; p99: number; failures: number };
  if (loader === 'wrk') result = await runWrk(server, endpoint, mode, seconds, connections);
  else {
    const r = await autocannon({ url: server.url, connections, duration: seconds, requests: [requestOf(endpoint, mode)] });
    result = { total: r.requests.total, seconds: r.duration, p99: r.latency.p99, failures: r.errors + r.non2xx };
  }
  const [server1, database1] = [await cpuOf(server.child.pid), await postgresCpu()];
  const total = Math.max(1, result.total);
  return {
    rps: result.total / result.seconds,
    p99: result.p99,
    failures: result.failures,
    serverCpu: (server1 - server0) / total,
    databaseCpu: postgresCpuSince(database0, database1) / total,
  };
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

const MiB = (bytes: number) => (bytes / 2 ** 20).toFixed(0);

async function main(): Promise<number> {
  const name = `fastrest_bench_${process.pid}_${randomBytes(3).toString('hex')}`;
  const url = withDatabaseName(serverUrl, name);
  const servers: Server[] = [];
  let created = false;
  const deadline = setTimeout(() => {
    log(`still running after ${DEADLINE_MS / 1000} s: stopping`);
    void cleanup().finally(() => process.exit(1));
  }, DEADLINE_MS);
  async function cleanup() {
    await Promise.all(servers.map(stopServer));
    if (created) await admin(`drop database if exists "${name}" with (force)`).catch((error) => log(`could not drop ${name}: ${error}`));
    created = false;
    // The migrator leaves a schema snapshot named after the database beside the migrations.
    await rm(`${migrationsPath}/.snapshot-${name}.json`, { force: true });
  }
  process.once('SIGINT', () => void cleanup().finally(() => process.exit(130)));
  try {
    log(`creating ${name} with ${BOOKS.toLocaleString('en')} books`);
    await admin(`create database "${name}"`);
    created = true;
    await prepare(url);
    const profile = env['BENCH_PROFILE'];
    const profiled = (server: ServerName) => (profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}/${server}`] : []);
    // One at a time, so the start-up figures are not of servers competing with each other.
    const library = await startServer('fastrest', './library-server.ts', { DATABASE_URL: url }, profiled('fastrest'));
    servers.push(library);
    const mode = await listMode(library);
    for (const baseline of baselines) {
      const server = await startServer(baseline, './raw-server.ts', { DATABASE_URL: url, LIST: mode, MINIMAL: baseline === 'minimal' ? '1' : '' }, profiled(baseline));
      servers.unshift(server);
      await checkSameAnswers(server, library, mode);
    }
    const listMeaning = mode === 'page' ? `one page: GET /api/books/?limit=${PAGE}&offset=<random> (count + page)` : `every row: GET /api/books/ (${BOOKS.toLocaleString('en')} books, unpaginated)`;
    log(`same answers from ${servers.map((s) => s.name).join(', ')}; list = ${listMeaning}`);

    log(`${loader}: ${rounds} x ${duration} s per server, endpoint and level (${levels.join(', ')} connections), after ${warmup} s of warm-up`);
    const samples = new Map<string, Sample[]>();
    for (const endpoint of selected) {
      for (const connections of levels) {
        // Warmed right before its rounds: the other endpoints' loads in between would leave it colder.
        for (const server of servers) await load(server, endpoint, mode, warmupAt(connections), connections);
        for (let round = 0; round < rounds; round++) {
          // Rotated every round, so drift hits every server alike.
          const order = servers.map((_, i) => servers[(i + round) % servers.length]!);
          for (const server of order) {
            const sample = await load(server, endpoint, mode, duration, connections);
            const key = `${connections}/${endpoint}/${server.name}`;
            samples.set(key, [...(samples.get(key) ?? []), sample]);
            log(
              `c${String(connections).padEnd(3)} ${endpoint.padEnd(8)} ${server.name.padEnd(8)} ${sample.rps.toFixed(0).padStart(6)} req/s  p99 ${sample.p99.toFixed(1).padStart(5)} ms  ` +
                `CPU/request: server ${sample.serverCpu.toFixed(0)} µs, PostgreSQL ${sample.databaseCpu.toFixed(0)} µs${sample.failures ? `  ${sample.failures} failures` : ''}`,
            );
          }
        }
      }
    }
    const afterLoad = new Map<ServerName, { rss: number; peak: number }>();
    for (const server of servers) afterLoad.set(server.name, await rssOf(server.child.pid));

    const names = servers.map((s) => s.name);
    const of = (connections: number, endpoint: Endpoint, server: ServerName) => samples.get(`${connections}/${endpoint}/${server}`) ?? [];
    const med = (list: Sample[], pick: (s: Sample) => number) => median(list.map(pick));
    const rows: string[] = [];
    let failures = 0;
    for (const connections of levels) {
      for (const endpoint of selected) {
        const rps = names.map((n) => med(of(connections, endpoint, n), (s) => s.rps));
        const fast = rps[names.indexOf('fastrest')]!;
        const ratios = baselines.map((b) => {
          const ratio = fast / rps[names.indexOf(b)]!;
          return `${ratio.toFixed(2)}x${b === 'minimal' && ratio < TARGET ? ' (missed)' : ''}`;
        });
        const p99 = names.map((n) => med(of(connections, endpoint, n), (s) => s.p99).toFixed(1));
        const cpu = names.map((n) => `${med(of(connections, endpoint, n), (s) => s.serverCpu).toFixed(0)} + ${med(of(connections, endpoint, n), (s) => s.databaseCpu).toFixed(0)}`);
        failures += names.reduce((sum, n) => sum + of(connections, endpoint, n).reduce((f, s) => f + s.failures, 0), 0);
        rows.push(`| ${connections} | ${endpoint} | ${rps.map((r) => r.toFixed(0)).join(' | ')} | ${ratios.join(' | ')} | ${p99.join(' / ')} | ${cpu.join(' / ')} |`);
      }
    }
    const cpu = cpus()[0]?.model ?? 'unknown CPU';
    const footprint = servers.map((server) => {
      const after = afterLoad.get(server.name)!;
      return `| ${server.name} | ${server.startupMs.toFixed(0)} | ${server.startupCpuMs.toFixed(0)} | ${MiB(server.idleRss)} | ${MiB(after.rss)} | ${MiB(after.peak)} | ${(after.rss / server.idleRss).toFixed(2)}x |`;
    });
    const loadSeconds = selected.length * levels.reduce((sum, level) => sum + warmupAt(level) + rounds * duration, 0);
    const lines = [
      `Node ${process.version}, ${availableParallelism()} cores (${cpu.trim()}), load average ${(await readFile('/proc/loadavg', 'utf8').catch(() => '?')).split(' ').slice(0, 3).join(' ')} at the end, PostgreSQL at ${new URL(serverUrl).host}, ${BOOKS.toLocaleString('en')} books.`,
      `${loader}: ${rounds} runs of ${duration} s per server, endpoint and connection level (after ${warmup} s of warm-up at ${levels[0]} connections, ${warmupAt(levels.at(-1)!)} s at the others), medians.`,
      `list = ${listMeaning}; retrieve = GET /api/books/<random id>/; create = POST /api/books/ (a unique valid ISBN each). Target: fastrest >= ${TARGET}x minimal.`,
      '',
      `| connections | endpoint | ${names.map((n) => `${n} req/s`).join(' | ')} | ${baselines.map((b) => `fastrest / ${b}`).join(' | ')} | p99 ms (${names.join(' / ')}) | CPU µs/req, server + PG (${names.join(' / ')}) |`,
      `| ---: | --- | ${names.map(() => '---:').join(' | ')} | ${baselines.map(() => '---:').join(' | ')} | ---: | ---: |`,
      ...rows,
      '',
      `Footprint (PostgreSQL, migrations applied; RSS after load: at the end of about ${loadSeconds} s of load on each server):`,
      '',
      '| server | start-up to first 200 ms | CPU ms to first 200 | idle RSS MiB | RSS after load MiB | peak RSS MiB | after load / idle |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
      ...footprint,
    ];
    if (failures) lines.push('', `WARNING: ${failures} requests failed (errors or non-2xx answers): the figures are not comparable.`);
    const report = lines.join('\n');
    console.log(report);
    if (env['BENCH_OUT']) await writeFile(env['BENCH_OUT'], `${report}\n`);
    return failures ? 1 : 0;
  } finally {
    clearTimeout(deadline);
    await cleanup();
    log('done: servers stopped, database dropped');
  }
}

process.exitCode = await main().catch((error: Error) => {
  console.error(error.stack ?? error.message);
  return 1;
});
