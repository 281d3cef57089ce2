import Fastify, { type FastifyInstance } from 'fastify';
import t, { type Test } from 'tap';
import { BookSerializer } from '../src/library/serializers.ts';
import { Book, entities } from '../src/library/entities.ts';
import { migrationsPath } from '../src/library/config.ts';
import { parseDateTime, splitSearchTerms } from '../src/rest/filters.ts';
import { parseValue } from '../src/rest/filters/values.ts';
import {
  APIClient,
  createTestDatabase,
  databasePlugin,
  DefaultRouter,
  fastrest,
  FieldFilterBackend,
  ModelViewSet,
  OrderingFilter,
  SearchFilter,
  serverOptions,
  SetupError,
  type FilterFields,
  type OrderingFields,
  type SearchFields,
} from '../src/rest/index.ts';
import { isbn, libraryApp } from './helpers.ts';

/** A books view allowing every lookup that fits each field, for testing the lookups one by one. */
class CatalogueViewSet extends ModelViewSet<BookSerializer> {
  readonly serializer = new BookSerializer();
  override filterBackends = [new FieldFilterBackend(), new SearchFilter({ searchParam: 'q' }), new OrderingFilter({ orderingParam: 'sort' })];
  override filterFields: FilterFields<BookSerializer> = {
    id: ['exact', 'in', 'gt', 'gte', 'lt', 'lte', 'range', 'isnull'],
    title: ['exact', 'iexact', 'contains', 'icontains', 'startswith', 'istartswith', 'endswith', 'iendswith', 'in', 'isnull'],
    createdAt: ['exact', 'gt', 'gte', 'lt', 'lte', 'range', 'isnull'],
  };
  override searchFields: SearchFields<BookSerializer> = ['title', '^subtitle', '=isbn', '=id'];
  override orderingFields: OrderingFields<BookSerializer> = ['title', 'author', 'id'];
  override ordering = { author: 'asc', title: 'asc' } as const;
}

/** The sample: LIKE wildcards, quotes and backslashes in titles, equal authors, known creation dates. */
const SAMPLE = [
  { title: 'Django REST framework', subtitle: 'Web APIs for Django', author: 'Tom Christie', createdAt: '2024-01-10T00:00:00Z' },
  { title: 'Two Scoops of Django', subtitle: 'Best practices', author: 'Daniel Roy Greenfeld', createdAt: '2024-02-10T00:00:00Z' },
  { title: 'Fastify in Action', subtitle: 'rest APIs on Node', author: 'Manuel Spigolon', createdAt: '2024-03-10T00:00:00Z' },
  { title: "100% pure_SQL \\ O'Reilly", subtitle: '', author: 'Jane Doe', createdAt: '2024-04-10T00:00:00Z' },
  { title: 'The REST of Us', subtitle: 'unchained: django rest', author: 'Will Vincent', createdAt: '2024-05-10T12:30:00Z' },
  { title: 'Pure SQL tips', subtitle: 'Queries', author: 'Manuel Spigolon', createdAt: '2024-06-10T00:00:00Z' },
];

/** Inserts the sample with ids 1..6, then rewrites book 3 so the table's physical order differs from id order. */
async function seed(app: FastifyInstance): Promise<void> {
  const em = app.orm.em.fork();
  for (const [i, b] of SAMPLE.entries()) {
    const createdAt = new Date(b.createdAt);
    await em.insert(Book, { id: i + 1, ...b, isbn: isbn(i + 1), createdAt, updatedAt: createdAt });
  }
  await em.nativeUpdate(Book, { id: 3 }, { subtitle: 'rest APIs on Node' });
}

