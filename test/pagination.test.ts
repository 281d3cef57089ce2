import Fastify, { type FastifyRequest } from 'fastify';
import t, { type Test } from 'tap';
import { migrationsPath } from '../src/library/config.ts';
import { Book, entities } from '../src/library/entities.ts';
import {
  APIClient,
  BaseFilterBackend,
  createTestDatabase,
  CursorPagination,
  databasePlugin,
  DefaultRouter,
  fastrest,
  LimitOffsetPagination,
  ModelSerializer,
  PageNumberPagination,
  ReadOnlyModelViewSet,
  resolveSettings,
  serverOptions,
  type AnyQueryBuilder,
  type BasePagination,
  type GenericAPIView,
  type PaginationHtml,
  type RestSettings,
  type TestDatabase,
} from '../src/rest/index.ts';
import { keysetCondition } from '../src/rest/pagination.ts';
import { isbn, libraryApp } from './helpers.ts';

type Json = Record<string, any>;

/** The Book columns only: the paginators are under test, not the relations of the Library's serializer. */
class BookSerializer extends ModelSerializer.for(Book, {
  fields: ['id', 'title', 'subtitle', 'isbn', 'createdAt', 'updatedAt'],
  readOnlyFields: ['id', 'createdAt', 'updatedAt'],
}) {}

/** `?search=` narrows to titles containing the text; `?min_id=` is an integer the schema checks. */
class TitleSearch extends BaseFilterBackend {
  filterQueryset(request: FastifyRequest, qb: AnyQueryBuilder): AnyQueryBuilder {
    const query = request.query as { search?: string; min_id?: number };
    if (query.search) qb.andWhere({ title: { $ilike: `%${query.search}%` } });
    if (query.min_id !== undefined) qb.andWhere({ id: { $gte: query.min_id } });
    return qb;
  }

  override getQuerystringProperties() {
    return { search: { type: 'string' }, min_id: { type: 'integer', minimum: 1 } };
  }
}

/** `?sort=title` orders the list and tells cursor pagination the order, as an ordering filter does. */
class SortParam extends BaseFilterBackend {
  filterQueryset(request: FastifyRequest, qb: AnyQueryBuilder, view: GenericAPIView): AnyQueryBuilder {
    return qb.orderBy(this.getOrdering(request, view).map((term) => ({ [term.replace(/^-/, '')]: term.startsWith('-') ? 'desc' : 'asc' })) as never);
  }

  getOrdering(request: FastifyRequest, _view: GenericAPIView): string[] {
    const sort = (request.query as { sort?: string }).sort;
    return sort ? sort.split(',') : [];
  }
}

/** A read-only Books viewset with the given paginator; it keeps what `toHtml` gave for the last list. */
function books(pagination: BasePagination | null | undefined, filterBackends: BaseFilterBackend[] = [new TitleSearch()]) {
  return new (class extends ReadOnlyModelViewSet<BookSerializer> {
    readonly serializer = new BookSerializer();
    override pagination = pagination;
    override filterBackends = filterBackends;
    html: PaginationHtml | null = null;

    override async list(request: FastifyRequest): Promise<unknown> {
      const body = await super.list(request);
      this.html = this.getPaginator(request)?.toHtml(request, this, body) ?? null;
      return body;
    }
  })();
}

const SECRET = 'a-test-secret-that-is-long-enough-for-anyone';
const base = Date.parse('2024-01-01T00:00:00Z');

/** 23 books; two by two they share a creation time (ties), every third title names Tolkien. */
function sampleRows(count = 23, offset = 0) {
  return Array.from({ length: count }, (_, i) => {
    const n = i + offset;
    const createdAt = new Date(base + Math.floor(n / 2) * 60_000);
    return { title: `${n % 3 === 0 ? 'Tolkien' : 'Book'} ${String(n).padStart(2, '0')}`, subtitle: n % 2 ? 'odd' : 'even', author: 'A', isbn: isbn(n), createdAt, updatedAt: createdAt };
  });
}

/** Inserts the rows; when a book's author is a relation, they all refer to one author named A. */
async function insertBooks(db: TestDatabase, rows: ReturnType<typeof sampleRows>) {
  const em = db.orm.em.fork();
  const author = db.orm.getMetadata().get(Book as never).properties['author'] as { kind: string; type: string } | undefined;
  if (author && author.kind !== 'scalar') {
    const existing = await em.findOne(author.type as never, { name: 'A' } as never);
    const id = existing ? (existing as { id: number }).id : await em.insert(author.type as never, { name: 'A' } as never);
    await em.insertMany(Book, rows.map((row) => ({ ...row, author: id })) as never);
  } else {
    await em.insertMany(Book, rows as never);
  }
}

