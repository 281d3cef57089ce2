/**
 * The package as a third-party app gets it, by the README's "Start your own project" steps:
 * `npm pack`, `fastrest startproject` from the tarball, `npm install` in a fresh project outside the
 * repository (its own fastify and MikroORM), its own migration, `tsc --strict`, `npm start` on the
 * embedded database, then JSON CRUD, the browsable page, OpenAPI and Swagger UI over real HTTP.
 * npm install needs the registry, or a warm npm cache (--prefer-offline).
 */
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, globSync, readFileSync, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import t from 'tap';

const root = fileURLToPath(new URL('../', import.meta.url));
const exec = promisify(execFile);
const fastrestManifest = JSON.parse(readFileSync(join(root, 'src/rest/package.json'), 'utf8')) as { version: string };
const rootManifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };

/**
 * The environment of a shell outside this repository: without the fastrest-source condition
 * (the tarball has no sources), tap's hooks, the npm script's own variables or our database.
 */
function outsideEnv(): NodeJS.ProcessEnv {
  const keep = new Set(['npm_config_registry', 'npm_config_cafile', 'npm_config_cache', 'npm_config_globalconfig', 'npm_config_userconfig']);
  return Object.fromEntries(
    Object.entries(process.env).filter(
      ([key]) => keep.has(key) || !/^(npm_|TAP|_TAPJS|NODE_OPTIONS$|NODE_V8_COVERAGE$|DATABASE_URL$|DATA_DIR$|HOST$|PORT$)/.test(key),
    ),
  );
}

/** How long each step took, printed as a comment (this is where the test's time goes). */
const took: string[] = [];