/** An app serving `CatalogueViewSet` at /api/catalogue/ and the backends' `toHtml` data at /html/. */
async function catalogueApp(t: Test) {
  const db = await createTestDatabase({ entities, migrationsPath });
  const app = Fastify(serverOptions());
  await app.register(databasePlugin, { orm: db.orm });
  await app.register(fastrest);
  const view = new CatalogueViewSet();
  await app.register(new DefaultRouter().register('catalogue', view).plugin('/api'));
  app.get('/html/', async (request) => Object.fromEntries(view.filterBackends.map((b) => [b.constructor.name, b.toHtml(request, view)])));
  t.teardown(async () => {
    await app.close();
    await db.drop();
  });
  await app.ready();
  await seed(app);
  return { app, client: new APIClient(app) };
}

const ids = (data: { id: number }[]) => data.map((b) => b.id);

t.test('each lookup of FieldFilterBackend keeps the matching rows', async (t) => {
  const { client } = await catalogueApp(t);
  const cases: [Record<string, string>, number[]][] = [
    [{ title: 'Two Scoops of Django' }, [2]],
    [{ title: 'two scoops of django' }, []],
    [{ title__iexact: 'two SCOOPS of django' }, [2]],
    [{ title__contains: 'Django' }, [1, 2]],
    [{ title__contains: 'django' }, []],
    [{ title__icontains: 'django' }, [1, 2]],
    [{ title__startswith: 'The' }, [5]],
    [{ title__startswith: 'the' }, []],
    [{ title__istartswith: 'the' }, [5]],
    [{ title__endswith: 'Django' }, [2]],
    [{ title__iendswith: 'DJANGO' }, [2]],
    [{ title__in: 'Fastify in Action,Two Scoops of Django,Missing' }, [2, 3]],
    [{ title__isnull: 'true' }, []],
    [{ title__isnull: 'false' }, [1, 2, 3, 4, 5, 6]],
    [{ id: '3' }, [3]],
    [{ id__in: '1,3,99' }, [1, 3]],
    [{ id__gt: '4' }, [5, 6]],
    [{ id__gte: '4' }, [4, 5, 6]],
    [{ id__lt: '3' }, [1, 2]],
    [{ id__lte: '3' }, [1, 2, 3]],
    [{ id__range: '2,4' }, [2, 3, 4]],
    [{ id__isnull: 'false' }, [1, 2, 3, 4, 5, 6]],
    [{ createdAt: '2024-05-10T12:30:00Z' }, [5]],
    [{ createdAt: '2024-05-10T14:30:00+02:00' }, [5]],
    [{ createdAt__gt: '2024-05-10T12:30:00Z' }, [6]],
    [{ createdAt__gte: '2024-05-10T12:30:00Z' }, [5, 6]],
    [{ createdAt__lt: '2024-02-10' }, [1]],
    [{ createdAt__lte: '2024-02-10' }, [1, 2]],
    [{ createdAt__range: '2024-02-01,2024-04-30T23:59:59' }, [2, 3, 4]],
    [{ createdAt__isnull: 'true' }, []],
    [{ createdAt__isnull: '0' }, [1, 2, 3, 4, 5, 6]],
    [{ id__gte: '2', title__icontains: 'django' }, [2]],
  ];
  for (const [query, expected] of cases) {
    const res = await client.get('/api/catalogue/', { query: { ...query, sort: 'id' } });
    t.equal(res.statusCode, 200, JSON.stringify(query));
    t.same(ids(res.data), expected, JSON.stringify(query));
  }
});

t.test('empty values and unknown parameters are ignored', async (t) => {
  const { client } = await catalogueApp(t);
  const queries: Record<string, string>[] = [{ title: '' }, { id__in: '' }, { author: 'Nobody' }, { title__regex: '.*' }, { subtitle__icontains: 'x' }, { createdAt__year: 'x' }];
  for (const query of queries) {
    const res = await client.get('/api/catalogue/', { query: { ...query, sort: 'id' } });
    t.equal(res.statusCode, 200, JSON.stringify(query));
    t.same(ids(res.data), [1, 2, 3, 4, 5, 6], JSON.stringify(query));
  }
  const repeated = await client.get('/api/catalogue/?id=1&id=2&sort=id');
  t.equal(repeated.statusCode, 400, 'a repeated parameter on a list is refused by the schema, keyed by its name');
  t.same(repeated.data, { id: ['Not a valid string.'] });
});