/** The rows as the API orders them for `-createdAt, id`. */
async function idsNewestFirst(db: TestDatabase): Promise<number[]> {
  const all = await db.orm.em.fork().find(Book, {}, { orderBy: [{ createdAt: 'desc' }, { id: 'asc' }] });
  return all.map((b) => b.id);
}

/** A fastrest app over `db` with its own router of test viewsets. */
async function appOn(t: Test, db: TestDatabase, settings: Partial<RestSettings>, viewsets: Record<string, ReturnType<typeof books>>) {
  const app = Fastify(serverOptions(settings));
  await app.register(databasePlugin, { orm: db.orm, closeOnExit: false });
  await app.register(fastrest, { settings });
  const router = new DefaultRouter();
  for (const [prefix, viewset] of Object.entries(viewsets)) router.register(prefix, viewset, { basename: prefix });
  await app.register(router.plugin('/api'));
  await app.ready();
  t.teardown(() => app.close());
  return { app, client: new APIClient(app) };
}

async function seededDatabase(t: Test, rows = sampleRows()) {
  const db = await createTestDatabase({ entities, migrationsPath });
  t.teardown(() => db.drop());
  if (rows.length) await insertBooks(db, rows);
  return db;
}

/** The path and query of an absolute link, to follow it with `app.inject()`. */
const path = (url: string) => url.replace(/^https?:\/\/[^/]+/, '');

const ids = (res: { data: Json }) => (res.data.results as Json[]).map((b) => b.id);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const host = { headers: { host: 'api.test' } };

