import { defineEntity, p } from '@mikro-orm/core';
import Fastify, { type FastifyInstance } from 'fastify';
import t, { type Test } from 'tap';
import { seedIfEmpty } from '../src/library/seed.ts';
import { parseDateTime, splitSearchTerms } from '../src/rest/filters.ts';
import { parseValue } from '../src/rest/filters/values.ts';
import {
  DefaultRouter,
  fastrest,
  FieldFilterBackend,
  ModelSerializer,
  ModelViewSet,
  OrderingFilter,
  SearchFilter,
  serverOptions,
  SetupError,
  type FilterFields,
  type OrderingFields,
  type SearchFields,
} from '../src/rest/index.ts';
import { entitiesApp, libraryApp } from './helpers.ts';

/** Test entities with a column of every kind the filters parse, and a to-one relation. */
const Shelf = defineEntity({
  name: 'Shelf',
  tableName: 'filters_shelf',
  properties: { id: p.integer().primary().autoincrement(), name: p.string().length(50), floor: p.smallint() },
});
const Item = defineEntity({
  name: 'Item',
  tableName: 'filters_item',
  properties: {
    id: p.integer().primary().autoincrement(),
    title: p.string().length(250),
    subtitle: p.string().length(250).default(''),
    author: p.string().length(100),
    code: p.string().length(20).nullable(),
    copies: p.smallint().default(0),
    price: p.decimal().precision(10).scale(2).nullable(),
    inStock: p.boolean().default(true),
    status: p.enum(['draft', 'published']).default('draft'),
    publishedOn: p.date().nullable(),
    createdAt: p.datetime().onCreate(() => new Date()),
    shelf: p.manyToOne(Shelf).nullable(),
  },
});

class ItemSerializer extends ModelSerializer.for(Item, {
  fields: ['id', 'title', 'subtitle', 'author', 'code', 'copies', 'price', 'inStock', 'status', 'publishedOn', 'createdAt', 'shelf'],
  readOnlyFields: ['id', 'createdAt'],
}) {}

/** A view allowing every lookup that fits each field, with renamed search and ordering parameters. */
class CatalogueViewSet extends ModelViewSet<ItemSerializer> {
  readonly serializer = new ItemSerializer();
  override filterBackends = [new FieldFilterBackend(), new SearchFilter({ searchParam: 'q' }), new OrderingFilter({ orderingParam: 'sort' })];
  override filterFields: FilterFields<ItemSerializer> = {
    id: ['exact', 'in', 'gt', 'gte', 'lt', 'lte', 'range', 'isnull'],
    title: ['exact', 'iexact', 'contains', 'icontains', 'startswith', 'istartswith', 'endswith', 'iendswith', 'in', 'isnull'],
    createdAt: ['exact', 'gt', 'gte', 'lt', 'lte', 'range', 'isnull'],
    code: ['exact', 'in', 'isnull'],
    copies: ['lte'],
    price: ['gte', 'lt', 'range'],
    inStock: ['exact'],
    status: ['exact', 'in'],
    publishedOn: ['exact', 'gte', 'isnull'],
    shelf: ['exact', 'in', 'isnull'],
    shelf__name: ['exact', 'icontains', 'isnull'],
    shelf__floor: ['gte'],
  };
  override searchFields: SearchFields<ItemSerializer> = ['title', '^subtitle', '=code', '=id', 'shelf__name'];
  override orderingFields: OrderingFields<ItemSerializer> = ['title', 'author', 'id', 'shelf__name'];
  override ordering = { author: 'asc', title: 'asc' } as const;
}

const SHELVES = [
  { id: 1, name: 'Arts', floor: 1 },
  { id: 2, name: 'Computing', floor: 2 },
  { id: 3, name: 'Databases', floor: 2 },
];