t.test('a value that is not of the field type is a 400 field error, never a 500', async (t) => {
  const { client } = await catalogueApp(t);
  const cases: [Record<string, string>, Record<string, string[]>][] = [
    [{ createdAt__gte: 'yesterday' }, { createdAt__gte: ['Enter a valid date/time.'] }],
    [{ createdAt: '2024-02-30' }, { createdAt: ['Enter a valid date/time.'] }],
    [{ createdAt__lt: '2024-01-01T25:00' }, { createdAt__lt: ['Enter a valid date/time.'] }],
    [{ id: 'abc' }, { id: ['Enter a whole number.'] }],
    [{ id: '1.5' }, { id: ['Enter a whole number.'] }],
    [{ id: '99999999999' }, { id: ['Ensure this value is less than or equal to 2147483647.'] }],
    [{ id__gt: '-99999999999' }, { id__gt: ['Ensure this value is greater than or equal to -2147483648.'] }],
    [{ id__in: '1,two,3' }, { id__in: ['Enter a whole number.'] }],
    [{ id__range: '1' }, { id__range: ['Range query expects two values.'] }],
    [{ id__range: '1,2,3' }, { id__range: ['Range query expects two values.'] }],
    [{ id__range: '1,' }, { id__range: ['Range query expects two values.'] }],
    [{ createdAt__isnull: 'maybe' }, { createdAt__isnull: ['Select a valid choice. maybe is not one of the available choices.'] }],
    [{ title: 'nul\u0000byte' }, { title: ['Null characters are not allowed.'] }],
    [
      { id: 'x', createdAt__lte: 'tomorrow', title__icontains: 'fine' },
      { id: ['Enter a whole number.'], createdAt__lte: ['Enter a valid date/time.'] },
    ],
  ];
  for (const [query, errors] of cases) {
    const res = await client.get('/api/catalogue/', { query });
    t.equal(res.statusCode, 400, JSON.stringify(query));
    t.same(res.data, errors, JSON.stringify(query));
  }
  const onDetail = await client.get('/api/catalogue/1/', { query: { id__gt: 'one' } });
  t.equal(onDetail.statusCode, 400, 'item routes validate the filters too');
  t.same(onDetail.data, { id__gt: ['Enter a whole number.'] });
});

t.test('SQL-looking values are matched literally and never 500', async (t) => {
  const { client } = await catalogueApp(t);
  const literal: [Record<string, string>, number[]][] = [
    [{ title: "' OR 1=1 --" }, []],
    [{ title__icontains: "' OR 1=1 --" }, []],
    [{ title__icontains: "o'reilly" }, [4]],
    [{ title__icontains: '%' }, [4]],
    [{ title__icontains: '0%' }, [4]],
    [{ title__icontains: 'pure_' }, [4]],
    [{ title__icontains: '_' }, [4]],
    [{ title__icontains: '\\' }, [4]],
    [{ title__icontains: ' \\ ' }, [4]],
    [{ title__startswith: '100%' }, [4]],
    [{ title__iexact: "100% PURE_sql \\ o'reilly" }, [4]],
    [{ title__iexact: '%' }, []],
    [{ title__in: "' OR 1=1 --,1);drop table library_book;--" }, []],
    [{ q: "' OR 1=1 --" }, []],
    [{ q: '%' }, [4]],
    [{ q: '_' }, [4]],
    [{ q: '\\' }, [4]],
    [{ q: '%_%' }, []],
    [{ sort: 'title; drop table library_book' }, [2, 4, 3, 6, 1, 5]],
    [{ "title'": 'x' }, [2, 4, 3, 6, 1, 5]],
  ];
  for (const [query, expected] of literal) {
    const res = await client.get('/api/catalogue/', { query });
    t.equal(res.statusCode, 200, JSON.stringify(query));
    t.same(ids(res.data), expected, JSON.stringify(query));
  }
  t.equal((await client.get('/api/catalogue/')).data.length, 6, 'the table is intact');
});