t.test('page number pagination answers like DRF', async (t) => {
  const db = await seededDatabase(t);
  const pages = books(new PageNumberPagination());
  const { client } = await appOn(t, db, { pageSize: 5, maxPageSize: 20, secretKey: SECRET }, { pages });

  await t.test('a page holds count, absolute next and previous links, and its rows', async (t) => {
    const res = await client.get('/api/pages/?page=2', host);
    t.equal(res.statusCode, 200);
    t.same(Object.keys(res.data), ['count', 'next', 'previous', 'results']);
    t.equal(res.data.count, 23);
    t.equal(res.data.next, 'http://api.test/api/pages/?page=3');
    t.equal(res.data.previous, 'http://api.test/api/pages/', 'the link to page 1 drops page');
    t.same(ids(res), range(6, 10));
    const first = await client.get('/api/pages/', host);
    t.same(ids(first), range(1, 5), 'no page parameter is page 1');
    t.equal(first.data.previous, null);
    t.equal(first.data.next, 'http://api.test/api/pages/?page=2');
  });

  await t.test('links keep the other query parameters', async (t) => {
    const res = await client.get('/api/pages/?search=Tolkien&page=2&page_size=3', host);
    t.equal(res.data.count, 8);
    t.same(
      res.data.results.map((b: Json) => b.title),
      ['Tolkien 09', 'Tolkien 12', 'Tolkien 15'],
    );
    t.equal(res.data.next, 'http://api.test/api/pages/?search=Tolkien&page=3&page_size=3');
    t.equal(res.data.previous, 'http://api.test/api/pages/?search=Tolkien&page_size=3');
    const spaced = await client.get('/api/pages/?search=Tolkien%200&page_size=1', host);
    t.equal(spaced.data.next, 'http://api.test/api/pages/?search=Tolkien+0&page_size=1&page=2', 'values are re-encoded, new parameters go last');
  });

  await t.test('links keep the host as the request names it, an explicit default port included', async (t) => {
    const res = await client.get('/api/pages/?page=2', { headers: { host: 'api.test:80' } });
    t.equal(res.data.next, 'http://api.test:80/api/pages/?page=3');
    t.equal(res.data.previous, 'http://api.test:80/api/pages/');
  });

  await t.test('page=last is the last page', async (t) => {
    const res = await client.get('/api/pages/?page=last', host);
    t.equal(res.statusCode, 200);
    t.same(ids(res), range(21, 23));
    t.equal(res.data.next, null);
    t.equal(res.data.previous, 'http://api.test/api/pages/?page=4');
  });

  await t.test('a page that is not a whole number from 1 to the last is a 404 Invalid page', async (t) => {
    for (const page of ['0', '-1', 'abc', '1.5', '6', '1e3', '99999999999999999999999', 'LAST']) {
      const res = await client.get(`/api/pages/?page=${page}`);
      t.equal(res.statusCode, 404, page);
      t.same(res.data, { detail: 'Invalid page.' }, page);
    }
    t.equal((await client.get('/api/pages/?page=')).statusCode, 200, 'an empty page is page 1, as in DRF');
    t.equal((await client.get('/api/pages/?page=%2B2', host)).data.previous, 'http://api.test/api/pages/', '+2 is page 2');
  });

  await t.test('an invalid page is a 404 although other parameters of the same request still answer 400', async (t) => {
    const res = await client.get('/api/pages/?page=abc&min_id=abc');
    t.equal(res.statusCode, 400);
    t.same(res.data, { min_id: ['A valid integer is required.'] });
    const ok = await client.get('/api/pages/?page=2&min_id=10');
    t.same(ids(ok), range(15, 19));
  });

  await t.test('an empty list has one empty page and no other', async (t) => {
    const res = await client.get('/api/pages/?search=nothing');
    t.same(res.data, { count: 0, next: null, previous: null, results: [] });
    t.equal((await client.get('/api/pages/?search=nothing&page=last')).statusCode, 200);
    t.equal((await client.get('/api/pages/?search=nothing&page=2')).statusCode, 404);
  });

  await t.test('page_size is capped by maxPageSize and an invalid one falls back to the default', async (t) => {
    t.equal((await client.get('/api/pages/?page_size=1000')).data.results.length, 20, 'the maxPageSize setting caps it');
    for (const size of ['abc', '0', '-3', '']) t.equal((await client.get(`/api/pages/?page_size=${size}`)).data.results.length, 5, size);
    t.equal((await client.get('/api/pages/?page_size=7&page=last')).data.results.length, 2, '23 = 3 × 7 + 2');
  });

  await t.test('the browsable page gets previous, next and a window of page links', async (t) => {
    await client.get('/api/pages/?page=3&search=', host);
    const html = pages.html!;
    t.equal(html.template, 'pagination/numbers');
    t.equal(html.context['previousUrl'], 'http://api.test/api/pages/?page=2&search=');
    t.equal(html.context['nextUrl'], 'http://api.test/api/pages/?page=4&search=');
    t.same(
      (html.context['pageLinks'] as Json[]).map((l) => [l.number, l.isActive]),
      [
        [1, false],
        [2, false],
        [3, true],
        [4, false],
        [5, false],
      ],
    );
    t.equal((html.context['pageLinks'] as Json[])[0]!.url, 'http://api.test/api/pages/?search=');
    await client.get('/api/pages/?page=10&page_size=1', host);
    t.same(
      (pages.html!.context['pageLinks'] as Json[]).map((l) => (l.isBreak ? '…' : l.number)),
      [1, '…', 9, 10, 11, '…', 23],
    );
    await client.get('/api/pages/?search=Tolkien&page_size=10');
    t.equal(pages.html, null, 'a single page shows no control');
  });
});

t.test('page number defaults come from the settings of the app serving the request', async (t) => {
  const db = await seededDatabase(t);
  const shared = new PageNumberPagination();
  const viewset = books(shared);
  const small = await appOn(t, db, { pageSize: 2 }, { pages: viewset });
  const large = await appOn(t, db, { pageSize: 10, maxPageSize: 12 }, { pages: viewset });
  const none = await appOn(t, db, { pageSize: null }, { pages: viewset });
  t.equal((await small.client.get('/api/pages/')).data.results.length, 2);
  t.equal((await large.client.get('/api/pages/')).data.results.length, 10, 'the same paginator instance, another app');
  t.equal((await large.client.get('/api/pages/?page_size=99')).data.results.length, 12);
  t.equal((await small.client.get('/api/pages/?page_size=99')).data.results.length, 23, 'capped at the default maxPageSize of 100');
  const plain = await none.client.get('/api/pages/');
  t.ok(Array.isArray(plain.data), 'with pageSize null the list is not paginated, as in DRF');
  t.equal(plain.data.length, 23);
  t.equal((await none.client.get('/api/pages/?page_size=4')).data.results.length, 4, 'unless the client asks for a page size');
  shared.pageSize = 3;
  t.equal((await small.client.get('/api/pages/')).data.results.length, 3, 'a typed property overrides the setting');
  shared.maxPageSize = 4;
  t.equal((await large.client.get('/api/pages/?page_size=99')).data.results.length, 4);
});

