import t from 'tap';
import type { FastifyRequest } from 'fastify';
import { addBooks } from '../src/library/seed.ts';
import { BookViewSet } from '../src/library/views.ts';
import { BaseRenderer, JSONRenderer, type Permission, type RenderContext } from '../src/rest/index.ts';
import { booksApiApp, isbn, libraryApp } from './helpers.ts';

const unicodeTitle = 'Ünïcødé “quotes” 日本語 \u2028 😀';

t.test('JSONRenderer on the Library', async (t) => {
  const { client, db } = await libraryApp(t);
  const [saved] = await addBooks(db.orm.em.fork(), [{ title: unicodeTitle, author: 'Zoë Ångström', isbn: isbn(1) }]);
  const itemUrl = `/api/books/${(saved as { id: number }).id}/`;

  await t.test('answers compact UTF-8 JSON with non-ASCII characters unescaped', async (t) => {
    const res = await client.get(itemUrl);
    t.equal(res.statusCode, 200);
    t.equal(res.headers['content-type'], 'application/json; charset=utf-8');
    t.ok(res.body.includes(`"title":"${unicodeTitle}"`), 'no \\u escapes, no spaces after separators');
    t.notOk(res.body.includes('\n'));
    t.equal(Buffer.byteLength(res.body), Number(res.headers['content-length']), 'the length counts UTF-8 bytes');
  });

  await t.test('Accept: application/json; indent=4 pretty-prints the same document', async (t) => {
    const compact = await client.get(itemUrl);
    const pretty = await client.get(itemUrl, { headers: { accept: 'application/json; indent=4' } });
    t.equal(pretty.statusCode, 200);
    t.equal(pretty.headers['content-type'], 'application/json; indent=4; charset=utf-8');
    t.equal(pretty.body, JSON.stringify(JSON.parse(compact.body), null, 4));
    t.match(pretty.body, /^\{\n {4}"/);
    t.ok(pretty.body.includes(unicodeTitle), 'still unescaped');
  });

  await t.test('lists and errors pretty-print too', async (t) => {
    const list = await client.get('/api/books/', { headers: { accept: 'application/json; indent=2' } });
    t.match(list.body, /^\{\n {2}"count": \d+,\n {2}"next"/);
    const missing = await client.get('/api/books/99999/', { headers: { accept: 'application/json; indent=4' } });
    t.equal(missing.statusCode, 404);
    t.equal(missing.body, '{\n    "detail": "Not found."\n}');
  });

  await t.test('the indent is capped at 8; a malformed or zero indent is compact', async (t) => {
    const wide = await client.get('/api/books/99999/', { headers: { accept: 'application/json; indent=40' } });
    t.equal(wide.body, `{\n${' '.repeat(8)}"detail": "Not found."\n}`);
    for (const indent of ['abc', '0', '']) {
      const res = await client.get('/api/books/99999/', { headers: { accept: `application/json; indent=${indent}` } });
      t.equal(res.body, '{"detail":"Not found."}', `indent=${indent}`);
    }
  });

  await t.test('the indent also works with ?format=json and a .json suffix', async (t) => {
    const query = await client.get(`${itemUrl}?format=json`, { headers: { accept: 'application/json; indent=4' } });
    t.match(query.body, /^\{\n {4}"/);
    const suffix = await client.get(itemUrl.replace(/\/$/, '.json'), { headers: { accept: 'application/json; indent=4' } });
    t.match(suffix.body, /^\{\n {4}"/);
  });

  await t.test('OPTIONS answers pretty-print as well', async (t) => {
    const options = await client.options('/api/books/', { headers: { accept: 'application/json; indent=4' } });
    t.match(options.body, /^\{\n {4}"name": "Book List"/);
  });
});

/** A stand-in for the browsable API: HTML, format `api`; it remembers what it was given. */
class PageRenderer extends BaseRenderer {
  readonly mediaType = 'text/html';
  readonly format = 'api';
  readonly seen: { data: unknown; context: RenderContext }[] = [];
  render(data: unknown, context: RenderContext): string {
    this.seen.push({ data, context });
    return `<!doctype html><h1>${context.view?.constructor.name}</h1><p>${context.status}</p>`;
  }
  /** The browsable page stays out of the OpenAPI document, as in DRF. */
  override openapiMediaTypes(): string[] {
    return [];
  }
}

/** A binary-ish renderer: no charset in its Content-Type. */
class ByteRenderer extends BaseRenderer {
  readonly mediaType = 'application/octet-stream';
  readonly format = 'bin';
  override readonly charset = null;
  render(data: unknown): Buffer {
    return Buffer.from(JSON.stringify(data));
  }
}

t.test('a renderer that is not the JSON fast path (the browsable API seam)', async (t) => {
  const page = new PageRenderer();
  class Books extends BookViewSet {
    override permissionClasses: Permission[] = [];
    override rendererClasses = [new JSONRenderer(), page, new ByteRenderer()];
    /** Adds a property the response schema does not have. */
    override async retrieve(request: FastifyRequest): Promise<unknown> {
      return { ...((await super.retrieve(request)) as object), secret: 'not in the schema' };
    }
  }
  const view = new Books();
  const { app, client } = await booksApiApp(t, view);
  const created = await client.post('/api/books/', { title: 'Seam', author: 'An Author', isbn: isbn(2) });
  t.equal(created.statusCode, 201);
  const itemUrl = `/api/books/${created.data.id}/`;
  const asPage = { headers: { accept: 'text/html' } };

  await t.test('it receives the data, request, reply, view and status, and its HTML is the body', async (t) => {
    page.seen.length = 0;
    const res = await client.get('/api/books/', asPage);
    t.equal(res.statusCode, 200);
    t.equal(res.headers['content-type'], 'text/html; charset=utf-8');
    t.equal(res.body, '<!doctype html><h1>Books</h1><p>200</p>');
    t.equal(page.seen.length, 1);
    const { data, context } = page.seen[0]!;
    t.match(data, { count: 1, results: [{ id: created.data.id, title: 'Seam' }] });
    t.equal(context.view, view);
    t.equal(context.status, 200);
    t.equal(context.mediaType, 'text/html');
    t.equal(context.request.acceptedRenderer, page);
    t.equal(context.request.acceptedMediaType, 'text/html');
    t.equal(context.reply.request, context.request);
  });

  await t.test('error bodies go through it with their status', async (t) => {
    page.seen.length = 0;
    const missing = await client.get('/api/books/99999/', asPage);
    t.equal(missing.statusCode, 404);
    t.equal(missing.headers['content-type'], 'text/html; charset=utf-8');
    t.same(page.seen.map((s) => [s.context.status, s.data]), [[404, { detail: 'Not found.' }]]);
    page.seen.length = 0;
    const invalid = await client.post('/api/books/', {}, asPage);
    t.equal(invalid.statusCode, 400);
    t.equal(page.seen[0]?.context.status, 400);
    t.match(page.seen[0]?.data, { title: ['This field is required.'] });
  });

  await t.test('writes render their answer, and a 204 stays empty', async (t) => {
    page.seen.length = 0;
    const res = await client.post('/api/books/', { title: 'Via page', author: 'An Author', isbn: isbn(3) }, asPage);
    t.equal(res.statusCode, 201);
    t.equal(page.seen[0]?.context.status, 201);
    t.match(page.seen[0]?.data, { title: 'Via page' });
    const gone = await client.delete(`/api/books/${(page.seen[0]!.data as { id: number }).id}/`, asPage);
    t.equal(gone.statusCode, 204);
    t.equal(gone.body, '');
    t.notOk(gone.headers['content-type']);
  });

  await t.test('the JSON fast path writes only what the response schema has, pretty or not', async (t) => {
    const compact = await client.get(itemUrl);
    t.equal(compact.statusCode, 200);
    t.notOk('secret' in compact.data, "Fastify's schema serializer drops what the schema does not list");
    const pretty = await client.get(itemUrl, { headers: { accept: 'application/json; indent=4' } });
    t.same(JSON.parse(pretty.body), compact.data);
  });

  await t.test('a renderer without a charset sends bytes under its bare media type', async (t) => {
    const res = await client.get(`${itemUrl}?format=bin`);
    t.equal(res.statusCode, 200);
    t.equal(res.headers['content-type'], 'application/octet-stream');
    t.match(JSON.parse(res.body), { id: created.data.id, secret: 'not in the schema' }, 'its render() sees the raw data');
  });

  await t.test('HEAD through a rendering renderer keeps GET headers and sends no body', async (t) => {
    const get = await client.get(itemUrl, asPage);
    const head = await client.head(itemUrl, asPage);
    t.equal(head.statusCode, 200);
    t.equal(head.body, '');
    t.equal(head.headers['content-type'], get.headers['content-type']);
    t.equal(head.headers['content-length'], get.headers['content-length']);
  });

  await t.test('OPTIONS lists every renderer, OpenAPI only those that document themselves', async (t) => {
    const options = await client.options('/api/books/');
    t.same(options.data.renders, ['application/json', 'text/html', 'application/octet-stream']);
    const list = (app.swagger() as any).paths['/api/books/'];
    t.same(Object.keys(list.get.responses['200'].content), ['application/json', 'application/octet-stream']);
  });

  await t.test('toHtml gives a renderer its entry in the format menu, keeping the query', async (t) => {
    page.seen.length = 0;
    await client.get('/api/books/?search=Seam&ordering=title', asPage);
    const request = page.seen[0]!.context.request;
    t.equal(
      new JSONRenderer().toHtml(request),
      '<a class="format-option" href="/api/books/?search=Seam&amp;ordering=title&amp;format=json" rel="nofollow" title="Make a GET request with the format set to json">json</a>',
    );
  });
});
