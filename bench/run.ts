/**
 * `npm run bench`: the Library's list, retrieve and create against a minimal raw Fastify + pg
 * server (bench/raw-server.ts) doing the same work, in the same run, on a fresh PostgreSQL
 * database holding 10,000 books. Each server runs in its own process on loopback; autocannon
 * loads one at a time, alternating raw/fastrest (the order swapped every round, A B B A ...),
 * and the table gives the medians and the fastrest/raw ratios. Bounded in time, stops by itself,
 * drops its database. See docs/performance.md.
 *
 * Environment (all optional):
 *   BENCH_DATABASE_URL  server to create the database on (default DATABASE_URL, else postgres://postgres@127.0.0.1:5432/postgres)
 *   BENCH_ROUNDS        measured runs per server and endpoint (default 5)
 *   BENCH_DURATION      seconds per run (default 4)
 *   BENCH_WARMUP        warm-up seconds per server and endpoint (default 10: fastrest's throughput climbs for about
 *                       8 s after it starts while V8 optimises its code, the raw server's for about 4 s)
 *   BENCH_CONNECTIONS   concurrent connections (default 10, the size of both pools)
 *   BENCH_ONLY          comma-separated endpoints to run (list,retrieve,create)
 *   BENCH_PROFILE       a folder: run both servers under `node --cpu-prof`, profiles in <folder>/fastrest and <folder>/raw
 *   BENCH_OUT           a file to write the Markdown report to
 */
import { spawn, type ChildProcess } from 'node:child_process';
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
const rounds = positive('BENCH_ROUNDS', 5);
const duration = positive('BENCH_DURATION', 4);
const warmup = positive('BENCH_WARMUP', 10);
const connections = positive('BENCH_CONNECTIONS', 10);
const BOOKS = 10_000;
const PAGE = 20;
const endpoints = ['retrieve', 'list', 'create'] as const;
type Endpoint = (typeof endpoints)[number];
const only = (env['BENCH_ONLY'] ?? '').split(',').filter(Boolean) as Endpoint[];
const selected = endpoints.filter((e) => !only.length || only.includes(e));
const targets: Record<Endpoint, number> = { retrieve: 0.85, list: 0.85, create: 0.8 };
const started = Date.now();
/** The run gives up by itself past this: setup, then every load with half again as margin. */
const DEADLINE_MS = (60 + 1.5 * selected.length * 2 * (warmup + rounds * duration)) * 1000;

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
  name: 'raw' | 'fastrest';
  url: string;
  child: ChildProcess;
}

/** Starts a server script in its own process and waits for its `listening <port>` line. */
function startServer(name: Server['name'], script: string, extraEnv: Record<string, string>, nodeArgs: string[] = []): Promise<Server> {
  const child = spawn(process.execPath, [...nodeArgs, fileURLToPath(new URL(script, import.meta.url))], {
    // No anonymous or per-user throttles (the Library's default): every request is served.
    env: { ...env, NODE_ENV: 'production', PORT: '0', HOST: '127.0.0.1', THROTTLE_ANON: '', THROTTLE_USER: '', REDIS_URL: '', ...extraEnv },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} server did not start within 30 s`)), 30_000);
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk;
      const match = /listening (\d+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve({ name, url: `http://127.0.0.1:${match[1]}`, child });
      }
    });
    child.on('exit', (code) => reject(new Error(`${name} server exited with ${code} before listening`)));
  });
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