t.test('counting can be estimated by the planner or left out', async (t) => {
  const db = await seededDatabase(t);
  const estimated = Object.assign(new PageNumberPagination(), { count: 'estimate' as const, estimateThreshold: 0 });
  const small = Object.assign(new PageNumberPagination(), { count: 'estimate' as const });
  const uncounted = Object.assign(new PageNumberPagination(), { count: 'none' as const });
  const windows = Object.assign(new LimitOffsetPagination(), { count: 'estimate' as const, estimateThreshold: 0 });
  const { client } = await appOn(t, db, { pageSize: 5 }, { estimated: books(estimated), small: books(small), uncounted: books(uncounted), windows: books(windows) });

  await t.test('an estimate is a whole number, and exact once the last page is known', async (t) => {
    for (const url of ['/api/estimated/', '/api/estimated/?search=Tolkien', '/api/windows/?limit=5', '/api/windows/?limit=5&search=Book']) {
      const res = await client.get(url);
      t.equal(res.statusCode, 200, url);
      t.ok(Number.isInteger(res.data.count) && res.data.count >= 0, `${url}: ${res.data.count}`);
    }
    const page = await client.get('/api/estimated/?page=2');
    t.ok(page.data.count > 10, 'never fewer than the rows seen before the next page');
    t.same(ids(page), range(6, 10));
    t.equal((await client.get('/api/estimated/?page=5')).data.count, 23, 'the last page makes it exact');
    t.equal((await client.get('/api/estimated/?search=Tolkien&page=2&page_size=5')).data.count, 8);
    t.equal((await client.get('/api/estimated/?page=6')).statusCode, 404, 'a page past the end is still invalid');
    t.equal((await client.get('/api/estimated/?page=last')).data.count, 23, 'page=last counts exactly');
    t.equal((await client.get('/api/windows/?limit=5&offset=20')).data.count, 23);
  });

  await t.test('below the threshold the count is exact', async (t) => {
    t.equal((await client.get('/api/small/')).data.count, 23);
    t.equal((await client.get('/api/small/?search=Tolkien')).data.count, 8);
  });

  await t.test('without a count the envelope has none and next is found by reading one row more', async (t) => {
    const res = await client.get('/api/uncounted/?page=4');
    t.same(Object.keys(res.data), ['next', 'previous', 'results']);
    t.match(res.data.next, /\?page=5$/);
    const last = await client.get('/api/uncounted/?page=5');
    t.equal(last.data.next, null);
    t.same(ids(last), range(21, 23));
    t.same((await client.get('/api/uncounted/?page=6')).data, { detail: 'Invalid page.' });
    t.same(ids(await client.get('/api/uncounted/?page=last')), range(21, 23), 'page=last still works');
  });
});

t.test('limit/offset pagination answers like DRF', async (t) => {
  const db = await seededDatabase(t);
  const windows = books(new LimitOffsetPagination());
  const capped = books(Object.assign(new LimitOffsetPagination(), { defaultLimit: null, maxLimit: 6 }));
  const { client } = await appOn(t, db, { pageSize: 5, maxPageSize: 20 }, { windows, capped });

  await t.test('a window holds count, absolute links and its rows', async (t) => {
    const res = await client.get('/api/windows/?limit=5&offset=10', host);
    t.same(Object.keys(res.data), ['count', 'next', 'previous', 'results']);
    t.equal(res.data.count, 23);
    t.equal(res.data.next, 'http://api.test/api/windows/?limit=5&offset=15');
    t.equal(res.data.previous, 'http://api.test/api/windows/?limit=5&offset=5');
    t.same(ids(res), range(11, 15));
    const near = await client.get('/api/windows/?offset=3&limit=5&search=', host);
    t.equal(near.data.previous, 'http://api.test/api/windows/?limit=5&search=', 'an offset of 0 is dropped');
    const end = await client.get('/api/windows/?limit=5&offset=20');
    t.equal(end.data.next, null);
    t.same(ids(end), range(21, 23));
    const past = await client.get('/api/windows/?limit=5&offset=100');
    t.same(past.data.results, []);
    t.equal(past.data.count, 23);
  });

  await t.test('the default limit comes from the settings and links name the limit', async (t) => {
    const res = await client.get('/api/windows/', host);
    t.same(ids(res), range(1, 5));
    t.equal(res.data.next, 'http://api.test/api/windows/?limit=5&offset=5');
  });

  await t.test('an invalid limit falls back to the default, an invalid offset to 0, never an error', async (t) => {
    for (const limit of ['abc', '0', '-1', '2.5']) t.same(ids(await client.get(`/api/windows/?limit=${limit}`)), range(1, 5), limit);
    for (const offset of ['abc', '-1', '2.5']) t.same(ids(await client.get(`/api/windows/?limit=2&offset=${offset}`)), [1, 2], offset);
    t.equal((await client.get('/api/windows/?limit=1000')).data.results.length, 20, 'maxPageSize caps the limit');
    t.equal((await client.get('/api/capped/?limit=1000')).data.results.length, 6, 'so does maxLimit');
    t.equal((await client.get('/api/windows/?limit=2&offset=99999999999999999999999')).data.results.length, 0);
  });

  await t.test('without a limit and without a default the list is the plain array', async (t) => {
    const plain = await client.get('/api/capped/');
    t.ok(Array.isArray(plain.data));
    t.equal(plain.data.length, 23);
    t.ok(Array.isArray((await client.get('/api/capped/?limit=abc')).data), 'an invalid limit is no limit');
    t.equal((await client.get('/api/capped/?limit=2')).data.count, 23);
  });

  await t.test('the browsable page gets the same page links DRF computes from limit and offset', async (t) => {
    await client.get('/api/windows/?limit=5&offset=10', host);
    const context = windows.html!.context;
    t.equal(context['previousUrl'], 'http://api.test/api/windows/?limit=5&offset=5');
    const links = context['pageLinks'] as Json[];
    t.same(
      links.map((l) => [l.number, l.isActive]),
      [
        [1, false],
        [2, false],
        [3, true],
        [4, false],
        [5, false],
      ],
    );
    t.equal(links[0]!.url, 'http://api.test/api/windows/?limit=5');
    t.equal(links[4]!.url, 'http://api.test/api/windows/?limit=5&offset=20');
    await client.get('/api/capped/');
    t.equal(capped.html, null, 'an unpaginated list shows no control');
  });
});

