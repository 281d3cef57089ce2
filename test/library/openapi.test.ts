import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import t from 'tap';
import { parse as parseYaml } from 'yaml';
import { Author, Book } from '../../src/library/entities.ts';
import { libraryApp } from '../helpers.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const run = promisify(execFile);

type Json = Record<string, any>;

/** Every value under `node` with its JSON path, depth first. */
function* walk(node: unknown, path = '#'): Generator<[string, Json]> {
  if (!node || typeof node !== 'object') return;
  yield [path, node as Json];
  for (const [key, value] of Object.entries(node)) yield* walk(value, `${path}/${key}`);
}

t.test('the OpenAPI document describes the Books API with named components', async (t) => {
  const { client } = await libraryApp(t);
  const res = await client.get('/openapi.json');
  const doc: Json = res.data;
  const schemas: Json = doc.components.schemas;

  await t.test('it is OpenAPI 3.1.0 with the Library as its title', async (t) => {
    t.equal(res.statusCode, 200);
    t.match(res.headers['content-type'], /^application\/json/);
    t.equal(doc.openapi, '3.1.0');
    t.match(doc.info, { title: 'The Library', version: '1.0.0' });
  });

  await t.test('the model and error schemas are named components, never generated names', async (t) => {
    for (const name of ['Book', 'BookRequest', 'PatchedBookRequest', 'ErrorDetail', 'ValidationError']) t.ok(schemas[name], name);
    for (const name of Object.keys(schemas)) t.notMatch(name, /^(def-\d+|Schema\d+)$/, `${name} is a chosen name`);
    for (const [path, node] of walk(doc)) {
      if (typeof node['$id'] === 'string') t.fail(`${path} leaks an $id`);
    }
  });

  await t.test('summaries are English: the right article, names split into words', async (t) => {
    const summaries = Object.values(doc.paths as Json).flatMap((item: Json) => Object.values(item).map((op: Json) => op.summary as string));
    for (const expected of ['Create an author', 'Retrieve an author', 'Create a book', 'List reading lists', 'Create a reading list', 'API root']) {
      t.ok(summaries.includes(expected), expected);
    }
    for (const summary of summaries) t.notMatch(summary, /\ba [aeiou]|readinglist|Api Root/, summary);
  });

  await t.test('error bodies have typed schemas: a field-keyed map and a {detail, code} body', async (t) => {
    t.match(schemas.ErrorDetail, { type: 'object', properties: { detail: { type: 'string' }, code: { type: 'string' } }, required: ['detail'] });
    t.match(schemas.ValidationError, { type: 'object', additionalProperties: { anyOf: [{ type: 'array', items: { type: 'string' } }, { type: 'object' }] } });
    t.same(schemas.BadRequest.anyOf, [{ $ref: '#/components/schemas/ValidationError' }, { $ref: '#/components/schemas/ErrorDetail' }]);
    for (const name of ['ErrorDetail', 'ValidationError', 'BadRequest']) t.equal(schemas[name].title, name, `${name} has a title, so Swagger UI names it`);
  });

  await t.test('the token scheme is documented as the README says: Authorization: Token <key>', async (t) => {
    const token = doc.components.securitySchemes.tokenAuth;
    t.match(token, { type: 'apiKey', in: 'header', name: 'Authorization' });
    t.match(token.description, 'Authorization: Token <key>');
    t.match(token.description, 'Bearer <key>', 'Bearer, accepted too, is mentioned');
    const readme = await readFile(join(root, 'README.md'), 'utf8');
    t.match(readme, 'Authorization: Token <key>', 'the README says the same');
  });

  await t.test('every $ref points at an existing component', async (t) => {
    const refs = [...walk(doc)].filter(([, node]) => typeof node['$ref'] === 'string').map(([, node]) => node['$ref'] as string);
    t.ok(refs.length > 10);
    for (const ref of new Set(refs)) {
      const [, section, name] = ref.match(/^#\/components\/(schemas|responses|parameters|headers)\/([A-Za-z]+)$/) ?? [];
      t.ok(section, `${ref} names a component`);
      t.ok(doc.components[section!]?.[name!], `${ref} exists`);
    }
  });

  await t.test('no operation carries an inline copy of a book', async (t) => {
    const inline = [...walk(doc.paths)].filter(([, node]) => node['properties'] && 'isbn' in node['properties']).map(([path]) => path);
    t.same(inline, []);
    const holders = Object.entries(schemas).filter(([, s]) => s.properties && 'isbn' in s.properties).map(([name]) => name);
    t.same(holders.sort(), ['Book', 'BookRequest', 'PatchedBookRequest']);
  });

  await t.test('each action has its operationId on its path and method', async (t) => {
    const operations = (path: string) => Object.fromEntries(Object.entries(doc.paths[path] ?? {}).map(([method, op]) => [method, (op as Json).operationId]));
    t.same(operations('/api/books/'), { get: 'listBooks', post: 'createBook' });
    t.same(operations('/api/books/{id}/'), {
      get: 'retrieveBook',
      put: 'updateBook',
      patch: 'partialUpdateBook',
      delete: 'destroyBook',
    });
    const ids = Object.values(doc.paths).flatMap((item) => Object.values(item as Json).map((op) => op.operationId));
    t.equal(new Set(ids).size, ids.length, 'operationIds are unique');
    for (const hidden of ['/', '/books/{id}/', '/static/library.css', '/openapi.json', '/openapi.yaml', '/docs', '/docs/json', '/api/books.json', '/api/books/{id}.json', '/api/.json']) t.notOk(doc.paths[hidden], `${hidden} is not an API operation`);
  });

  await t.test('bodies and answers reference the named schemas', async (t) => {
    const op = (path: string, method: string): Json => doc.paths[path][method];
    const body = (o: Json) => o.requestBody?.content['application/json'].schema;
    const shared = (r: Json | undefined): Json | undefined => (r?.$ref ? doc.components.responses[r.$ref.split('/').pop()] : r);
    const answer = (o: Json, status: number) => shared(o.responses[status])?.content?.['application/json']?.schema;
    const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
    const list = op('/api/books/', 'get');
    t.same(answer(list, 200), ref('PaginatedBookList'), 'every list is a page');
    const create = op('/api/books/', 'post');
    t.same(body(create), ref('BookRequest'));
    t.same(answer(create, 201), ref('Book'));
    t.same(answer(create, 400), ref('BadRequest'));
    t.same(
      schemas.BadRequest.anyOf.map((s: Json) => s.$ref),
      ['#/components/schemas/ValidationError', '#/components/schemas/ErrorDetail'],
    );
    t.same(answer(op('/api/books/{id}/', 'get'), 200), ref('Book'));
    t.same(answer(op('/api/books/{id}/', 'get'), 404), ref('ErrorDetail'));
    t.same(body(op('/api/books/{id}/', 'put')), ref('BookRequest'));
    t.same(body(op('/api/books/{id}/', 'patch')), ref('PatchedBookRequest'));
    const destroy = op('/api/books/{id}/', 'delete');
    t.ok(destroy.responses[204], 'delete answers 204');
    t.notOk(destroy.responses[204].content, 'with no body');
    t.same(answer(destroy, 404), ref('ErrorDetail'));
    t.match(op('/api/books/{id}/', 'get').parameters, [{ in: 'path', name: 'id', required: true, schema: { type: 'integer' } }]);
  });

  await t.test('every error answer is a named, reusable response, never an inline copy', async (t) => {
    const operations = Object.entries(doc.paths as Json).flatMap(([path, item]) => Object.entries(item as Json).map(([method, op]) => [`${method} ${path}`, op as Json] as const));
    for (const [name, op] of operations) {
      for (const [status, answer] of Object.entries(op.responses as Json)) {
        if (Number(status) >= 400 && Number(status) < 500) t.match(answer, { $ref: /^#\/components\/responses\/[A-Za-z]+$/ }, `${name} ${status}`);
      }
      t.ok(op.security, `${name} states its security`);
    }
    t.same(Object.keys(doc.components.responses).sort(), ['BadRequest', 'NotAcceptable', 'NotFound', 'PermissionDenied', 'Throttled', 'Unauthorized', 'PayloadTooLarge', 'UnsupportedMediaType', 'NotModified', 'PreconditionFailed'].sort());
    const detail = doc.paths['/api/books/{id}/'];
    t.ok(detail.get.parameters.some((p: Json) => p.$ref === '#/components/parameters/IfNoneMatch'), 'GET takes If-None-Match');
    for (const method of ['put', 'patch', 'delete']) {
      t.ok(detail[method].parameters.some((p: Json) => p.$ref === '#/components/parameters/IfMatch'), `${method} takes If-Match`);
      t.same(detail[method].responses[412], { $ref: '#/components/responses/PreconditionFailed' }, `${method} may answer 412`);
    }
    for (const method of ['get', 'put', 'patch']) t.same(detail[method].responses[200].headers, { ETag: { $ref: '#/components/headers/ETag' } }, `${method} answers an ETag`);
    t.same(detail.get.responses[304], { $ref: '#/components/responses/NotModified' });
    t.same(doc.components.parameters.IfMatch, { name: 'If-Match', in: 'header', required: false, description: doc.components.parameters.IfMatch.description, schema: { type: 'string' } });
    const list = doc.paths['/api/books/'].get;
    t.match(list.responses, { 400: { $ref: '#/components/responses/BadRequest' }, 404: { $ref: '#/components/responses/NotFound' } }, 'a bad filter is a 400, an unknown format a 404');
    t.same(doc.components.responses.Throttled.headers['Retry-After'].schema, { type: 'integer' });
  });

  await t.test('every negotiated operation takes ?format=, the probes do not', async (t) => {
    t.same(doc.components.parameters.Format, {
      name: 'format',
      in: 'query',
      required: false,
      description: 'The format of the answer, overriding the Accept header; an unknown format is a 404.',
      schema: { type: 'string', enum: ['json'] },
    });
    for (const path of ['/api/', '/api/books/', '/api/books/{id}/', '/api/authors/{id}/books/']) {
      t.ok(doc.paths[path].get.parameters.some((p: Json) => p.$ref === '#/components/parameters/Format'), path);
    }
    t.notOk(doc.paths['/health'].get.parameters, 'the probes negotiate nothing');
    t.same(doc.servers, [{ url: '/', description: 'This server' }]);
  });

  await t.test('the probes reference their named schemas', async (t) => {
    t.same(doc.paths['/health'].get.responses[200].content['application/json'].schema, { $ref: '#/components/schemas/Health' });
    t.same(doc.paths['/ready'].get.responses[503].content['application/json'].schema, { $ref: '#/components/schemas/Ready' });
  });

  await t.test('/openapi.yaml is the same document in YAML', async (t) => {
    const yaml = await client.get('/openapi.yaml');
    t.equal(yaml.statusCode, 200);
    t.match(yaml.headers['content-type'], /^application\/yaml/);
    t.same(parseYaml(yaml.body), doc);
  });

  await t.test("the Book schemas derive from the entity's columns", async (t) => {
    const columns = Book.meta.properties as Record<string, { length?: number }>;
    const book = schemas.Book;
    t.same(Object.keys(book.properties), ['url', 'id', 'title', 'subtitle', 'author', 'authorDetail', 'isbn', 'createdAt', 'updatedAt']);
    for (const name of ['title', 'subtitle', 'isbn']) {
      t.equal(book.properties[name].maxLength, columns[name]!.length, `${name}: maxLength is the column length`);
    }
    const authorName = (Author.meta.properties as Record<string, { length?: number }>)['name']!;
    t.equal(book.properties.author.maxLength, authorName.length, "author, the author's name: the length of that column");
    t.equal(book.properties.title.maxLength, 250);
    t.equal(book.properties.author.maxLength, 100);
    t.equal(book.properties.isbn.pattern, '^[0-9]{13}$');
    t.same(book.properties.createdAt, { type: 'string', format: 'date-time', readOnly: true });
    const readOnly = Object.entries(book.properties as Json).filter(([, s]) => s.readOnly).map(([name]) => name);
    t.same(readOnly, ['url', 'id', 'authorDetail', 'createdAt', 'updatedAt']);
    t.same(book.required, Object.keys(book.properties), 'an answer always has every field');
    t.same(Object.keys(schemas.BookRequest.properties), ['title', 'subtitle', 'author', 'isbn'], 'read-only fields are not sent');
    t.same(schemas.BookRequest.required, ['title', 'author', 'isbn'], 'subtitle has a default');
    t.same(schemas.PatchedBookRequest.required ?? [], [], 'a partial update requires nothing');
    t.equal(schemas.BookRequest.properties.subtitle.default, '');
    t.notOk('minLength' in schemas.BookRequest.properties.subtitle, 'the subtitle may be blank');
    t.equal(schemas.BookRequest.properties.title.minLength, 1, 'the title may not');
  });
});

t.test('Swagger UI is served by the app itself', async (t) => {
  const { client } = await libraryApp(t);
  const openapi = (await client.get('/openapi.json')).data;

  for (const page of ['/docs', '/docs/']) {
    await t.test(`${page} is Swagger UI and every asset it names loads from the app`, async (t) => {
      const res = await client.get(page);
      t.equal(res.statusCode, 200);
      t.match(res.headers['content-type'], /^text\/html/);
      t.match(res.body, /<div id="swagger-ui">/);
      const assets = [...res.body.matchAll(/<(?:script|link)\b[^>]*?\b(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
      t.ok(assets.some((a) => a.endsWith('.js')) && assets.some((a) => a.endsWith('.css')), 'scripts and stylesheets');
      for (const asset of assets) {
        t.notMatch(asset, /^(https?:)?\/\//, `${asset} is not on a CDN`);
        const url = new URL(asset, `http://localhost${page}`);
        t.match(url.pathname, /^\/docs\//, `${asset} resolves under /docs/`);
        const loaded = await client.get(url.pathname);
        t.equal(loaded.statusCode, 200, url.pathname);
        t.ok(loaded.rawPayload.length > 0, `${url.pathname} has a body`);
        const kind = url.pathname.endsWith('.js') ? /javascript/ : url.pathname.endsWith('.css') ? /^text\/css/ : /^image\//;
        t.match(loaded.headers['content-type'], kind, `${url.pathname} content type`);
      }
    });
  }

  await t.test('the document Swagger UI loads is the one at /openapi.json', async (t) => {
    const initializer = (await client.get('/docs/static/swagger-initializer.js')).body;
    const configUrl = initializer.match(/"configUrl":"([^"]+)"/)?.[1];
    t.equal(configUrl, '/docs/swagger-config.json', 'Swagger UI reads its config document first');
    const config = await client.get(configUrl!);
    t.equal(config.statusCode, 200);
    t.same(config.data, { url: '/openapi.json' }, 'which names the URL the README promotes, not /docs/json');
    t.same((await client.get(config.data.url)).data, openapi);
  });

  await t.test('the page has the app\'s title and its top bar shows it in place of the Fastify logo', async (t) => {
    const html = (await client.get('/docs/')).body;
    t.equal(html.match(/<title>([^<]*)<\/title>/)?.[1], 'The Library');
    const initializer = (await client.get('/docs/static/swagger-initializer.js')).body;
    const logo = initializer.match(/img\.src = 'data:image\/svg\+xml;base64,([^']+)'/)?.[1];
    t.ok(logo, 'a logo of its own');
    const svg = Buffer.from(logo!, 'base64').toString('utf8');
    t.match(svg, />The Library<\/text>/);
    const fastify = await readFile(join(root, 'node_modules/@fastify/swagger-ui/static/logo.svg'), 'utf8');
    t.not(svg, fastify);
    t.notMatch(svg, /Adobe Illustrator/, 'not the stock logo');
  });
});

t.test('the CLI writes the document the app serves', async (t) => {
  const { client } = await libraryApp(t);
  const served = (await client.get('/openapi.json')).data;
  const dir = await mkdtemp(join(tmpdir(), 'fastrest-openapi-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const target = join(dir, 'openapi.json');
  const { DATABASE_URL: _, ...env } = process.env;
  const { stdout } = await run(process.execPath, ['src/library/cli.ts', 'openapi', target], { cwd: root, env: { ...env, DATA_DIR: 'memory://' } });
  t.match(stdout, `Wrote ${target}`);
  const written = await readFile(target, 'utf8');
  t.same(JSON.parse(written), served);
  t.ok(written.endsWith('}\n'), 'the file ends with a newline');
  t.match(written, /^\{\n {2}"openapi": "3\.1\.0"/, 'indented for review in diffs');
});

t.test("the document's description links Swagger UI back to the browsable API", async (t) => {
  const { client } = await libraryApp(t);
  const doc = (await client.get('/openapi.json')).data;
  t.match(doc.info.description, /\[browsable API\]\(\/api\/\)/);
  const root = await client.get('/api/', { headers: { accept: 'text/html' } });
  t.equal(root.statusCode, 200, 'and the link leads to a browsable page');
  t.match(root.headers['content-type'], /^text\/html/);
});
