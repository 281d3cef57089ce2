/**
 * The committed OpenAPI document is good enough for an SDK: openapi-typescript generates a client's
 * types from it, a small openapi-fetch program type-checks against them with the project's tsc and
 * then lists, creates, reads, changes and deletes books over real HTTP, including a typed 400.
 */
import { execFile } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import t from 'tap';
import { createSuperuser } from '../src/rest/index.ts';
import { isbn, libraryApp } from './helpers.ts';

const root = fileURLToPath(new URL('../', import.meta.url));
const run = promisify(execFile);
const bin = (path: string) => join(root, 'node_modules', path);

/** The user's program: every call goes through the generated types; it prints what it saw as JSON. */
const program = `
import createClient from 'openapi-fetch';
import type { components, paths } from './schema.ts';

type Book = components['schemas']['Book'];
type BadRequest = components['schemas']['BadRequest'];

const [baseUrl, username, password, stem] = process.argv.slice(2) as [string, string, string, string];
const anonymous = createClient<paths>({ baseUrl });
const obtained = await anonymous.POST('/api/auth/token/', { body: { username, password } });
if (!obtained.data) throw new Error('no token: ' + obtained.response.status);
const client = createClient<paths>({ baseUrl, headers: { Authorization: 'Bearer ' + obtained.data.token } });

const seen: Record<string, unknown> = {};
const created = await client.POST('/api/books/', { body: { title: 'Typed Clients', author: 'Ada Lovelace', isbn: stem } });
if (!created.data) throw new Error('create failed: ' + JSON.stringify(created.error));
const book: Book = created.data;
seen['create'] = { status: created.response.status, title: book.title, id: book.id };

const listed = await client.GET('/api/books/', { params: { query: { search: 'Typed', limit: 10 } } });
if (!listed.data) throw new Error('list failed');
const rows: Book[] = listed.data.results; // every list is a page: the envelope's type
seen['list'] = { status: listed.response.status, titles: rows.map((row) => row.title) };

const path = { id: book.id };
const retrieved = await client.GET('/api/books/{id}/', { params: { path } });
seen['retrieve'] = { status: retrieved.response.status, isbn: retrieved.data?.isbn };

const updated = await client.PATCH('/api/books/{id}/', { params: { path }, body: { subtitle: 'Generated, then used' } });
seen['update'] = { status: updated.response.status, subtitle: updated.data?.subtitle };

const invalid = await client.POST('/api/books/', { body: { title: '', author: 'Ada Lovelace', isbn: '123' } });
if (invalid.data || !invalid.error) throw new Error('an invalid book was accepted');
const problems: BadRequest = invalid.error;
const fields = 'detail' in problems ? {} : problems;
seen['invalid'] = { status: invalid.response.status, fields: Object.keys(fields).sort(), isbn: fields['isbn'] };

const destroyed = await client.DELETE('/api/books/{id}/', { params: { path } });
const gone = await client.GET('/api/books/{id}/', { params: { path } });
seen['destroy'] = { status: destroyed.response.status, then: gone.response.status, detail: gone.error?.detail };

console.log(JSON.stringify(seen));
`;

const tsconfig = {
  compilerOptions: {
    target: 'es2024',
    module: 'nodenext',
    moduleResolution: 'nodenext',
    lib: ['es2024', 'dom'],
    types: ['node'],
    strict: true,
    noUncheckedIndexedAccess: true,
    allowImportingTsExtensions: true,
    noEmit: true,
    skipLibCheck: true,
  },
  files: ['client.ts'],
};

t.test('a client generated from schemas/openapi.json type-checks and drives the API over HTTP', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'fastrest-sdk-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await symlink(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
  await writeFile(join(dir, 'package.json'), '{"type": "module"}\n');
  const env = { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1' };

  const generated = await run(process.execPath, [bin('openapi-typescript/bin/cli.js'), join(root, 'schemas/openapi.json'), '-o', join(dir, 'schema.ts'), '--default-non-nullable=false'], { cwd: root, env });
  t.match(generated.stdout + generated.stderr, /schemas\/openapi\.json → /, 'openapi-typescript wrote the types');
  t.notMatch(generated.stderr, /error/i, 'with no error');
  t.comment(`openapi-typescript said: ${(generated.stdout + generated.stderr).trim().replace(/\s*\n\s*/g, ' | ')}`);

  await writeFile(join(dir, 'client.ts'), program);
  await writeFile(join(dir, 'tsconfig.json'), JSON.stringify(tsconfig));
  const checked = await run(process.execPath, [bin('typescript/bin/tsc'), '-p', dir], { cwd: dir, env }).catch((error) => error);
  t.equal(checked.code ?? 0, 0, `the program type-checks against the generated types${checked.stdout ? `:\n${checked.stdout}` : ''}`);

  const { app } = await libraryApp(t);
  await createSuperuser(app.orm.em.fork(), { username: 'sdk', email: 'sdk@example.org', password: 'generated-client-pw' });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  const { stdout } = await run(process.execPath, [join(dir, 'client.ts'), `http://127.0.0.1:${port}`, 'sdk', 'generated-client-pw', isbn(4242)], { cwd: dir, env });
  const seen = JSON.parse(stdout);
  t.match(seen.create, { status: 201, title: 'Typed Clients', id: Number });
  t.same(seen.list, { status: 200, titles: ['Typed Clients'] });
  t.same(seen.retrieve, { status: 200, isbn: isbn(4242) });
  t.same(seen.update, { status: 200, subtitle: 'Generated, then used' });
  t.match(seen.invalid, { status: 400, fields: ['isbn', 'title'], isbn: [String] });
  t.match(seen.destroy, { status: 204, then: 404, detail: String });
});