t.test("the Library's book list is one page of 20 by default, and ?limit= asks for another size", async (t) => {
  const { client, db } = await libraryApp(t);
  await insertBooks(db, sampleRows(27));
  const first = await client.get('/api/books/', host);
  t.equal(first.data.count, 27);
  t.equal(first.data.results.length, 20, 'the default pageSize is 20');
  t.equal(first.data.next, 'http://api.test/api/books/?limit=20&offset=20');
  const page = await client.get('/api/books/?limit=2&offset=2', host);
  t.equal(page.data.count, 27);
  t.equal(page.data.next, 'http://api.test/api/books/?limit=2&offset=4');
  t.equal(page.data.previous, 'http://api.test/api/books/?limit=2');
  t.equal(page.data.results.length, 2);
  t.equal((await client.get('/api/books/?offset=25')).data.results.length, 2, 'an offset alone pages with the default limit');

  await insertBooks(db, [{ ...sampleRows(1, 50)[0]!, isbn: 'not-an-isbn' }]);
  const stored = await client.get('/api/books/?offset=27');
  t.equal(stored.statusCode, 200, 'a row stored outside the API that breaks a documented constraint is still listed');
  t.equal(stored.data.results.at(-1).isbn, 'not-an-isbn');

  const doc = (await client.get('/openapi.json')).data;
  const list = doc.paths['/api/books/'].get;
  t.same(list.responses[200].content['application/json'].schema, { $ref: '#/components/schemas/PaginatedBookList' });
  t.match(
    list.parameters.filter((p: Json) => ['limit', 'offset'].includes(p.name)),
    [
      { in: 'query', name: 'limit', required: false, schema: { type: 'integer', minimum: 1 } },
      { in: 'query', name: 'offset', required: false, schema: { type: 'integer', minimum: 0 } },
    ],
  );
});

