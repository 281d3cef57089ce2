/**
 * `npm start` over real HTTP: the network, the signals and the data folder are the point here,
 * so the server runs as a child process on a port the kernel picks (PORT=0).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import t, { type Test } from 'tap';
import { migrationsPath } from '../../src/library/config.ts';
import { entities } from '../../src/library/entities.ts';
import { sampleBooks } from '../../src/library/seed.ts';
import { createTestDatabase } from '../../src/rest/index.ts';
import { isbn } from '../helpers.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const run = promisify(execFile);
const PASSWORD = 'correct-horse-battery-staple';
const authorization = `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}`;

/** `node src/library/main.ts` as a child process, with its output kept for assertions. */
class Server {
  readonly child: ChildProcess;
  /** The server's URL, read from its "Server listening at" log line (it listens on port 0: no port race). */
  base = '';
  output = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Settles once the child exited and its output streams are drained. */
  readonly closed: Promise<unknown>;

  constructor(env: Record<string, string>) {
    const { DATABASE_URL: _, DATA_DIR: __, ...inherited } = process.env;
    this.child = spawn(process.execPath, ['src/library/main.ts'], {
      cwd: root,
      env: { ...inherited, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.on('data', (chunk) => {
      this.output += chunk;
      this.base ||= /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(this.output)?.[1] ?? '';
    });
    this.child.stderr!.on('data', (chunk) => (this.output += chunk));
    this.exited = once(this.child, 'exit').then(([code, signal]) => ({ code, signal }));
    this.closed = once(this.child, 'close');
  }

  /**
   * Waits until `check` passes, failing early (with the server's output) if the server exits.
   * The 2-minute guard only turns a hang into a readable failure; a loaded machine may start slowly.
   */
  async until(what: string, check: () => Promise<boolean> | boolean): Promise<void> {
    let exited = false;
    void this.exited.then(() => (exited = true));
    for (const deadline = Date.now() + 120_000; Date.now() < deadline; ) {
      if (await check()) return;
      if (exited) {
        await this.closed;
        throw new Error(`the server exited while waiting for ${what}:\n${this.output}`);
      }
      await sleep(50);
    }
    throw new Error(`gave up waiting for ${what}:\n${this.output}`);
  }

  async ready(): Promise<void> {
    await this.until('/ready', async () => {
      if (!this.base) return false;
      try {
        return (await fetch(`${this.base}/ready`)).status === 200;
      } catch {
        return false;
      }
    });
  }

  /** Stops the server (if still running) and returns how it exited. */
  async stop() {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    return this.exited;
  }
}

async function startServer(t: Test, env: Record<string, string>): Promise<Server> {
  const server = new Server(env);
  t.teardown(async () => {
    if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGKILL');
  });
  await server.ready();
  return server;
}

const json = async (server: Server, path: string, init?: RequestInit) => {
  const res = await fetch(`${server.base}${path}`, init);
  return { status: res.status, headers: res.headers, data: (await res.json()) as any };
};

/**
 * Starts a POST and stops after its headers and half its body, as a slow client does. The agent
 * keeps its connection open for as long as the server allows, as browsers and proxies do.
 */
function slowPost(server: Server, path: string, body: unknown, agent: http.Agent) {
  const payload = Buffer.from(JSON.stringify(body));
  const request = http.request(`${server.base}${path}`, {
    method: 'POST',
    agent,
    headers: { 'content-type': 'application/json', 'content-length': String(payload.length), authorization },
  });
  const response = new Promise<{ status: number; headers: http.IncomingHttpHeaders; data: any }>((resolve, reject) => {
    request.on('error', reject);
    request.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, data: JSON.parse(text) }));
    });
  });
  const half = Math.floor(payload.length / 2);
  request.write(payload.subarray(0, half));
  return { response, finish: () => request.end(payload.subarray(half)) };
}

/** Runs a management command on the database of `env` (while no server holds it). */
async function manage(env: Record<string, string>, ...args: string[]) {
  const { DATABASE_URL: _, DATA_DIR: __, ...inherited } = process.env;
  return run(process.execPath, ['src/library/cli.ts', ...args], { cwd: root, env: { ...inherited, ...env } });
}

/** The books of a list answer, paginated or not. */
const booksOf = (data: any): { isbn: string }[] => data.results;