/** The sample: LIKE wildcards, a quote and a backslash in a title, equal authors (3 and 6), known dates. */
const SAMPLE = [
  { title: 'Django REST framework', subtitle: 'Web APIs for Django', author: 'Tom Christie', createdAt: '2024-01-10T00:00:00Z', code: 'DRF-1', copies: 3, price: '39.90', inStock: true, status: 'published', publishedOn: '2011-02-01', shelf: 1 },
  { title: 'Two Scoops of Django', subtitle: 'Best practices', author: 'Daniel Roy Greenfeld', createdAt: '2024-02-10T00:00:00Z', code: 'TSD-2', copies: 0, price: '45.00', inStock: false, status: 'published', publishedOn: '2013-04-01', shelf: 2 },
  { title: 'Fastify in Action', subtitle: 'rest APIs on Node', author: 'Manuel Spigolon', createdAt: '2024-03-10T00:00:00Z', code: 'FIA-3', copies: 7, price: '49.99', inStock: true, status: 'draft', publishedOn: null, shelf: 1 },
  { title: "100% pure_SQL \\ O'Reilly", subtitle: '', author: 'Jane Doe', createdAt: '2024-04-10T00:00:00Z', code: null, copies: 1, price: '9.99', inStock: true, status: 'draft', publishedOn: null, shelf: null },
  { title: 'The REST of Us', subtitle: 'unchained: django rest', author: 'Will Vincent', createdAt: '2024-05-10T12:30:00Z', code: 'ROU-5', copies: 2, price: '19.50', inStock: false, status: 'published', publishedOn: '2020-06-30', shelf: 2 },
  { title: 'Pure SQL tips', subtitle: 'Queries', author: 'Manuel Spigolon', createdAt: '2024-06-10T00:00:00Z', code: 'PST-6', copies: 5, price: '25.00', inStock: true, status: 'published', publishedOn: '2022-01-15', shelf: 3 },
];

/** Inserts the sample with ids 1..6, then rewrites item 3 so the table's physical order differs from id order. */
async function seed(app: FastifyInstance): Promise<void> {
  const em = app.orm.em.fork();
  for (const shelf of SHELVES) await em.insert(Shelf, shelf);
  for (const [i, item] of SAMPLE.entries()) await em.insert(Item, { id: i + 1, ...item, createdAt: new Date(item.createdAt) } as never);
  await em.nativeUpdate(Item, { id: 3 }, { subtitle: 'rest APIs on Node' });
}

/** An app serving `CatalogueViewSet` at /api/catalogue/ and the backends' `toHtml` data at /html/. */
async function catalogueApp(t: Test) {
  const view = new CatalogueViewSet();
  const { app, client } = await entitiesApp(t, [Shelf, Item], new DefaultRouter().register('catalogue', view), (app) =>
    app.get('/html/', async (request) => Object.fromEntries(view.filterBackends.map((b) => [b.constructor.name, b.toHtml(request, view)]))),
  );
  await seed(app);
  return { app, client };
}

const ids = (page: { results: { id: number }[] }) => page.results.map((b) => b.id);