t.test('lists are bounded by default: the defaultPaginationClass pages every view that sets no pagination', async (t) => {
  const db = await seededDatabase(t, sampleRows(130));
  const unset = books(undefined);
  const optedOut = books(null);
  const defaults = await appOn(t, db, {}, { unset, optedOut });
  const page = await defaults.client.get('/api/unset/');
  t.equal(page.data.count, 130);
  t.equal(page.data.results.length, 20, 'the default page size is 20');
  t.equal((await defaults.client.get('/api/unset/?limit=1000')).data.results.length, 100, 'a client cannot exceed the maximum of 100');
  t.equal((await defaults.client.get('/api/unset/?limit=100&offset=100')).data.results.length, 30);
  const plain = await defaults.client.get('/api/optedOut/');
  t.ok(Array.isArray(plain.data), 'pagination = null opts out: the plain, unbounded list');
  t.equal(plain.data.length, 130);

  const pages = await appOn(t, db, { defaultPaginationClass: new PageNumberPagination(), pageSize: 7, maxPageSize: 9 }, { unset: books(undefined) });
  const numbered = await pages.client.get('/api/unset/?page=2', host);
  t.equal(numbered.data.results.length, 7, 'the settings change the default paginator and its size');
  t.equal(numbered.data.next, 'http://api.test/api/unset/?page=3');
  t.equal((await pages.client.get('/api/unset/?page_size=50')).data.results.length, 9);
  const doc = (await pages.client.get('/openapi.json')).data;
  t.same(doc.paths['/api/unset/'].get.responses[200].content['application/json'].schema, { $ref: '#/components/schemas/PaginatedBookList' });

  const unbounded = await appOn(t, db, { defaultPaginationClass: null }, { unset: books(undefined) });
  t.equal((await unbounded.client.get('/api/unset/')).data.length, 130, 'defaultPaginationClass null leaves such lists unpaginated');
  t.throws(() => resolveSettings({ defaultPaginationClass: {} as never }), { code: 'FASTREST_ERR_SETTINGS' });
});

