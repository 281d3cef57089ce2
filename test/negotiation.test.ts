import t from 'tap';
import type { FastifyRequest } from 'fastify';
import { seedIfEmpty } from '../src/library/seed.ts';
import { BookViewSet } from '../src/library/views.ts';
import { BaseRenderer, DefaultContentNegotiation, JSONRenderer, MediaType, parseAccept, type Permission, type RenderContext } from '../src/rest/index.ts';
import { booksApiApp, isbn, libraryApp } from './helpers.ts';

const book = (n: number) => ({ title: `Book ${n}`, author: `Author ${n}`, isbn: isbn(n) });
const NOT_ACCEPTABLE = { detail: 'Could not satisfy the request Accept header.' };
const BROWSER = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

/** A minimal HTML renderer for the negotiator's own tests. */
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

t.test('the Library: JSON first, then the browsable API', async (t) => {
  const { app, client, db } = await libraryApp(t);
  const books = await seedIfEmpty(db.orm.em.fork());
  const typeOf = async (accept: string, url = '/api/books/') => {
    const res = await client.get(url, { headers: { accept } });
    return `${res.statusCode} ${String(res.headers['content-type']).split(';')[0]}`;
  };

  await t.test('no Accept, */* and application/json all get compact JSON', async (t) => {
    for (const accept of [undefined, '', '*/*', 'application/json', 'application/*', 'application/json; charset=utf-8']) {
      const res = await client.get('/api/books/', { headers: accept === undefined ? {} : { accept } });
      t.equal(res.statusCode, 200, String(accept));
      t.equal(res.headers['content-type'], 'application/json; charset=utf-8', String(accept));
      t.equal(res.data.count, books);
    }
  });

  await t.test('text/html and a browser get the HTML page', async (t) => {
    t.equal(await typeOf('text/html'), '200 text/html');
    t.equal(await typeOf(BROWSER), '200 text/html');
  });

  await t.test('an Accept no renderer satisfies is a 406 with DRF words', async (t) => {
    for (const accept of ['application/xml', 'image/png, text/csv', 'application/json;q=0, text/html;q=0']) {
      const res = await client.get('/api/books/', { headers: { accept } });
      t.equal(res.statusCode, 406, accept);
      t.same(res.data, NOT_ACCEPTABLE);
      t.equal(res.headers['allow'], 'GET, POST, HEAD, OPTIONS', 'a 406 still says what the route allows');
    }
  });

  await t.test('a malformed Accept header is a 406, not a 500', async (t) => {
    for (const accept of ['garbage', 'text', ';;;', 'application/']) {
      t.equal((await client.get('/api/books/', { headers: { accept } })).statusCode, 406, accept);
    }
  });

  await t.test('q-values decide first (DRF ignores them)', async (t) => {
    t.equal(await typeOf('text/html;q=0.5, application/json'), '200 application/json');
    t.equal(await typeOf('application/json;q=0.1, text/html'), '200 text/html');
    t.equal(await typeOf('text/html;q=0.9, */*'), '200 application/json', '*/* at q=1 beats text/html at 0.9');
    t.equal(await typeOf('text/*, */*;q=0.5'), '200 text/html');
    t.equal(await typeOf('application/json;q=0, */*'), '200 text/html', 'q=0 rules JSON out even under */*');
  });

  await t.test('at equal quality the more specific entry wins, then the renderers order', async (t) => {
    t.equal(await typeOf('*/*, text/html'), '200 text/html');
    t.equal(await typeOf('text/html, application/json'), '200 application/json', "DRF's order: renderers first");
  });

  await t.test('?format= narrows the choice and wins over Accept', async (t) => {
    t.equal(await typeOf('text/html', '/api/books/?format=json'), '200 application/json');
    t.equal(await typeOf('application/json', '/api/books/?format=api'), '200 text/html');
    t.equal(await typeOf('application/xml', '/api/books/?format=json'), '200 application/json', 'even over an Accept nothing satisfies');
  });

  await t.test('an unknown format is a 404', async (t) => {
    for (const format of ['xml', 'JSON', 'yaml']) {
      const res = await client.get(`/api/books/?format=${format}`);
      t.equal(res.statusCode, 404, format);
      t.same(res.data, { detail: 'Not found.' });
    }
  });

  await t.test('content negotiation comes before authentication and permissions', async (t) => {
    const refused = await client.post('/api/books/', book(1), { headers: { accept: 'application/xml' } });
    t.equal(refused.statusCode, 406, 'an anonymous write asking for XML');
    t.same(refused.data, NOT_ACCEPTABLE);
    const unknown = await client.post('/api/books/?format=xml', book(1));
    t.equal(unknown.statusCode, 404, 'an unknown format is a 404 before permissions too');
    const denied = await client.post('/api/books/', book(1));
    t.ok(denied.statusCode === 401 || denied.statusCode === 403, 'the same write asking for JSON meets the permissions');
  });

  await t.test('the .json suffix serves the list, an item and the root, whatever the Accept', async (t) => {
    const list = await client.get('/api/books.json', { headers: { accept: 'text/html' } });
    t.equal(list.statusCode, 200);
    t.match(list.headers['content-type'], /^application\/json/);
    t.equal(list.data.count, books);
    t.equal(list.headers['allow'], 'GET, POST, HEAD, OPTIONS');
    const id = list.data.results[0].id;
    const item = await client.get(`/api/books/${id}.json`, { headers: { accept: 'text/html' } });
    t.equal(item.statusCode, 200);
    t.equal(item.data.id, id);
    t.equal(item.headers['allow'], 'GET, PUT, PATCH, DELETE, HEAD, OPTIONS');
    const root = await client.get('/api/.json', { headers: { host: 'example.org', accept: 'text/html' } });
    t.equal(root.statusCode, 200);
    t.match(root.data, { books: 'http://example.org/api/books/' }, 'links keep pointing at the plain URLs');
    t.equal((await client.get('/api/books.json/')).statusCode, 200, 'a trailing slash after the suffix is fine');
  });

  await t.test('the .api suffix serves the HTML page, whatever the Accept', async (t) => {
    t.equal(await typeOf('application/json', '/api/books.api'), '200 text/html');
    t.equal(await typeOf('application/json', '/api/.api'), '200 text/html');
  });

  await t.test('an unknown suffix or a suffix on a wrong id is a 404', async (t) => {
    for (const url of ['/api/books.xml', '/api/books/1.xml', '/api/books/abc.json', '/api/.xml']) {
      const res = await client.get(url);
      t.equal(res.statusCode, 404, url);
      t.same(res.data, { detail: 'Not found.' });
    }
  });

  await t.test('every answer says Vary: Accept, errors included', async (t) => {
    t.equal((await client.get('/api/books/')).headers['vary'], 'Accept');
    t.match((await client.get('/api/books/', { headers: { accept: 'text/html' } })).headers['vary'], /\bAccept\b/);
    t.equal((await client.get('/api/books/99999/')).headers['vary'], 'Accept');
  });

  await t.test('HEAD negotiates like GET', async (t) => {
    const refused = await client.head('/api/books/', { headers: { accept: 'application/xml' } });
    t.equal(refused.statusCode, 406);
    t.equal(refused.body, '');
    const pretty = await client.head('/api/books/', { headers: { accept: 'application/json; indent=2' } });
    const get = await client.get('/api/books/', { headers: { accept: 'application/json; indent=2' } });
    t.equal(pretty.statusCode, 200);
    t.equal(pretty.body, '');
    t.equal(pretty.headers['content-type'], get.headers['content-type']);
    t.equal(pretty.headers['content-length'], get.headers['content-length']);
  });

  await t.test('OPTIONS lists the renderers', async (t) => {
    t.same((await client.options('/api/books/')).data.renders, ['application/json', 'text/html']);
    t.same((await client.options('/api/')).data.renders, ['application/json', 'text/html']);
  });

  await t.test('routes keep their names and suffix twins stay out of OpenAPI', async (t) => {
    t.equal(app.urls.path('book-list'), '/api/books/');
    t.equal(app.urls.path('book-detail', { id: 3 }), '/api/books/3/');
    t.equal(app.urls.path('api-root'), '/api/');
    t.notOk(app.urls.names().some((name) => /json|api$/.test(name)));
    const paths = Object.keys((app.swagger() as { paths: Record<string, unknown> }).paths);
    t.notOk(paths.some((p) => p.includes('.json') || p.includes('.api')), paths.join(' '));
    const list = (app.swagger() as any).paths['/api/books/'];
    t.same(Object.keys(list.get.responses['200'].content), ['application/json'], 'responses list the renderers that document themselves');
    t.same(Object.keys(list.post.requestBody.content), ['application/json', 'application/x-www-form-urlencoded', 'multipart/form-data'], 'bodies list the parsers');
  });
});