t.test('search: every term must match one of the search fields', async (t) => {
  const { client } = await catalogueApp(t);
  const search = async (q: string) => ids((await client.get('/api/catalogue/', { query: { q, sort: 'id' } })).data);
  t.same(await search('django'), [1, 2], 'a word matches titles, case ignored');
  t.same(await search('django framework'), [1], 'two words must both match');
  t.same(await search('django,framework'), [1], 'commas separate terms too');
  t.same(await search('"of django"'), [2], 'a quoted phrase stays whole');
  t.same(await search("'scoops of'"), [2], 'single quotes too');
  t.same(await search('framework django'), [1], 'words match in any order');
  t.same(await search('"framework django"'), [], 'a quoted phrase only in its order');
  t.same(await search('web'), [1], '^subtitle matches at the start');
  t.same(await search('practices'), [], '^subtitle does not match inside');
  t.same(await search(isbn(3)), [3], '=isbn matches a whole ISBN');
  t.same(await search(isbn(3).slice(0, 12)), [], '=isbn does not match part of one');
  t.same(await search('5'), [5], '=id matches a number exactly');
  t.same(await search('5 rest'), [5], 'a number and a word');
  t.same(await search('99999999999'), [], 'a number too large for the id matches nothing, without an error');
  t.same(await search('   '), [1, 2, 3, 4, 5, 6], 'blank search keeps everything');
  const nul = await client.get('/api/catalogue/', { query: { q: 'a\u0000b' } });
  t.equal(nul.statusCode, 400);
  t.same(nul.data, { q: ['Null characters are not allowed.'] });
});

t.test('search terms split like DRF: quoted phrases whole, commas separate', async (t) => {
  t.same(splitSearchTerms('django rest'), ['django', 'rest']);
  t.same(splitSearchTerms('"django rest" framework'), ['django rest', 'framework']);
  t.same(splitSearchTerms("'it\\'s' fine"), ["it's", 'fine']);
  t.same(splitSearchTerms('a,b, c ,,d'), ['a', 'b', 'c', 'd']);
  t.same(splitSearchTerms('"a, b" c'), ['a, b', 'c']);
  t.same(splitSearchTerms('"a, b",c'), ['"a', 'b"', 'c'], 'a phrase glued to a comma is split, as in DRF');
  t.same(splitSearchTerms('  '), []);
});

t.test('ordering: allow-list, unknown fields ignored, default, primary key as tie-breaker', async (t) => {
  const { client } = await catalogueApp(t);
  const order = async (sort?: string) => ids((await client.get('/api/catalogue/', { query: sort === undefined ? {} : { sort } })).data);
  t.same(await order(), [2, 4, 3, 6, 1, 5], "the view's default ordering (author, title), then id");
  t.same(await order('title'), [4, 1, 3, 6, 5, 2]);
  t.same(await order('-title'), [2, 5, 6, 3, 1, 4]);
  t.same(await order('author'), [2, 4, 3, 6, 1, 5], 'equal authors (3 and 6) come in id order, whatever the table order');
  t.same(await order('author,-id'), [2, 4, 6, 3, 1, 5], 'an explicit id direction is kept');
  t.same(await order('-author'), [5, 1, 3, 6, 4, 2], 'ties stay in ascending id order when the field descends');
  t.same(await order('subtitle'), [2, 4, 3, 6, 1, 5], 'a field outside the allow-list is ignored');
  t.same(await order('nope,-id'), [6, 5, 4, 3, 2, 1], 'unknown terms are dropped, the valid ones kept');
  t.same(await order(' -id , title '), [6, 5, 4, 3, 2, 1], 'spaces around terms are ignored');
  t.same(await order(''), [2, 4, 3, 6, 1, 5]);
});