/** The life of the Library on one database: first start, a member's writes, a graceful stop, a restart. */
async function lifecycle(t: Test, env: Record<string, string>) {
  const added = { title: 'Crafting Interpreters', subtitle: '', author: 'Robert Nystrom', isbn: isbn(4242) };
  const inFlight = { title: 'Written while closing', subtitle: '', author: 'A Slow Client', isbn: isbn(4343) };

  await t.test('a first start migrates, seeds the sample books, serves them and stops on SIGTERM', async (t) => {
    const server = await startServer(t, env);
    const home = await fetch(`${server.base}/`);
    t.equal(home.status, 200);
    t.match(home.headers.get('content-type'), /^text\/html/);
    const page = await home.text();
    t.match(page, '<h1>All books</h1>');
    t.match(page, `${sampleBooks.length} books`);
    const list = await json(server, '/api/books/');
    t.equal(list.status, 200);
    t.same(booksOf(list.data).map((b) => b.isbn).sort(), sampleBooks.map((b) => b.isbn).sort(), 'the five sample books');
    const { code, signal } = await server.stop();
    t.same({ code, signal }, { code: 0, signal: null }, 'an idle server exits 0');
  });

  await t.test('createsuperuser makes an account that may write', async (t) => {
    const { stdout } = await manage(
      { ...env, FASTREST_SUPERUSER_USERNAME: 'admin', FASTREST_SUPERUSER_EMAIL: 'admin@example.com', FASTREST_SUPERUSER_PASSWORD: PASSWORD },
      'createsuperuser',
      '--noinput',
    );
    t.match(stdout, /created/i);
  });

  await t.test('a second start serves writes and finishes the request in flight on SIGTERM', async (t) => {
    const server = await startServer(t, env);
    const created = await json(server, '/api/books/', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization },
      body: JSON.stringify(added),
    });
    t.equal(created.status, 201);
    t.match(created.data, added);
    t.equal(created.headers.get('location'), `${server.base}/api/books/${created.data.id}/`);

    await t.test('SIGTERM lets the request in flight finish, then exits 0', async (t) => {
      const agent = new http.Agent({ keepAlive: true });
      t.teardown(() => agent.destroy());
      const before = server.output.length;
      const slow = slowPost(server, '/api/books/', inFlight, agent);
      await server.until('the slow request to arrive', () => /"method": ?"POST"/.test(server.output.slice(before)));
      server.child.kill('SIGTERM');
      await server.until('the server to start closing', () => server.output.includes('closing: finishing in-flight requests'));
      await t.rejects(fetch(`${server.base}/health`), 'a new connection is refused while closing');
      slow.finish();
      const res = await slow.response;
      t.equal(res.status, 201, 'the request in flight completed');
      t.match(res.data, inFlight);
      t.equal(res.headers.connection, 'close', 'the answer closes its keep-alive connection, so the close need not wait for it');
      const { code, signal } = await server.exited;
      t.equal(signal, null);
      t.equal(code, 0, 'a clean exit (the 10 s guard exits 1)');
      t.notMatch(server.output, /graceful close took longer/);
    });
  });

  await t.test('a restart on the same database keeps the data and does not seed again', async (t) => {
    const server = await startServer(t, env);
    const list = await json(server, '/api/books/');
    const isbns = booksOf(list.data).map((b) => b.isbn);
    t.equal(isbns.length, sampleBooks.length + 2);
    t.ok(isbns.includes(added.isbn), 'the book created before the restart is there');
    t.ok(isbns.includes(inFlight.isbn), 'so is the one written while closing');
    for (const sample of sampleBooks) t.equal(isbns.filter((i) => i === sample.isbn).length, 1, `${sample.title} once`);
    const { code } = await server.stop();
    t.equal(code, 0);
  });
}

t.test('outside production, npm start prints a banner with the addresses, the database and the next step, and readable logs', async (t) => {
  const server = await startServer(t, { DATA_DIR: 'memory://', NODE_ENV: 'development' });
  await server.until('the banner', () => server.output.includes('Migrations:'));
  const { base, output } = server;
  t.match(output, 'The Library is running.');
  for (const [label, path] of [['Website', '/'], ['Browsable API', '/api/'], ['API docs', '/docs'], ['Log in', '/api-auth/login/']]) {
    t.match(output, new RegExp(`^  ${label}: +${base.replace(/[.]/g, '\\.')}${path}$`, 'm'), `${label}: ${base}${path}`);
  }
  t.match(output, /^ {2}Database: +embedded PGlite in memory:\/\/$/m);
  t.match(output, /^ {2}Migrations: +\d+ applied now$/m);
  t.match(output, 'No user yet: run "npm run createsuperuser" to make the first account, then log in.');
  t.match(output, /INFO.*Server listening at/, 'log lines are for people');
  t.notMatch(output, /^\{"level"/m, 'not JSON');
  t.equal((await server.stop()).code, 0);
});

t.test('with NODE_ENV=production, npm start logs JSON lines only, without the banner', async (t) => {
  const server = await startServer(t, { DATA_DIR: 'memory://', NODE_ENV: 'production' });
  t.equal((await server.stop()).code, 0);
  await server.closed;
  const lines = server.output.split('\n').filter(Boolean);
  t.ok(lines.length > 3);
  for (const line of lines) t.doesNotThrow(() => JSON.parse(line), line);
  t.notMatch(server.output, 'The Library is running.');
});

t.test('npm start on embedded PGlite in a data folder', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'fastrest-main-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await lifecycle(t, { DATA_DIR: join(dir, 'pglite') });
});

const serverUrl = process.env['DATABASE_URL'];
t.test('npm start on a fresh PostgreSQL database', { skip: serverUrl ? false : 'DATABASE_URL is not set: no PostgreSQL server to create a database on' }, async (t) => {
  const db = await createTestDatabase({ entities, migrationsPath, migrate: false, serverUrl });
  await db.orm.close(true);
  t.teardown(() => db.drop());
  await lifecycle(t, { DATABASE_URL: db.url! });
});