t.test('an app that renders JSON only', async (t) => {
  const { client } = await booksApiApp(t, new OpenBooks(), { defaultRendererClasses: [new JSONRenderer()] });
  await client.post('/api/books/', book(1));
  const typeOf = async (accept: string, url = '/api/books/') => {
    const res = await client.get(url, { headers: { accept } });
    return `${res.statusCode} ${String(res.headers['content-type']).split(';')[0]}`;
  };

  await t.test('text/html alone is a 406, and a browser (with */*) gets JSON', async (t) => {
    const res = await client.get('/api/books/', { headers: { accept: 'text/html' } });
    t.equal(res.statusCode, 406);
    t.same(res.data, NOT_ACCEPTABLE);
    t.equal(await typeOf(BROWSER), '200 application/json');
  });

  await t.test('a lower-ranked JSON is still acceptable; q=0 is not', async (t) => {
    t.equal(await typeOf('application/json;q=0.1, text/html'), '200 application/json');
    t.equal(await typeOf('application/json;q=0, */*'), '406 application/json');
  });

  await t.test('?format=api and the .api suffix are unknown here', async (t) => {
    t.equal((await client.get('/api/books/?format=api')).statusCode, 404);
    t.equal((await client.get('/api/books.api')).statusCode, 404);
  });

  await t.test('with one renderer there is no Vary: Accept', async (t) => {
    t.notOk((await client.get('/api/books/')).headers['vary']);
  });

  await t.test('OPTIONS lists the one renderer', async (t) => {
    t.same((await client.options('/api/books/')).data.renders, ['application/json']);
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