t.test('a filtered-out object is a 404 on the item routes', async (t) => {
  const { client } = await libraryApp(t);
  const made = (await client.post('/api/books/', { title: 'Kept', author: 'A', isbn: isbn(900) })).data;
  const url = `/api/books/${made.id}/`;
  t.equal((await client.get(url, { query: { title: 'Kept' } })).statusCode, 200);
  t.equal((await client.get(url, { query: { search: 'kep' } })).statusCode, 200);
  const queries: Record<string, string>[] = [{ title: 'Other' }, { search: 'other' }, { isbn__in: isbn(901) }, { createdAt__lte: '2000-01-01' }];
  for (const query of queries) {
    const res = await client.get(url, { query });
    t.equal(res.statusCode, 404, JSON.stringify(query));
    t.same(res.data, { detail: 'Not found.' });
  }
  t.equal((await client.patch(`${url}?search=other`, { title: 'Changed' })).statusCode, 404, 'PATCH');
  t.equal((await client.put(`${url}?title=Other`, { title: 'Changed', author: 'A', isbn: isbn(900) })).statusCode, 404, 'PUT');
  t.equal((await client.delete(`${url}?search=other`)).statusCode, 404, 'DELETE');
  t.equal((await client.get(url)).data.title, 'Kept', 'nothing changed');
});

t.test("the Library's books filter, search and order as documented", async (t) => {
  const { client } = await libraryApp(t);
  const books = [
    { title: 'Django for APIs', subtitle: 'Build web APIs', author: 'William Vincent', isbn: isbn(1) },
    { title: 'Two Scoops of Django', author: 'Audrey Roy Greenfeld', isbn: isbn(2) },
    { title: 'REST in Practice', subtitle: 'Hypermedia', author: 'Jim Webber', isbn: isbn(3) },
  ];
  const made = [];
  for (const book of books) made.push((await client.post('/api/books/', book)).data);
  const titles = async (query: Record<string, string>) => (await client.get('/api/books/', { query })).data.map((b: { title: string }) => b.title);
  t.same(await titles({ search: 'django' }), ['Django for APIs', 'Two Scoops of Django']);
  t.same(await titles({ search: 'web' }), ['Django for APIs', 'REST in Practice'], 'subtitle and author are searched');
  t.same(await titles({ search: isbn(3) }), ['REST in Practice'], '=isbn');
  t.same(await titles({ search: isbn(3).slice(0, 6) }), [], 'isbn only matches whole');
  t.same(await titles({ author__icontains: 'roy' }), ['Two Scoops of Django']);
  t.same(await titles({ isbn__in: `${isbn(1)},${isbn(3)}` }), ['Django for APIs', 'REST in Practice']);
  t.same(await titles({ title__istartswith: 'rest' }), ['REST in Practice']);
  t.same(await titles({ ordering: '-title' }), ['Two Scoops of Django', 'REST in Practice', 'Django for APIs']);
  t.same(await titles({ ordering: 'isbn' }), ['Django for APIs', 'Two Scoops of Django', 'REST in Practice'], 'isbn is not orderable: id order');
  t.same(await titles({ createdAt__gte: made[0].createdAt, ordering: '-id' }), ['REST in Practice', 'Two Scoops of Django', 'Django for APIs']);
  const bad = await client.get('/api/books/', { query: { createdAt__gte: 'soon' } });
  t.equal(bad.statusCode, 400);
  t.same(bad.data, { createdAt__gte: ['Enter a valid date/time.'] });
});