/** Runs one command of the README's steps; fails with its output. */
async function step(cwd: string, command: string, ...args: string[]): Promise<string> {
  const started = performance.now();
  try {
    const { stdout } = await exec(command, args, { cwd, env: outsideEnv(), maxBuffer: 16 * 1024 * 1024 });
    took.push(`${((performance.now() - started) / 1000).toFixed(1)} s  ${command} ${args.slice(0, 2).join(' ')}`);
    return stdout;
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(' ')} failed in ${cwd}:\n${stdout}\n${stderr}`);
  }
}

/** `npm start` in the project, on a port the kernel picks, in its own process group (npm and its node stop together). */
class Server {
  readonly child;
  output = '';
  base = '';
  running = true;
  readonly exited: Promise<unknown[]>;

  constructor(cwd: string) {
    this.child = spawn('npm', ['start'], { cwd, env: { ...outsideEnv(), HOST: '127.0.0.1', PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    this.child.stdout.on('data', (chunk) => {
      this.output += chunk;
      this.base ||= /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(this.output)?.[1] ?? '';
    });
    this.child.stderr.on('data', (chunk) => (this.output += chunk));
    this.exited = once(this.child, 'exit');
    void this.exited.then(() => (this.running = false));
  }

  /** Waits for the "Server listening at" line; the 2-minute guard only turns a hang into a readable failure. */
  async listening(): Promise<void> {
    for (const deadline = Date.now() + 120_000; !this.base; await sleep(50)) {
      if (!this.running || Date.now() > deadline) throw new Error(`npm start did not listen:\n${this.output}`);
    }
  }

  async stop(): Promise<unknown[]> {
    if (this.running) process.kill(-this.child.pid!, 'SIGTERM');
    return this.exited;
  }
}

// npm install and a tsc build on a shared machine: slow, never a timing assertion.
t.setTimeout(10 * 60_000);
// tap's process-info hook gives every child this process's NODE_OPTIONS (the repository's fastrest-source condition) plus its own loader.
delete process.env['NODE_OPTIONS'];
const work = await mkdtemp(join(tmpdir(), 'fastrest-package-'));
t.teardown(() => rm(work, { recursive: true, force: true }));
const tarball = `fastrest-${fastrestManifest.version}.tgz`;
const project = join(work, 'notes');
const npxCache = join(process.env['npm_config_cache'] || join(homedir(), '.npm'), '_npx');
const npxBefore = new Set(existsSync(npxCache) ? globSync('*', { cwd: npxCache }) : []);
t.teardown(() => {
  // npx keeps what it installed for the tarball's path, which no later run asks for again.
  for (const entry of existsSync(npxCache) ? globSync('*', { cwd: npxCache }) : []) {
    const manifest = join(npxCache, entry, 'package.json');
    if (!npxBefore.has(entry) && existsSync(manifest) && readFileSync(manifest, 'utf8').includes(basename(work))) rmSync(join(npxCache, entry), { recursive: true, force: true });
  }
});

/** The README's steps, in order; each throws with its output when it fails. */
async function setUp() {
  // 1. The tarball (prepack builds dist/).
  await step(join(root, 'src/rest'), 'npm', 'pack', '--silent', '--pack-destination', work);
  // 2. The project, from the tarball's bin. startproject needs Node only: no peers for npx to resolve.
  const started = await step(work, 'npx', '--yes', '--prefer-offline', '--legacy-peer-deps', '--package', `./${tarball}`, 'fastrest', 'startproject', 'notes');
  const manifest = JSON.parse(readFileSync(join(project, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
  // 3. Its dependencies, the tarball in place of the registry's fastrest.
  await step(project, 'npm', 'install', '--prefer-offline', '--no-audit', '--no-fund', `../${tarball}`);
  // 4. Its own migration, 5. the type check (which fails the step on any error).
  const madeMigrations = await step(project, 'npm', 'run', 'makemigrations');
  await step(project, 'npx', 'tsc', '--strict', '--noEmit');
  // 6. npm start.
  const server = new Server(project);
  t.teardown(() => server.stop());
  await server.listening();
  return { started, manifest, madeMigrations, server };
}

// Every step runs before the first assertion: tap ends the root test once it asserted and has nothing queued.
const ready = await setUp().catch((error: unknown) => (error instanceof Error ? error : new Error(String(error))));
if (ready instanceof Error) {
  t.fail(ready.message);
} else {
  const { started, manifest, madeMigrations, server } = ready;
  const base = server.base;
  t.comment(`steps:\n${took.join('\n')}`);

  t.test('startproject writes a project that pins the versions of fastify, TypeBox and MikroORM this repository runs', async (t) => {
    t.match(started, /Wrote notes in notes: .*src\/entities\.ts/);
    t.equal(manifest.dependencies['fastrest'], fastrestManifest.version);
    const pinned = { ...manifest.dependencies, ...manifest.devDependencies };
    const ours = { ...rootManifest.dependencies, ...rootManifest.devDependencies };
    for (const name of ['fastify', 'typebox', '@mikro-orm/core', '@mikro-orm/migrations', '@mikro-orm/pglite', '@mikro-orm/sql', 'typescript', '@types/node']) {
      t.equal(pinned[name], ours[name], name);
    }
  });

  t.test('the project installs fastrest as built JavaScript and makes its own migration', async (t) => {
    t.ok(existsSync(join(project, 'node_modules/fastrest/dist/index.js')));
    t.notOk(existsSync(join(project, 'node_modules/fastrest/index.ts')), 'without its TypeScript sources');
    t.match(madeMigrations, /Wrote migrations\/Migration\d+\.ts/);
    const [migration] = globSync('migrations/Migration*.ts', { cwd: project });
    t.match(
      readFileSync(join(project, migration!), 'utf8'),
      /create table "note" \("id" serial primary key, "title" varchar\(200\) not null, "body" text not null default '', "created_at" timestamptz not null\)/,
    );
  });

  /** A JSON request to the app. */
  async function json(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
    const res = await fetch(base + path, {
      method,
      headers: { accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  }

  t.test('notes are created, listed, read, replaced, patched and deleted as JSON', async (t) => {
    const created = await json('POST', '/api/notes/', { title: 'First note', body: 'Hello.' });
    t.equal(created.status, 201);
    t.match(created.body, { id: Number, title: 'First note', body: 'Hello.', createdAt: /^\d{4}-\d\d-\d\dT/ });
    const id = created.body.id as number;
    t.equal(created.body.url, `${base}/api/notes/${id}/`);

    const list = await json('GET', '/api/notes/');
    t.equal(list.status, 200);
    t.match(list.body, { count: 1, next: null, previous: null, results: [{ id, title: 'First note' }] }, 'a page, as every list is by default');
    t.match(await json('GET', `/api/notes/${id}/`), { status: 200, body: { id, title: 'First note' } });

    t.match(await json('PUT', `/api/notes/${id}/`, { title: 'Renamed', body: 'Replaced.' }), { status: 200, body: { id, title: 'Renamed', body: 'Replaced.' } });
    t.match(await json('PATCH', `/api/notes/${id}/`, { body: 'Patched.' }), { status: 200, body: { id, title: 'Renamed', body: 'Patched.' } });
    t.same(await json('POST', '/api/notes/', { body: 'no title' }), { status: 400, body: { title: ['This field is required.'] } });

    t.equal((await json('DELETE', `/api/notes/${id}/`)).status, 204);
    t.same(await json('GET', `/api/notes/${id}/`), { status: 404, body: { detail: 'Not found.' } });
  });

  t.test('a web browser gets the browsable page of the notes', async (t) => {
    const res = await fetch(`${base}/api/notes/`, { headers: { accept: 'text/html' } });
    t.equal(res.status, 200);
    t.match(res.headers.get('content-type'), /^text\/html/);
    const html = await res.text();
    t.match(html, /<title>Note List – notes<\/title>/);
    t.match(html, /<h1>Note List/);
    t.match(html, /<form class="html-form" method="post" action="\/api\/notes\/\?format=api"/, 'with the form that creates a note');
    t.match(html, /href="\/static\/rest\/browsable\.css"/);
    t.equal((await fetch(`${base}/static/rest/browsable.css`)).status, 200, 'and its stylesheet, from the package');
  });

  t.test('the notes are in the OpenAPI document and in Swagger UI', async (t) => {
    const doc = await json('GET', '/openapi.json');
    t.equal(doc.status, 200);
    t.match(doc.body, { openapi: /^3\./, info: { title: 'notes' } });
    t.ok(doc.body.paths['/api/notes/']?.get && doc.body.paths['/api/notes/']?.post, 'GET and POST /api/notes/');
    t.ok(doc.body.paths['/api/notes/{id}/']?.delete, 'DELETE /api/notes/{id}/');
    t.match(doc.body.components.schemas.Note, { type: 'object', properties: { id: {}, title: {}, body: {}, createdAt: {} } }, 'a Note component');

    const docs = await fetch(`${base}/docs`);
    t.equal(docs.status, 200);
    t.match(await docs.text(), /<title>notes<\/title>/, 'Swagger UI titled by the project');
  });

  t.test('npm start stops cleanly on SIGTERM', async (t) => {
    const [code, signal] = await server.stop();
    t.ok(code === 0 || signal === 'SIGTERM', 'npm start ended', { code, signal, output: server.output.slice(-2000) });
  });
}