/** Both servers must answer the same statuses and JSON for the same requests, or the comparison is void. */
async function checkSameAnswers(raw: Server, library: Server, mode: 'page' | 'all'): Promise<void> {
  const paths = ['/api/books/1/', `/api/books/${BOOKS}/`, '/api/books/999999/', ...(mode === 'page' ? [`/api/books/?limit=${PAGE}&offset=40`, `/api/books/?limit=${PAGE}`] : [])];
  for (const path of paths) {
    const [a, b] = await Promise.all([answer(raw, path), answer(library, path)]);
    if (a.status !== b.status || JSON.stringify(a.body) !== JSON.stringify(b.body)) {
      throw new Error(`GET ${path} differs:\n raw      ${a.status} ${JSON.stringify(a.body).slice(0, 400)}\n fastrest ${b.status} ${JSON.stringify(b.body).slice(0, 400)}`);
    }
  }
  const post = (server: Server, body: string) => answer(server, '/api/books/', { method: 'POST', headers: createHeaders(), body });
  const [createdA, createdB] = [await post(raw, bookBody()), await post(library, bookBody())];
  const shape = (r: Awaited<ReturnType<typeof answer>>) =>
    JSON.stringify([r.status, Object.keys(r.body ?? {}), r.body?.title, r.body?.subtitle, typeof r.body?.author, Object.keys(r.body?.authorDetail ?? {}), r.location?.replace(/\d+\/$/, 'ID/')]);
  if (shape(createdA) !== shape(createdB)) throw new Error(`POST /api/books/ differs:\n raw      ${shape(createdA)}\n fastrest ${shape(createdB)}`);
  const duplicate = JSON.stringify({ title: 'Again', author: 'Someone', isbn: createdA.body.isbn });
  const [dupA, dupB] = [await post(raw, duplicate), await post(library, duplicate)];
  if (dupA.status !== dupB.status || JSON.stringify(dupA.body) !== JSON.stringify(dupB.body)) {
    throw new Error(`POST of a taken ISBN differs: raw ${dupA.status} ${JSON.stringify(dupA.body)}, fastrest ${dupB.status} ${JSON.stringify(dupB.body)}`);
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

async function load(server: Server, endpoint: Endpoint, mode: 'page' | 'all', seconds: number): Promise<Sample> {
  const [server0, database0] = [await cpuOf(server.child.pid), await postgresCpu()];
  const result = await autocannon({ url: server.url, connections, duration: seconds, requests: [requestOf(endpoint, mode)] });
  const [server1, database1] = [await cpuOf(server.child.pid), await postgresCpu()];
  const total = Math.max(1, result.requests.total);
  return {
    rps: result.requests.total / result.duration,
    p99: result.latency.p99,
    failures: result.errors + result.non2xx,
    serverCpu: (server1 - server0) / total,
    databaseCpu: postgresCpuSince(database0, database1) / total,
  };
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

async function main(): Promise<number> {
  const name = `fastrest_bench_${process.pid}_${randomBytes(3).toString('hex')}`;
  const url = withDatabaseName(serverUrl, name);
  let raw: Server | undefined;
  let library: Server | undefined;
  let created = false;
  const deadline = setTimeout(() => {
    log(`still running after ${DEADLINE_MS / 1000} s: stopping`);
    void cleanup().finally(() => process.exit(1));
  }, DEADLINE_MS);
  async function cleanup() {
    await Promise.all([stopServer(raw), stopServer(library)]);
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
    const profiled = (server: Server['name']) => (profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}/${server}`] : []);
    library = await startServer('fastrest', './library-server.ts', { DATABASE_URL: url }, profiled('fastrest'));
    const mode = await listMode(library);
    raw = await startServer('raw', './raw-server.ts', { DATABASE_URL: url, LIST: mode }, profiled('raw'));
    await checkSameAnswers(raw, library, mode);
    const listMeaning = mode === 'page' ? `one page: GET /api/books/?limit=${PAGE}&offset=<random> (count + page)` : `every row: GET /api/books/ (${BOOKS.toLocaleString('en')} books, unpaginated)`;
    log(`same answers from both servers; list = ${listMeaning}`);

    log(`measuring ${rounds} x ${duration} s per server and endpoint after ${warmup} s of warm-up, ${connections} connections`);
    const samples = new Map<string, Sample[]>();
    for (const endpoint of selected) {
      // Warmed right before its rounds: the other endpoints' loads in between would leave it colder.
      for (const server of [raw, library]) await load(server, endpoint, mode, warmup);
      for (let round = 0; round < rounds; round++) {
        const order = round % 2 === 0 ? [raw, library] : [library, raw];
        for (const server of order) {
          const sample = await load(server, endpoint, mode, duration);
          const key = `${endpoint}/${server.name}`;
          samples.set(key, [...(samples.get(key) ?? []), sample]);
          log(
            `${endpoint.padEnd(8)} ${server.name.padEnd(8)} ${sample.rps.toFixed(0).padStart(6)} req/s  p99 ${String(sample.p99).padStart(3)} ms  ` +
              `CPU/request: server ${sample.serverCpu.toFixed(0)} µs, PostgreSQL ${sample.databaseCpu.toFixed(0)} µs${sample.failures ? `  ${sample.failures} failures` : ''}`,
          );
        }
      }
    }

    const rows = selected.map((endpoint) => {
      const a = samples.get(`${endpoint}/raw`)!;
      const b = samples.get(`${endpoint}/fastrest`)!;
      const rawRps = median(a.map((s) => s.rps));
      const fastRps = median(b.map((s) => s.rps));
      const failures = [...a, ...b].reduce((n, s) => n + s.failures, 0);
      const cpu = (samples: Sample[]) => `${median(samples.map((s) => s.serverCpu)).toFixed(0)} + ${median(samples.map((s) => s.databaseCpu)).toFixed(0)}`;
      return { endpoint, rawRps, fastRps, ratio: fastRps / rawRps, rawP99: median(a.map((s) => s.p99)), fastP99: median(b.map((s) => s.p99)), rawCpu: cpu(a), fastCpu: cpu(b), failures };
    });
    const cpu = cpus()[0]?.model ?? 'unknown CPU';
    const lines = [
      `Node ${process.version}, ${availableParallelism()} cores (${cpu.trim()}), PostgreSQL at ${new URL(serverUrl).host}, ${BOOKS.toLocaleString('en')} books.`,
      `autocannon: ${connections} connections, ${rounds} runs of ${duration} s per server and endpoint (after ${warmup} s of warm-up), medians.`,
      `list = ${listMeaning}; retrieve = GET /api/books/<random id>/; create = POST /api/books/ (a unique valid ISBN each).`,
      '',
      '| endpoint | raw req/s | fastrest req/s | ratio | target | raw p99 ms | fastrest p99 ms | raw CPU µs/req (server + PG) | fastrest CPU µs/req (server + PG) |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
      ...rows.map(
        (r) =>
          `| ${r.endpoint} | ${r.rawRps.toFixed(0)} | ${r.fastRps.toFixed(0)} | ${r.ratio.toFixed(2)}x | ${targets[r.endpoint].toFixed(2)}x${r.ratio >= targets[r.endpoint] ? '' : ' (missed)'} | ${r.rawP99} | ${r.fastP99} | ${r.rawCpu} | ${r.fastCpu} |`,
      ),
    ];
    const failures = rows.reduce((n, r) => n + r.failures, 0);
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