t.test('OpenAPI lists the filter parameters on the list operation only', async (t) => {
  const { client } = await libraryApp(t);
  const doc = (await client.get('/openapi.json')).data;
  const list = doc.paths['/api/books/'].get.parameters as { name: string; in: string; schema: { type: string }; description: string }[];
  const expected = ['title', 'title__icontains', 'author__iexact', 'isbn', 'isbn__in', 'createdAt__gte', 'createdAt__range', 'createdAt__isnull', 'search', 'ordering'];
  const names = list.map((p) => p.name);
  for (const name of expected) t.ok(names.includes(name), name);
  for (const p of list.filter((p) => expected.includes(p.name))) {
    t.equal(p.in, 'query', p.name);
    t.equal(p.schema.type, 'string', `${p.name} is loosely typed, so bad values get the filter's own messages`);
    t.ok(p.description.length > 10, `${p.name} is described`);
  }
  t.match(list.find((p) => p.name === 'createdAt__gte')!.description, /Created at is greater than or equal to: an ISO 8601 date\/time/);
  t.match(list.find((p) => p.name === 'search')!.description, /title \(contains\), subtitle \(contains\), author \(contains\), isbn \(exact\)/);
  t.match(list.find((p) => p.name === 'ordering')!.description, /title, author, createdAt, id/);
  const retrieve = doc.paths['/api/books/{id}/'].get.parameters as { name: string }[];
  t.same(retrieve.map((p) => p.name), ['id'], 'the item route documents its path parameter only');
});

t.test('toHtml gives the Filters dialog its data with URLs computed', async (t) => {
  const { client } = await catalogueApp(t);
  const res = await client.get('/html/', { query: { q: 'django rest', sort: '-title', title__icontains: 'o', page: '2' }, headers: { host: 'lib.test' } });
  const { FieldFilterBackend: fields, SearchFilter: search, OrderingFilter: ordering } = res.data;
  t.equal(search.template, 'filters/search');
  t.match(search.context, { param: 'q', term: 'django rest', action: 'http://lib.test/html/' });
  t.same(search.context.hidden, [
    { name: 'sort', value: '-title' },
    { name: 'title__icontains', value: 'o' },
    { name: 'page', value: '2' },
  ]);
  t.equal(ordering.template, 'filters/ordering');
  t.equal(ordering.context.current, '-title');
  t.same(ordering.context.options.filter((o: { active: boolean }) => o.active).map((o: { key: string }) => o.key), ['-title']);
  t.same(ordering.context.options[0], {
    key: 'title',
    label: 'Title - ascending',
    url: 'http://lib.test/html/?q=django+rest&sort=title&title__icontains=o&page=2',
    active: false,
  });
  t.same(ordering.context.options.map((o: { key: string }) => o.key), ['title', '-title', 'author', '-author', 'id', '-id']);
  t.equal(fields.template, 'filters/fields');
  const icontains = fields.context.fields.find((f: { name: string }) => f.name === 'title__icontains');
  t.match(icontains, { label: 'Title contains', input: 'text', value: 'o' });
  t.match(fields.context.fields.find((f: { name: string }) => f.name === 'createdAt__gte'), { input: 'datetime-local', value: '' });
  t.match(fields.context.fields.find((f: { name: string }) => f.name === 'id__isnull'), { input: 'select', choices: [{ value: 'true' }, { value: 'false' }] });
  t.equal(fields.context.resetUrl, 'http://lib.test/html/?q=django+rest&sort=-title&page=2');
});

t.test('a view naming a field or lookup that does not fit is a SetupError when the app is built', async (t) => {
  const bad: [string, Partial<Pick<CatalogueViewSet, 'filterFields' | 'searchFields' | 'orderingFields'>>, RegExp][] = [
    ['unknown field', { filterFields: { publisher: ['exact'] } as never }, /filterFields names "publisher": Book has no field "publisher"/],
    ['text lookup on a date', { filterFields: { createdAt: ['icontains'] } }, /lookup "icontains", which does not fit a datetime field/],
    ['unknown lookup', { filterFields: { title: ['regex'] } as never }, /unknown lookup "regex"/],
    ['path through a scalar', { filterFields: { title__name: ['exact'] } }, /"title" is not a to-one relation/],
    ['full-text search', { searchFields: ['@title'] as never }, /full-text search \(@\) is not supported/],
    ['contains on a number', { searchFields: ['id'] }, /an integer field can only be searched exactly \("=id"\)/],
    ['unknown ordering field', { orderingFields: ['popularity'] as never }, /orderingFields names "popularity"/],
  ];
  for (const [what, options, message] of bad) {
    const view = Object.assign(new CatalogueViewSet(), options);
    const app = Fastify(serverOptions());
    await app.register(fastrest, { openapi: false });
    app.register(new DefaultRouter().register('catalogue', view).plugin('/api'));
    const error = await app.ready().then(() => null, (e: unknown) => e);
    t.ok(error instanceof SetupError, what);
    t.equal((error as SetupError).code, 'FASTREST_ERR_FILTER_CONFIG', what);
    t.match((error as Error).message, message, what);
    await app.close().catch(() => {});
  }
});