t.test('filtering a catalogue of items (one database, read-only until the last test)', async (t) => {
  const { client } = await catalogueApp(t);

  await t.test('each lookup of FieldFilterBackend keeps the matching rows', async (t) => {
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
      [{ code: 'DRF-1' }, [1]],
      [{ code__in: 'DRF-1,PST-6' }, [1, 6]],
      [{ code__isnull: 'true' }, [4]],
      [{ copies__lte: '1' }, [2, 4]],
      [{ price__gte: '25' }, [1, 2, 3, 6]],
      [{ price__lt: '19.50' }, [4]],
      [{ price__range: '10,40' }, [1, 5, 6]],
      [{ inStock: 'true' }, [1, 3, 4, 6]],
      [{ inStock: 'False' }, [2, 5]],
      [{ status: 'draft' }, [3, 4]],
      [{ status__in: 'draft,published' }, [1, 2, 3, 4, 5, 6]],
      [{ publishedOn: '2013-04-01' }, [2]],
      [{ publishedOn__gte: '2015-01-01' }, [5, 6]],
      [{ publishedOn__isnull: 'true' }, [3, 4]],
      [{ shelf: '2' }, [2, 5]],
      [{ shelf__in: '1,3' }, [1, 3, 6]],
      [{ shelf__isnull: 'true' }, [4]],
      [{ shelf__name: 'Computing' }, [2, 5]],
      [{ shelf__name__icontains: 'A' }, [1, 3, 6]],
      [{ shelf__name__isnull: 'true' }, [4]],
      [{ shelf__name__isnull: 'false' }, [1, 2, 3, 5, 6]],
      [{ shelf__floor__gte: '2' }, [2, 5, 6]],
      [{ shelf__name__icontains: 'a', inStock: 'true', price__lt: '40' }, [1, 6]],
    ];
    for (const [query, expected] of cases) {
      const res = await client.get('/api/catalogue/', { query: { ...query, sort: 'id' } });
      t.equal(res.statusCode, 200, JSON.stringify(query));
      t.same(ids(res.data), expected, JSON.stringify(query));
    }
  });

  await t.test('empty values and unknown parameters are ignored', async (t) => {
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

  await t.test('a value that is not of the field type is a 400 field error, never a 500', async (t) => {
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
      [{ price__gte: 'cheap' }, { price__gte: ['Enter a number.'] }],
      [{ copies__lte: '40000' }, { copies__lte: ['Ensure this value is less than or equal to 32767.'] }],
      [{ inStock: 'yes' }, { inStock: ['Select a valid choice. yes is not one of the available choices.'] }],
      [{ status: 'archived' }, { status: ['Select a valid choice. archived is not one of the available choices.'] }],
      [{ publishedOn: '2013-02-30' }, { publishedOn: ['Enter a valid date.'] }],
      [{ shelf: 'Arts' }, { shelf: ['Enter a whole number.'] }],
      [{ shelf__floor__gte: 'ground' }, { shelf__floor__gte: ['Enter a whole number.'] }],
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

  await t.test('SQL-looking values are matched literally and never 500', async (t) => {
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
    t.equal((await client.get('/api/catalogue/')).data.count, 6, 'the table is intact');
  });

  await t.test('search: every term must match one of the search fields', async (t) => {
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
    t.same(await search('fia-3'), [3], '=code matches a whole value, case ignored');
    t.same(await search('FIA'), [], '=code does not match part of one');
    t.same(await search('computing'), [2, 5], 'a path across a relation is searched');
    t.same(await search('computing django'), [2], 'terms may match different fields');
    t.same(await search('5'), [5], '=id matches a number exactly');
    t.same(await search('5 rest'), [5], 'a number and a word');
    t.same(await search('99999999999'), [], 'a number too large for the id matches nothing, without an error');
    t.same(await search('   '), [1, 2, 3, 4, 5, 6], 'blank search keeps everything');
    const nul = await client.get('/api/catalogue/', { query: { q: 'a\u0000b' } });
    t.equal(nul.statusCode, 400);
    t.same(nul.data, { q: ['Null characters are not allowed.'] });
  });

  await t.test('ordering: allow-list, unknown fields ignored, default, primary key as tie-breaker', async (t) => {
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
    t.same(await order('shelf__name'), [1, 3, 2, 5, 6, 4], 'across a relation; the item without a shelf is kept, last');
    t.same(await order('-shelf__name,-id'), [4, 6, 5, 2, 3, 1]);
  });

  await t.test('toHtml gives the Filters dialog its data with URLs computed', async (t) => {
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
    t.same(ordering.context.options.map((o: { key: string }) => o.key), ['title', '-title', 'author', '-author', 'id', '-id', 'shelf__name', '-shelf__name']);
    t.match(ordering.context.options.find((o: { key: string }) => o.key === '-shelf__name'), { label: 'Shelf name - descending' });
    t.equal(fields.template, 'filters/fields');
    const icontains = fields.context.fields.find((f: { name: string }) => f.name === 'title__icontains');
    t.match(icontains, { label: 'Title contains', input: 'text', value: 'o' });
    t.match(fields.context.fields.find((f: { name: string }) => f.name === 'createdAt__gte'), { input: 'datetime-local', value: '' });
    t.match(fields.context.fields.find((f: { name: string }) => f.name === 'id__isnull'), { input: 'select', choices: [{ value: 'true' }, { value: 'false' }] });
    t.match(fields.context.fields.find((f: { name: string }) => f.name === 'status'), { input: 'select', choices: [{ value: 'draft' }, { value: 'published' }] });
    t.match(fields.context.fields.find((f: { name: string }) => f.name === 'shelf__name__icontains'), { label: 'Shelf name contains', input: 'text' });
    t.equal(fields.context.resetUrl, 'http://lib.test/html/?q=django+rest&sort=-title&page=2');
  });

  await t.test('a filtered-out object is a 404 on the item routes', async (t) => {
    t.equal((await client.get('/api/catalogue/3/', { query: { title: 'Fastify in Action' } })).statusCode, 200);
    t.equal((await client.get('/api/catalogue/3/', { query: { q: 'fastify', shelf__name: 'Arts' } })).statusCode, 200);
    const queries: Record<string, string>[] = [{ title: 'Other' }, { q: 'other' }, { id__in: '1,2' }, { createdAt__lte: '2000-01-01' }, { shelf__name: 'Computing' }];
    for (const query of queries) {
      const res = await client.get('/api/catalogue/3/', { query });
      t.equal(res.statusCode, 404, JSON.stringify(query));
      t.same(res.data, { detail: 'Not found.' });
    }
    t.equal((await client.patch('/api/catalogue/3/?q=other', { title: 'Changed' })).statusCode, 404, 'PATCH');
    t.equal((await client.put('/api/catalogue/3/?title=Other', { title: 'Changed', author: 'A' })).statusCode, 404, 'PUT');
    t.equal((await client.delete('/api/catalogue/3/?q=other')).statusCode, 404, 'DELETE');
    t.equal((await client.get('/api/catalogue/3/')).data.title, 'Fastify in Action', 'nothing changed');
    t.equal((await client.patch('/api/catalogue/3/?q=fastify', { subtitle: 'Changed' })).statusCode, 200, 'PATCH within the filter');
  });
});

t.test("the Library's books", async (t) => {
  const { app, client } = await libraryApp(t);
  await seedIfEmpty(app.orm.em.fork());

  await t.test("the Library's books filter, search and order as documented", async (t) => {
    const titles = async (query: Record<string, string>) => {
      const res = await client.get('/api/books/', { query });
      t.equal(res.statusCode, 200, JSON.stringify(query));
      return res.data.results.map((b: { title: string }) => b.title);
    };
    const [sicp, pragmatic, scoops, ddia, clrs] = [
      'Structure and Interpretation of Computer Programs',
      'The Pragmatic Programmer',
      'Two Scoops of Django 3.x',
      'Designing Data-Intensive Applications',
      'Introduction to Algorithms',
    ];
    t.same(await titles({ search: 'thomas' }), [pragmatic, clrs], "the author's name is searched");
    t.same(await titles({ search: 'edition' }), [sicp, clrs], 'the subtitle is searched');
    t.same(await titles({ search: 'programs structure' }), [sicp]);
    t.same(await titles({ search: '9780262033848' }), [clrs], '=isbn');
    t.same(await titles({ search: '978026' }), [], 'isbn only matches whole');
    t.same(await titles({ title__icontains: 'django' }), [scoops]);
    t.same(await titles({ author__name__icontains: 'KLEPP' }), [ddia]);
    t.same(await titles({ author__name: 'David Thomas' }), [pragmatic]);
    t.same(await titles({ isbn__in: '9780262510875,9781449373320' }), [sicp, ddia]);
    t.same(await titles({ title__istartswith: 'the' }), [pragmatic]);
    t.same(await titles({ ordering: 'author__name' }), [scoops, pragmatic, sicp, ddia, clrs]);
    t.same(await titles({ ordering: '-title' }), [scoops, pragmatic, sicp, clrs, ddia]);
    t.same(await titles({ ordering: 'isbn' }), [sicp, pragmatic, scoops, ddia, clrs], 'isbn is not orderable: id order');
    t.same(await titles({ createdAt__gte: '2000-01-01', createdAt__isnull: 'false', ordering: '-id' }), [clrs, ddia, scoops, pragmatic, sicp]);
    const one = (await client.get('/api/books/', { query: { search: 'kleppmann' } })).data.results[0];
    t.equal((await client.get(`/api/books/${one.id}/`, { query: { search: 'kleppmann' } })).statusCode, 200);
    t.equal((await client.get(`/api/books/${one.id}/`, { query: { search: 'django' } })).statusCode, 404, 'filtered out of the item route');
    const bad = await client.get('/api/books/', { query: { createdAt__gte: 'soon' } });
    t.equal(bad.statusCode, 400);
    t.same(bad.data, { createdAt__gte: ['Enter a valid date/time.'] });
  });

  await t.test('OpenAPI lists the filter parameters on the list operation only', async (t) => {
    const doc = (await client.get('/openapi.json')).data;
    const list = doc.paths['/api/books/'].get.parameters as { name: string; in: string; schema: { type: string }; description: string }[];
    const expected = ['title', 'title__icontains', 'author__name__iexact', 'isbn', 'isbn__in', 'createdAt__gte', 'createdAt__range', 'createdAt__isnull', 'search', 'ordering'];
    const names = list.map((p) => p.name);
    for (const name of expected) t.ok(names.includes(name), name);
    for (const p of list.filter((p) => expected.includes(p.name))) {
      t.equal(p.in, 'query', p.name);
      t.equal(p.schema.type, 'string', `${p.name} is loosely typed, so bad values get the filter's own messages`);
      t.ok(p.description.length > 10, `${p.name} is described`);
    }
    t.match(list.find((p) => p.name === 'createdAt__gte')!.description, /Created at is greater than or equal to: an ISO 8601 date\/time/);
    t.match(list.find((p) => p.name === 'search')!.description, /title \(contains\), subtitle \(contains\), author__name \(contains\), isbn \(exact\)/);
    t.match(list.find((p) => p.name === 'ordering')!.description, /title, author__name, createdAt, id/);
    const retrieve = doc.paths['/api/books/{id}/'].get.parameters as { name?: string; $ref?: string }[];
    t.same(retrieve.filter((p) => p.name).map((p) => p.name), ['id'], 'the item route documents its path parameter, none of the filters');
    t.same(retrieve.filter((p) => p.$ref).map((p) => p.$ref), ['#/components/parameters/IfNoneMatch', '#/components/parameters/Format'], 'besides the shared If-None-Match and ?format= parameters');
  });
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

t.test('a view naming a field or lookup that does not fit is a SetupError when the app is built', async (t) => {
  const bad: [string, Partial<Pick<CatalogueViewSet, 'filterFields' | 'searchFields' | 'orderingFields'>>, RegExp][] = [
    ['unknown field', { filterFields: { publisher: ['exact'] } as never }, /filterFields names "publisher": Item has no field "publisher"/],
    ['unknown property across a relation', { filterFields: { shelf__colour: ['exact'] } }, /filterFields names "shelf__colour": Shelf has no property "colour"/],
    ['text lookup on a relation', { filterFields: { shelf: ['icontains'] } }, /lookup "icontains", which does not fit an integer field/],
    ['order lookup on a boolean', { filterFields: { inStock: ['gt'] } }, /lookup "gt", which does not fit a boolean field/],
    ['text lookup on a choice', { filterFields: { status: ['icontains'] } }, /lookup "icontains", which does not fit a choice field/],
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
