import t from 'tap';
import type { FastifyRequest } from 'fastify';
import { seedIfEmpty } from '../src/library/seed.ts';
import { BookViewSet } from '../src/library/views.ts';
import { BaseRenderer, DefaultContentNegotiation, JSONRenderer, MediaType, parseAccept, type Permission, type RenderContext } from '../src/rest/index.ts';
import { booksApiApp, isbn, libraryApp } from './helpers.ts';

const book = (n: number) => ({ title: `Book ${n}`, author: `Author ${n}`, isbn: isbn(n) });
const NOT_ACCEPTABLE = { detail: 'Could not satisfy the request Accept header.' };

/** A stand-in for the browsable API: HTML, format `api`. */
class PageRenderer extends BaseRenderer {
  readonly mediaType = 'text/html';
  readonly format = 'api';
  render(data: unknown, context: RenderContext): string {
    return `<p>${context.status}</p><pre>${JSON.stringify(data)}</pre>`;
  }
}

/** The Library's books, open to anonymous writes (these tests are not about permissions). */
class OpenBooks extends BookViewSet {
  override permissionClasses: Permission[] = [];
}

class TwoRendererBooks extends OpenBooks {
  override rendererClasses = [new JSONRenderer(), new PageRenderer()];
}

t.test('with JSON only (the Library)', async (t) => {
  const { app, client, db } = await libraryApp(t);
  const books = await seedIfEmpty(db.orm.em.fork());

  await t.test('no Accept, */* and application/json all get compact JSON', async (t) => {
    for (const accept of [undefined, '*/*', 'application/json', 'application/*', 'application/json; charset=utf-8']) {
      const res = await client.get('/api/books/', { headers: accept ? { accept } : {} });
      t.equal(res.statusCode, 200, String(accept));
      t.equal(res.headers['content-type'], 'application/json; charset=utf-8', String(accept));
      t.equal(res.data.length, books);
    }
  });

  await t.test('text/html alone is a 406 with DRF words', async (t) => {
    const res = await client.get('/api/books/', { headers: { accept: 'text/html' } });
    t.equal(res.statusCode, 406);
    t.same(res.data, NOT_ACCEPTABLE);
    t.equal(res.headers['allow'], 'GET, POST, HEAD, OPTIONS', 'a 406 still says what the route allows');
  });

  await t.test('a malformed Accept header is a 406, not a 500', async (t) => {
    for (const accept of ['garbage', 'text', ';;;', 'application/']) {
      const res = await client.get('/api/books/', { headers: { accept } });
      t.equal(res.statusCode, 406, accept);
    }
  });

  await t.test('q-values are honoured: a lower-ranked JSON is still acceptable', async (t) => {
    const res = await client.get('/api/books/', { headers: { accept: 'text/html;q=0.5, application/json' } });
    t.equal(res.statusCode, 200);
    const low = await client.get('/api/books/', { headers: { accept: 'application/json;q=0.1, text/html' } });
    t.equal(low.statusCode, 200, 'JSON at q=0.1 beats nothing');
    t.match(low.headers['content-type'], /^application\/json/);
  });

  await t.test('q=0 makes a media type unacceptable, even under */*', async (t) => {
    const res = await client.get('/api/books/', { headers: { accept: 'application/json;q=0, */*' } });
    t.equal(res.statusCode, 406);
    t.same(res.data, NOT_ACCEPTABLE);
  });

  await t.test('a browser Accept (with */*) gets JSON', async (t) => {
    const res = await client.get('/api/books/', { headers: { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' } });
    t.equal(res.statusCode, 200);
    t.match(res.headers['content-type'], /^application\/json/);
  });

  await t.test('?format=json wins over Accept', async (t) => {
    const res = await client.get('/api/books/?format=json', { headers: { accept: 'text/html' } });
    t.equal(res.statusCode, 200);
    t.match(res.headers['content-type'], /^application\/json/);
    t.equal(res.data.length, books);
  });

  await t.test('content negotiation comes before authentication and permissions', async (t) => {
    const refused = await client.post('/api/books/', book(1), { headers: { accept: 'text/html' } });
    t.equal(refused.statusCode, 406, 'an anonymous write asking for HTML');
    t.same(refused.data, NOT_ACCEPTABLE);
    const unknown = await client.post('/api/books/?format=xml', book(1));
    t.equal(unknown.statusCode, 404, 'an unknown format is a 404 before permissions too');
    const denied = await client.post('/api/books/', book(1));
    t.ok(denied.statusCode === 401 || denied.statusCode === 403, 'the same write asking for JSON meets the permissions');
  });

  await t.test('an unknown or absent renderer format is a 404', async (t) => {
    for (const format of ['xml', 'api', 'JSON']) {
      const res = await client.get(`/api/books/?format=${format}`);
      t.equal(res.statusCode, 404, format);
      t.same(res.data, { detail: 'Not found.' });
    }
  });

  await t.test('the .json suffix serves the list, an item and the root, whatever the Accept', async (t) => {
    const list = await client.get('/api/books.json', { headers: { accept: 'text/html' } });
    t.equal(list.statusCode, 200);
    t.equal(list.data.length, books);
    t.equal(list.headers['allow'], 'GET, POST, HEAD, OPTIONS');
    const id = list.data[0].id;
    const item = await client.get(`/api/books/${id}.json`, { headers: { accept: 'text/html' } });
    t.equal(item.statusCode, 200);
    t.equal(item.data.id, id);
    t.equal(item.headers['allow'], 'GET, PUT, PATCH, DELETE, HEAD, OPTIONS');
    const root = await client.get('/api/.json', { headers: { host: 'example.org' } });
    t.equal(root.statusCode, 200);
    t.match(root.data, { books: 'http://example.org/api/books/' }, 'links keep pointing at the plain URLs');
    t.equal((await client.get('/api/books.json/')).statusCode, 200, 'a trailing slash after the suffix is fine');
  });

  await t.test('an unknown suffix or a suffix on a wrong id is a 404', async (t) => {
    for (const url of ['/api/books.xml', '/api/books/1.xml', '/api/books/abc.json', '/api/.xml']) {
      const res = await client.get(url);
      t.equal(res.statusCode, 404, url);
      t.same(res.data, { detail: 'Not found.' });
    }
  });

  await t.test('with one renderer there is no Vary: Accept', async (t) => {
    const res = await client.get('/api/books/');
    t.notOk(res.headers['vary']);
  });

  await t.test('HEAD negotiates like GET', async (t) => {
    const refused = await client.head('/api/books/', { headers: { accept: 'text/html' } });
    t.equal(refused.statusCode, 406);
    t.equal(refused.body, '');
    const pretty = await client.head('/api/books/', { headers: { accept: 'application/json; indent=2' } });
    const get = await client.get('/api/books/', { headers: { accept: 'application/json; indent=2' } });
    t.equal(pretty.headers['content-type'], get.headers['content-type']);
    t.equal(pretty.headers['content-length'], get.headers['content-length']);
  });

  await t.test('routes keep their names and suffix twins stay out of OpenAPI', async (t) => {
    t.equal(app.urls.path('book-list'), '/api/books/');
    t.equal(app.urls.path('book-detail', { id: 3 }), '/api/books/3/');
    t.equal(app.urls.path('api-root'), '/api/');
    t.notOk(app.urls.names().some((name) => name.includes('json')));
    const paths = Object.keys((app.swagger() as { paths: Record<string, unknown> }).paths);
    t.notOk(paths.some((p) => p.includes('.json')), paths.join(' '));
    const list = (app.swagger() as any).paths['/api/books/'];
    t.same(Object.keys(list.get.responses['200'].content), ['application/json'], 'responses list the renderers');
    t.same(Object.keys(list.post.requestBody.content), ['application/json', 'application/x-www-form-urlencoded', 'multipart/form-data'], 'bodies list the parsers');
  });
});

t.test('with JSON and an HTML renderer', async (t) => {
  const { client } = await booksApiApp(t, new TwoRendererBooks());
  await client.post('/api/books/', book(1));
  const html = (accept: string, url = '/api/books/') => client.get(url, { headers: { accept } });

  await t.test('no Accept or */* picks the first renderer, JSON', async (t) => {
    for (const accept of ['*/*', '']) {
      const res = await client.get('/api/books/', { headers: accept ? { accept } : {} });
      t.match(res.headers['content-type'], /^application\/json/, accept || 'none');
    }
  });

  await t.test('text/html picks HTML, and a browser gets HTML', async (t) => {
    t.match((await html('text/html')).headers['content-type'], /^text\/html; charset=utf-8$/);
    const browser = await html('text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8');
    t.match(browser.headers['content-type'], /^text\/html/);
    t.match(browser.body, /^<p>200<\/p>/);
  });

  await t.test('q-values decide before specificity', async (t) => {
    t.match((await html('application/json;q=0.1, text/html')).headers['content-type'], /^text\/html/);
    t.match((await html('text/html;q=0.5, application/json')).headers['content-type'], /^application\/json/);
    t.match((await html('text/html;q=0.9, */*')).headers['content-type'], /^application\/json/, '*/* at q=1 beats text/html at 0.9');
    t.match((await html('text/*, */*;q=0.5')).headers['content-type'], /^text\/html/);
  });

  await t.test('at equal quality the more specific entry wins, then the renderers order', async (t) => {
    t.match((await html('*/*, text/html')).headers['content-type'], /^text\/html/);
    t.match((await html('text/html, application/json')).headers['content-type'], /^application\/json/, "DRF's order: renderers first");
  });

  await t.test('?format= and suffixes narrow the choice and win over Accept', async (t) => {
    t.match((await html('application/json', '/api/books/?format=api')).headers['content-type'], /^text\/html/);
    t.match((await html('text/html', '/api/books/?format=json')).headers['content-type'], /^application\/json/);
    t.match((await html('text/html', '/api/books.json')).headers['content-type'], /^application\/json/);
    t.match((await html('application/json', '/api/books.api')).headers['content-type'], /^text\/html/);
    t.equal((await html('*/*', '/api/books/?format=xml')).statusCode, 404);
  });

  await t.test('every answer says Vary: Accept', async (t) => {
    t.equal((await client.get('/api/books/')).headers['vary'], 'Accept');
    t.equal((await html('text/html')).headers['vary'], 'Accept');
    t.equal((await client.get('/api/books/99999/')).headers['vary'], 'Accept', 'errors too');
  });

  await t.test('suffix routes run the same handlers for every method', async (t) => {
    const created = await client.post('/api/books.json', book(2));
    t.equal(created.statusCode, 201);
    t.match(created.headers['location'], new RegExp(`/api/books/${created.data.id}/$`), 'Location names the plain URL');
    const patched = await client.patch(`/api/books/${created.data.id}.json`, { subtitle: 'Suffixed' });
    t.equal(patched.data.subtitle, 'Suffixed');
    const options = await client.options('/api/books.json');
    t.equal(options.data.name, 'Book List');
    const refused = await client.delete('/api/books.json');
    t.equal(refused.statusCode, 405);
    t.same(refused.data, { detail: 'Method "DELETE" not allowed.' });
    const head = await client.head(`/api/books/${created.data.id}.json`);
    t.equal(head.statusCode, 200);
    t.equal(head.body, '');
    t.equal((await client.delete(`/api/books/${created.data.id}.json`)).statusCode, 204);
  });

  await t.test('OPTIONS lists both renderers', async (t) => {
    const res = await client.options('/api/books/');
    t.same(res.data.renders, ['application/json', 'text/html']);
  });
});

t.test('Accept parsing', async (t) => {
  await t.test('media types keep their parameters and quality apart', async (t) => {
    const type = new MediaType(' Application/JSON ; indent=4; q=0.5 ');
    t.equal(type.essence, 'application/json');
    t.same(type.params, { indent: '4' });
    t.equal(type.quality, 0.5);
    t.equal(type.precedence, 3);
    t.equal(type.toString(), 'application/json; indent=4');
  });

  await t.test('precedence follows DRF: */*, type/*, type/subtype, with parameters', async (t) => {
    t.same(['*/*', 'text/*', 'text/html', 'text/html; level=1', '*'].map((m) => new MediaType(m).precedence), [0, 1, 2, 3, 0]);
  });

  await t.test('a malformed q counts as 1 and q is clamped to 0..1', async (t) => {
    t.same(['text/html;q=abc', 'text/html;q=7', 'text/html;q=-1', 'text/html;q='].map((m) => new MediaType(m).quality), [1, 1, 0, 1]);
  });

  await t.test('an empty or missing header accepts anything', async (t) => {
    t.same(parseAccept(undefined).map(String), ['*/*']);
    t.same(parseAccept(' , ').map(String), ['*/*']);
    t.same(parseAccept('text/html, application/json;q=0.5').map(String), ['text/html', 'application/json']);
  });

  await t.test('the urlFormatOverride setting names the query parameter; null turns it off', async (t) => {
    const negotiator = new DefaultContentNegotiation();
    const renderers = [new JSONRenderer(), new PageRenderer()];
    const request = (urlFormatOverride: string | null, query: Record<string, unknown>) =>
      ({ headers: { accept: 'text/html' }, query, server: { restSettings: { urlFormatOverride } } }) as unknown as FastifyRequest;
    t.equal(negotiator.selectRenderer(request('format', { format: 'json' }), renderers).renderer.format, 'json');
    t.equal(negotiator.selectRenderer(request('as', { as: 'json', format: 'api' }), renderers).renderer.format, 'json');
    t.equal(negotiator.selectRenderer(request(null, { format: 'json' }), renderers).renderer.format, 'api', 'Accept decides');
    t.equal(negotiator.selectRenderer(request('format', { format: ['api', 'json'] }), renderers).renderer.format, 'json', 'the last of repeated values');
    t.equal(negotiator.selectRenderer(request(null, {}), renderers, 'json').renderer.format, 'json', 'a URL suffix still forces its format');
  });

  await t.test('the negotiator remembers a bounded number of headers and stays right', async (t) => {
    const negotiator = new DefaultContentNegotiation();
    negotiator.cacheSize = 4;
    const renderers = [new JSONRenderer(), new PageRenderer()];
    const request = (accept: string) =>
      ({ headers: { accept }, query: {}, server: { restSettings: { urlFormatOverride: 'format' } } }) as unknown as FastifyRequest;
    for (let i = 0; i < 20; i++) {
      const accept = i % 2 ? `text/html;q=0.${(i % 9) + 1}, application/json;q=0.05` : `application/json;q=0.${(i % 9) + 1}, text/html;q=0.01`;
      const chosen = negotiator.selectRenderer(request(accept), renderers);
      t.equal(chosen.renderer.format, i % 2 ? 'api' : 'json', accept);
      t.equal(negotiator.selectRenderer(request(accept), renderers), chosen, 'the same answer object the second time');
    }
  });
});