t.test('values are parsed like Django form fields', async (t) => {
  t.same(parseDateTime('2024-01-31')?.toISOString(), '2024-01-31T00:00:00.000Z', 'a date alone is midnight UTC');
  t.same(parseDateTime('2024-01-31 23:59:59.5')?.toISOString(), '2024-01-31T23:59:59.500Z');
  t.same(parseDateTime('2024-01-31T10:00-0230')?.toISOString(), '2024-01-31T12:30:00.000Z');
  t.same(parseDateTime('0001-01-01T00:00Z')?.toISOString(), '0001-01-01T00:00:00.000Z', 'year 1 is not read as 1901');
  for (const text of ['2023-02-29', '2024-13-01', '2024-01-01T24:00', '2024-01-01T00:60', '24-01-01', '2024-01-01T00:00+25:00', 'now']) {
    t.equal(parseDateTime(text), null, text);
  }
  const cases: [Parameters<typeof parseValue>[0], string, unknown][] = [
    [{ kind: 'boolean' }, 'TRUE', true],
    [{ kind: 'boolean' }, '0', false],
    [{ kind: 'boolean' }, 'yes', 'Select a valid choice. yes is not one of the available choices.'],
    [{ kind: 'choice', choices: ['draft', 'published'] }, 'draft', 'draft'],
    [{ kind: 'choice', choices: ['draft', 'published'] }, 'Draft', 'Select a valid choice. Draft is not one of the available choices.'],
    [{ kind: 'uuid' }, '0B8E7B3C-1F0A-4F5B-9B9B-0A0A0A0A0A0A', '0b8e7b3c-1f0a-4f5b-9b9b-0a0a0a0a0a0a'],
    [{ kind: 'uuid' }, '0b8e7b3c', 'Enter a valid UUID.'],
    [{ kind: 'decimal' }, '12.50', '12.50'],
    [{ kind: 'decimal' }, '1e3', 'Enter a number.'],
    [{ kind: 'number' }, '1e3', 1000],
    [{ kind: 'number' }, 'NaN', 'Enter a number.'],
    [{ kind: 'bigint' }, '9223372036854775807', '9223372036854775807'],
    [{ kind: 'bigint' }, '9223372036854775808', 'Ensure this value is less than or equal to 9223372036854775807.'],
    [{ kind: 'integer', min: -32768, max: 32767 }, '40000', 'Ensure this value is less than or equal to 32767.'],
    [{ kind: 'integer' }, ' 42 ', 42],
    [{ kind: 'date' }, '2024-02-29', '2024-02-29'],
    [{ kind: 'date' }, '2023-02-29', 'Enter a valid date.'],
    [{ kind: 'time' }, '23:59:59.999', '23:59:59.999'],
    [{ kind: 'time' }, '24:00', 'Enter a valid time.'],
    [{ kind: 'string' }, ' kept as is ', ' kept as is '],
    [{ kind: 'other' }, '{}', 'Enter a valid value.'],
  ];
  for (const [path, text, expected] of cases) {
    const parsed = parseValue(path, text);
    t.same(parsed.ok ? parsed.value : parsed.message, expected, `${path.kind} ${text}`);
  }
});