t.test('every list of the Library shows the paginated envelope in OpenAPI', async (t) => {
  const { client } = await libraryApp(t);
  const doc = (await client.get('/openapi.json')).data;
  const lists = Object.entries(doc.paths as Record<string, Json>).filter(([, item]) => item.get && /^(list|books)/.test(item.get.operationId));
  t.same(lists.map(([path]) => path).sort(), ['/api/authors/', '/api/authors/{id}/books/', '/api/books/', '/api/reading-lists/']);
  for (const [path, item] of lists) {
    const schema = item.get.responses[200].content['application/json'].schema;
    t.match(schema, { $ref: /^#\/components\/schemas\/Paginated\w+List$/ }, path);
    const envelope = doc.components.schemas[schema.$ref.split('/').at(-1)];
    t.same(envelope.required, ['count', 'next', 'previous', 'results'], path);
    t.same(item.get.parameters.filter((p: Json) => ['limit', 'offset'].includes(p.name)).length, 2, path);
  }
});

t.test('cursor pagination pages by keyset with signed cursors', async (t) => {
  const db = await seededDatabase(t);
  const newest = books(Object.assign(new CursorPagination(), { ordering: ['-createdAt', 'id'] }));
  const byId = books(new CursorPagination());
  const sorted = books(Object.assign(new CursorPagination(), { ordering: ['-createdAt', '-id'] }), [new TitleSearch(), new SortParam()]);
  const { client } = await appOn(t, db, { pageSize: 5, maxPageSize: 20, secretKey: SECRET }, { newest, byId, sorted });
  const expected = await idsNewestFirst(db);

  /** Follows `key` links from `url`, returning the ids of each page. */
  async function walk(url: string, key: 'next' | 'previous') {
    const pages: number[][] = [];
    for (let next: string | null = url; next; ) {
      const res = await client.get(path(next));
      t.equal(res.statusCode, 200, next);
      pages.push(ids(res));
      next = res.data[key];
    }
    return pages;
  }

  await t.test('the envelope has next, previous and results, and no count', async (t) => {
    const res = await client.get('/api/newest/', host);
    t.same(Object.keys(res.data), ['next', 'previous', 'results']);
    t.same(ids(res), expected.slice(0, 5));
    t.equal(res.data.previous, null);
    t.match(res.data.next, /^http:\/\/api\.test\/api\/newest\/\?cursor=[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
  });

  await t.test('next links walk every row once in order, and previous links walk back', async (t) => {
    const forward = await walk('/api/newest/', 'next');
    t.same(forward.flat(), expected, 'ties on createdAt are broken by id');
    t.same(forward.map((p) => p.length), [5, 5, 5, 5, 3]);
    let last = await client.get('/api/newest/');
    while (last.data.next) last = await client.get(path(last.data.next));
    const backward = await walk(last.data.previous, 'previous');
    t.same(backward.reverse(), forward.slice(0, -1), 'the same pages, back to the first, whose previous is null');
    t.same((await walk('/api/byId/?page_size=7', 'next')).flat(), range(1, 23), 'the primary key alone orders by default');
    t.same((await walk('/api/sorted/', 'next')).flat(), [...expected].sort((a, b) => b - a), 'a uniform descending order');
  });

  await t.test('page_size applies to cursor pages and is capped', async (t) => {
    t.equal((await client.get('/api/newest/?page_size=2')).data.results.length, 2);
    t.equal((await client.get('/api/newest/?page_size=100')).data.results.length, 20);
    const res = await client.get('/api/newest/?page_size=3&search=Tolkien', host);
    t.match(res.data.next, /\?page_size=3&search=Tolkien&cursor=/, 'links keep the other parameters');
    t.same((await walk(res.data.next, 'next')).flat().length, 5, '8 Tolkien books, 3 on the first page');
  });

  await t.test('an ordering filter on the view decides the order, the primary key breaking ties', async (t) => {
    const pages = await walk('/api/sorted/?sort=subtitle,-title&page_size=4', 'next');
    const order = (await db.orm.em.fork().find(Book, {}, { orderBy: [{ subtitle: 'asc' }, { title: 'desc' }] })).map((b) => b.id);
    t.same(pages.flat(), order);
  });

  await t.test('a tampered, foreign or garbage cursor is a 404 Invalid cursor', async (t) => {
    const next: string = (await client.get('/api/newest/')).data.next;
    const cursor = new URL(next).searchParams.get('cursor')!;
    const [payload, signature] = cursor.split('.') as [string, string];
    const forged = Buffer.from(JSON.stringify({ p: ['2000-01-01 00:00:00+00', '1'] })).toString('base64url');
    const flip = (s: string) => (s[0] === 'A' ? 'B' : 'A') + s.slice(1);
    const bad = [
      `${flip(payload)}.${signature}`,
      `${payload}.${flip(signature)}`,
      `${forged}.${signature}`,
      payload,
      `${payload}.${signature}.x`,
      'abc',
      '...',
      '%E2%9C%93',
    ];
    for (const value of bad) {
      const res = await client.get(`/api/newest/?cursor=${encodeURIComponent(value)}`);
      t.equal(res.statusCode, 404, value);
      t.same(res.data, { detail: 'Invalid cursor' });
    }
    t.equal((await client.get(`/api/newest/?cursor=${cursor}`)).statusCode, 200, 'the untouched cursor works');
    const foreign = await client.get(`/api/sorted/?cursor=${cursor}`);
    t.same(foreign.data, { detail: 'Invalid cursor' }, 'a cursor made for another ordering');
    const reordered = await client.get(`/api/sorted/?cursor=${new URL((await client.get('/api/sorted/')).data.next).searchParams.get('cursor')}&sort=title`);
    t.equal(reordered.statusCode, 404, 'a cursor outlives no change of ordering');
    const other = await appOn(t, db, { pageSize: 5, secretKey: `${SECRET}-rotated` }, { newest: books(Object.assign(new CursorPagination(), { ordering: ['-createdAt', 'id'] })) });
    t.same((await other.client.get(`/api/newest/?cursor=${cursor}`)).data, { detail: 'Invalid cursor' }, 'a cursor signed with another secret');
    t.equal((await client.get('/api/newest/?cursor=')).statusCode, 200, 'an empty cursor is the first page');
  });

  await t.test('the browsable page gets previous and next links', async (t) => {
    const first = await client.get('/api/newest/');
    t.same(newest.html, { template: 'pagination/previous_and_next', context: { previousUrl: null, nextUrl: first.data.next } });
    const second = await client.get(path(first.data.next));
    t.same(newest.html!.context, { previousUrl: second.data.previous, nextUrl: second.data.next });
    await client.get('/api/newest/?search=Tolkien&page_size=10');
    t.equal(newest.html, null, 'no control for a single page');
  });
});

t.test('rows written between two requests neither repeat nor vanish from cursor pages', async (t) => {
  const db = await seededDatabase(t, sampleRows(12));
  const newest = books(Object.assign(new CursorPagination(), { ordering: ['-createdAt', 'id'] }));
  const { client } = await appOn(t, db, { pageSize: 4 }, { newest });
  const before = await idsNewestFirst(db);
  const first = await client.get('/api/newest/');
  t.same(ids(first), before.slice(0, 4));

  await insertBooks(db, sampleRows(3, 100));
  const second = await client.get(path(first.data.next));
  t.same(ids(second), before.slice(4, 8), 'the page after the first is the same as before the insert');
  const back = await client.get(path(second.data.previous));
  t.same(ids(back), before.slice(0, 4), 'previous returns the rows of the first page');
  t.ok(back.data.previous, 'and now has the new rows before it');
  const newer = await client.get(path(back.data.previous));
  t.equal(newer.data.results.length, 3);
  t.equal(newer.data.previous, null);

  await db.orm.em.fork().nativeDelete(Book, { id: { $in: before.slice(8) } });
  const third = await client.get(path(second.data.next));
  t.same(third.data, { next: null, previous: third.data.previous, results: [] }, 'the deleted rows leave an empty last page');
  t.same(ids(await client.get(path(third.data.previous))), before.slice(4, 8), 'whose previous is the page before it');
});

t.test('keyset conditions place NULLs as PostgreSQL sorts them', async (t) => {
  const db = await createTestDatabase({ entities, migrationsPath });
  t.teardown(() => db.drop());
  const rows = [
    [1, 'a'],
    [2, null],
    [3, 'b'],
    [4, 'a'],
    [5, null],
    [6, 'c'],
  ] as const;
  const table = `(values ${rows.map(([id, v]) => `(${id}, ${v === null ? 'null::text' : `'${v}'`})`).join(', ')}) as t(id, v)`;
  const em = db.orm.em.fork() as unknown as { execute(sql: string, params: unknown[]): Promise<{ id: number }[]> };
  for (const desc of [false, true]) {
    const terms = [
      { field: 'v', column: 't.v', desc, nullable: true },
      { field: 'id', column: 't.id', desc: false, nullable: false },
    ];
    const order = `order by t.v ${desc ? 'desc' : 'asc'}, t.id asc`;
    const all = (await em.execute(`select t.id from ${table} ${order}`, [])).map((r) => r.id);
    for (const [index, id] of all.entries()) {
      const value = rows.find((r) => r[0] === id)![1];
      for (const inclusive of [false, true]) {
        const cond = keysetCondition(terms, [value, String(id)], inclusive);
        const after = (await em.execute(`select t.id from ${table} where ${cond.sql} ${order}`, cond.params)).map((r) => r.id);
        t.same(after, all.slice(inclusive ? index : index + 1), `${desc ? 'desc' : 'asc'} ${inclusive ? 'from' : 'after'} ${id}`);
      }
    }
  }
  t.same(keysetCondition([{ field: 'id', column: 't.id', desc: true, nullable: false }], ['5'], false), { sql: '(t.id) < (?)', params: ['5'] }, 'a row comparison when it can');
});

t.test('OpenAPI names each envelope and the list operations reference them', async (t) => {
  const db = await seededDatabase(t, []);
  const { client } = await appOn(t, db, { pageSize: 5 }, {
    pages: books(new PageNumberPagination()),
    cursors: books(new CursorPagination()),
    uncounted: books(Object.assign(new PageNumberPagination(), { count: 'none' as const })),
  });
  const doc = (await client.get('/openapi.json')).data;
  const { schemas } = doc.components;
  t.same(schemas.PaginatedBookList, {
    type: 'object',
    description: 'One page of Book objects, with absolute links to the pages around it.',
    properties: {
      count: { type: 'integer', minimum: 0, description: 'How many objects the whole list holds.', examples: [123] },
      next: { type: ['string', 'null'], format: 'uri', examples: ['http://api.example.org/books/?page=4'] },
      previous: { type: ['string', 'null'], format: 'uri', examples: ['http://api.example.org/books/?page=2'] },
      results: { type: 'array', items: { $ref: '#/components/schemas/Book' } },
    },
    required: ['count', 'next', 'previous', 'results'],
  });
  t.same(Object.keys(schemas.CursorPaginatedBookList.properties), ['next', 'previous', 'results']);
  t.same(schemas.UncountedPaginatedBookList.required, ['next', 'previous', 'results']);
  const answer = (path: string) => doc.paths[path].get.responses[200].content['application/json'].schema;
  t.same(answer('/api/pages/'), { $ref: '#/components/schemas/PaginatedBookList' });
  t.same(answer('/api/cursors/'), { $ref: '#/components/schemas/CursorPaginatedBookList' });
  t.same(answer('/api/uncounted/'), { $ref: '#/components/schemas/UncountedPaginatedBookList' });
  const params = (path: string) => Object.fromEntries(doc.paths[path].get.parameters.map((p: Json) => [p.name, p.schema]));
  t.same(params('/api/pages/').page, { anyOf: [{ type: 'integer', minimum: 1 }, { type: 'string', enum: ['last'] }] });
  t.same(params('/api/pages/').page_size, { type: 'integer', minimum: 1 });
  t.same(params('/api/cursors/').cursor, { type: 'string' });
  t.notOk(doc.paths['/api/pages/{id}/'].get.parameters.some((p: Json) => p.in === 'query'), 'item routes take no page parameters');
});
