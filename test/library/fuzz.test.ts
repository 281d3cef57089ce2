/**
 * Bad input, generated: fast-check makes malformed requests for every operation and parameter the
 * Library's OpenAPI document lists (and the pages it hides), sends them with app.inject, and checks
 * each answer: never a 5xx, errors in DRF's shape, no internal detail, and no row changed by a
 * request that was refused (a checksum of every table before and after each request).
 * The seed is fixed, so a run is reproducible: FUZZ_SEED and FUZZ_RUNS override it and the count.
 */
import fc from 'fast-check';
import type { LightMyRequestResponse } from 'fastify';
import t from 'tap';
import { buildApp } from '../../src/library/app.ts';
import { migrationsPath } from '../../src/library/config.ts';
import { entities } from '../../src/library/entities.ts';
import { createTestDatabase } from '../../src/rest/index.ts';
import { makeUser, tokenFor } from '../auth-helpers.ts';
import { isbn } from '../helpers.ts';

const SEED = Number(process.env['FUZZ_SEED'] ?? 1812);
const RUNS = Number(process.env['FUZZ_RUNS'] ?? 2400);

type Schema = { type?: string | string[]; properties?: Record<string, Schema>; $ref?: string; items?: Schema; enum?: unknown[] };
interface Operation {
  method: string;
  path: string;
  query: { name: string; schema: Schema }[];
  body: Schema | null;
  mediaTypes: string[];
}
interface FuzzRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  payload?: string | Buffer;
  label: string;
}

const db = await createTestDatabase({ entities, migrationsPath });
// The log-in rate would turn most token requests into 429s: the fuzz wants them to reach the parser.
const app = await buildApp(db.orm, {}, { throttleRates: { anon: null, user: null, login: null } });
t.teardown(async () => {
  await app.close();
  await db.drop();
});
await app.ready();

// --- Data the requests may point at -----------------------------------------------------------

const staff = await makeUser(app, { username: 'fuzz-staff', isStaff: true });
const member = await makeUser(app, { username: 'fuzz-member' });
const keeper = await makeUser(app, { username: 'fuzz-keeper' });
const staffToken = await tokenFor(app, staff);
const memberToken = await tokenFor(app, member);
const keeperToken = await tokenFor(app, keeper);
const inject = (method: string, url: string, token: string, payload: object) =>
  app.inject({ method: method as 'POST', url, headers: { authorization: `Token ${token}` }, payload });
const books: number[] = [];
for (let i = 0; i < 4; i++) books.push((await inject('POST', '/api/books/', staffToken, { title: `Book ${i}`, author: `Author ${i % 2}`, isbn: isbn(9000 + i) })).json().id);
const authors = ((await app.inject({ method: 'GET', url: '/api/authors/' })).json() as { id: number }[] | { results: { id: number }[] });
const authorIds = (Array.isArray(authors) ? authors : authors.results).map((a) => a.id);
// Lists kept by someone else than the fuzzing member, so the member's writes to them are refused.
const lists: number[] = [];
for (const isPublic of [false, true]) lists.push((await inject('POST', '/api/reading-lists/', keeperToken, { name: `Kept ${isPublic}`, isPublic })).json().id);
const liveIds: Record<string, number[]> = { books, authors: authorIds, 'reading-lists': lists };

// --- The endpoints, from the OpenAPI document -------------------------------------------------

const document = app.swagger() as {
  paths: Record<string, Record<string, { parameters?: ({ $ref: string } | { name: string; in: string; schema: Schema })[]; requestBody?: { content: Record<string, { schema: Schema }> } }>>;
  components: { schemas: Record<string, Schema>; parameters: Record<string, { name: string; in: string; schema: Schema }> };
};
const resolve = (schema: Schema): Schema => (schema.$ref ? resolve(document.components.schemas[schema.$ref.split('/').pop()!]!) : schema);
const operations: Operation[] = [];
for (const [path, item] of Object.entries(document.paths)) {
  for (const [method, op] of Object.entries(item)) {
    if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue;
    const parameters = (op.parameters ?? []).map((p) => ('$ref' in p ? document.components.parameters[p.$ref.split('/').pop()!]! : p));
    const content = op.requestBody?.content ?? {};
    const first = Object.values(content)[0];
    operations.push({
      method: method.toUpperCase(),
      path,
      query: parameters.filter((p) => p.in === 'query').map((p) => ({ name: p.name, schema: p.schema })),
      body: first ? resolve(first.schema) : null,
      mediaTypes: Object.keys(content),
    });
  }
}
// What the document hides: the website, its stylesheet and the log-in pages.
const LOGIN_BODY: Schema = { type: 'object', properties: { username: { type: 'string' }, password: { type: 'string' }, next: { type: 'string' }, csrfmiddlewaretoken: { type: 'string' } } };
const form = ['application/x-www-form-urlencoded'];
operations.push(
  { method: 'GET', path: '/', query: [], body: null, mediaTypes: [] },
  { method: 'GET', path: '/books/{id}/', query: [], body: null, mediaTypes: [] },
  { method: 'GET', path: '/static/library.css', query: [], body: null, mediaTypes: [] },
  { method: 'GET', path: '/api-auth/login/', query: [{ name: 'next', schema: { type: 'string' } }], body: null, mediaTypes: [] },
  { method: 'POST', path: '/api-auth/login/', query: [{ name: 'next', schema: { type: 'string' } }], body: LOGIN_BODY, mediaTypes: form },
  { method: 'POST', path: '/api-auth/logout/', query: [], body: { type: 'object', properties: { csrfmiddlewaretoken: { type: 'string' } } }, mediaTypes: form },
);

// --- Malformed values -------------------------------------------------------------------------

const SQL = [
  "' OR '1'='1",
  "1' OR 1=1 --",
  '1; DROP TABLE library_book; --',
  "' UNION SELECT password FROM auth_user --",
  "%' AND 1=0 UNION SELECT NULL --",
  "'); DELETE FROM library_author; --",
  "' || pg_sleep(0) || '",
  '$1',
  '?',
  '::text',
  '\\',
  "''",
  '`id`',
  '"id"',
  'id; --',
  '*/ SELECT 1 /*',
];
const ODD = [
  '\u0000',
  'a\u0000b',
  '\ud800',
  '\udfff',
  '\u202e\u200b\u200d',
  '\ufeff',
  '\u00a0\u2028\u2029',
  'e\u0301\u0301\u0301',
  '😀',
  '𝕏',
  '١٢٣',
  '\t\r\n',
  '\u0085',
  '\u{10ffff}',
  ' ',
  '',
];
const NUMBERS = ['0', '-1', '-0', '1.5', '1e3', '1e308', '-1e308', '0x1F', ' 1', '1 ', '+1', '2147483648', '-2147483649', '9007199254740993', '9223372036854775808', '99999999999999999999999', 'NaN', 'Infinity', '١'];
const hugeString = fc.constantFrom(300, 5_000, 100_000).map((n) => 'x'.repeat(n));
const oddString = fc.oneof(
  fc.constantFrom(...SQL, ...ODD, ...NUMBERS),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.array(fc.constantFrom(...ODD, ...SQL, 'a', '1'), { maxLength: 6 }).map((parts) => parts.join('')),
);
const anyString = fc.oneof({ weight: 8, arbitrary: oddString }, { weight: 1, arbitrary: hugeString });
const deep = (depth: number, open: string, close: string) => open.repeat(depth) + close.repeat(depth);

/** A JSON value of any type: what a field of a known type should refuse. */
const jsonValue: fc.Arbitrary<unknown> = fc.oneof(
  anyString,
  fc.constantFrom(0, -1, 1.5, 2 ** 31, -(2 ** 31) - 1, 2 ** 53 + 2, 1e308, -1e308, Number.MIN_VALUE),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom([], {}, [1, 'a'], { a: 1 }, [[[]]], { name: { name: 'x' } }, ['x'.repeat(50)]),
);

/** A value a field of this schema might get: sometimes right, mostly wrong. */
function fieldValue(schema: Schema): fc.Arbitrary<unknown> {
  const right: fc.Arbitrary<unknown> =
    schema.type === 'boolean' ? fc.boolean() : schema.type === 'integer' || (Array.isArray(schema.type) && schema.type.includes('integer')) ? fc.integer({ min: -3000, max: 2000 }) : fc.string({ minLength: 1, maxLength: 20 });
  return fc.oneof({ weight: 1, arbitrary: right }, { weight: 3, arbitrary: jsonValue });
}

const MASS_ASSIGNMENT = ['id', 'owner', 'isStaff', 'is_staff', 'isSuperuser', 'createdAt', 'updatedAt', 'created_at', 'password', 'url', 'authorDetail', 'books', 'user'];

/** An object for a body schema: some fields, some wrong, some unknown or read-only keys. */
function bodyObject(schema: Schema): fc.Arbitrary<Record<string, unknown>> {
  const properties = Object.entries(schema.properties ?? {});
  const known = properties.map(([name, field]) => fc.option(fieldValue(field), { nil: undefined }).map((value) => [name, value] as const));
  const extra = fc.array(fc.tuple(fc.oneof(fc.constantFrom(...MASS_ASSIGNMENT), oddString), jsonValue), { maxLength: 3 });
  return fc.tuple(fc.tuple(...known), extra).map(([pairs, more]) => {
    const object: Record<string, unknown> = {};
    for (const [name, value] of pairs) if (value !== undefined) object[name] = value;
    for (const [name, value] of more) Object.defineProperty(object, name, { value, enumerable: true, configurable: true, writable: true });
    return object;
  });
}

const BROKEN_JSON = [
  '{',
  '}',
  '{"title": }',
  "{'title': 'x'}",
  '{"title": "x",}',
  '{"title": NaN}',
  '{"title": undefined}',
  '{"title": "x" /* c */}',
  '{"title": "\\uZZZZ"}',
  '{"title": "\\ud800"}',
  '{"title": "\u0000"}',
  '\ufeff{"title": "x"}',
  '{"__proto__": {"isStaff": true}}',
  '{"constructor": {"prototype": {"isStaff": true}}}',
  '[1, 2',
  '"unterminated',
  'nul\u0000l',
  'null',
  'true',
  '42',
  '"a string"',
  '[]',
  '[{}]',
  '{"a":1}{"b":2}',
  '\u00ff\u00fe',
];

/** A body for an operation and the content type it is sent with. */
function body(op: Operation): fc.Arbitrary<{ payload: string | Buffer; contentType: string | null }> {
  const schema = op.body ?? { type: 'object', properties: { title: { type: 'string' } } };
  const json = fc.oneof(
    { weight: 6, arbitrary: bodyObject(schema).map((object) => JSON.stringify(object)) },
    { weight: 3, arbitrary: fc.constantFrom(...BROKEN_JSON) },
    { weight: 1, arbitrary: fc.constantFrom(1_000, 20_000).map((n) => deep(n, '[', ']')) },
    { weight: 1, arbitrary: fc.constantFrom(1_000, 20_000).map((n) => `{"title":${'{"a":'.repeat(n)}1${'}'.repeat(n)}}`) },
    { weight: 1, arbitrary: fc.constantFrom(2_000_000).map((n) => JSON.stringify({ title: 'x'.repeat(n) })) },
    { weight: 1, arbitrary: jsonValue.map((value) => JSON.stringify(value) ?? '') },
  );
  const urlencoded = fc.oneof(
    bodyObject(schema).map((object) => new URLSearchParams(Object.entries(object).map(([k, v]) => [k, typeof v === 'string' ? v : (JSON.stringify(v) ?? '')] as [string, string])).toString()),
    fc.constantFrom('title=%ZZ', '%', '=&=&', 'title[]=a&title[]=b', 'title=a&title=b&title=c', 'a'.repeat(5000), '&&&', 'title=%00', 'isPublic=maybe&birthYear=abc', 'name=%E0%A4%A'),
  );
  const boundary = 'fuzzboundary';
  const multipart = fc.oneof(
    bodyObject(schema).map((object) =>
      Object.entries(object)
        .map(([k, v]) => `--${boundary}\r\ncontent-disposition: form-data; name="${k.replace(/["\r\n]/g, '')}"\r\n\r\n${typeof v === 'string' ? v : JSON.stringify(v)}\r\n`)
        .join('')
        .concat(`--${boundary}--\r\n`),
    ),
    fc.constantFrom(
      `--${boundary}\r\ncontent-disposition: form-data; name="title"\r\n\r\nno end`,
      `--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="../../etc/passwd"\r\ncontent-type: application/octet-stream\r\n\r\n\u0000\u0001\r\n--${boundary}--\r\n`,
      '--wrong\r\n\r\n',
      'not multipart at all',
    ),
  );
  const other = fc.oneof(anyString, fc.constantFrom('<?xml version="1.0"?><book><title>x</title></book>', 'title: x'));
  return fc.oneof(
    { weight: 6, arbitrary: json.map((payload) => ({ payload, contentType: 'application/json' as string | null })) },
    {
      weight: 1,
      arbitrary: fc.tuple(json, fc.constantFrom('application/json; charset=utf-16', 'APPLICATION/JSON', 'application/json ; x=y', 'application/vnd.api+json')).map(([payload, contentType]) => ({ payload, contentType: contentType as string | null })),
    },
    { weight: 2, arbitrary: urlencoded.map((payload) => ({ payload, contentType: 'application/x-www-form-urlencoded' as string | null })) },
    { weight: 1, arbitrary: multipart.map((payload) => ({ payload, contentType: `multipart/form-data; boundary=${boundary}` as string | null })) },
    { weight: 1, arbitrary: multipart.map((payload) => ({ payload, contentType: 'multipart/form-data' as string | null })) },
    {
      weight: 2,
      arbitrary: fc.tuple(other, fc.constantFrom('text/plain', 'application/xml', 'application/octet-stream', 'image/png', 'foo', 'text/html; charset=utf-8', '*/*', 'application/', ';', null)).map(([payload, contentType]) => ({ payload, contentType })),
    },
  );
}

const BAD_IDS = ['0', '-1', 'abc', '1.5', '1e3', '0x1', '%20', '%00', '%20%201', '99999999999', '2147483648', '9223372036854775808', "1'", '1%20OR%201%3D1', '%F0%9F%98%80', '%E0%A4%A', '%D9%A1', 'x'.repeat(3000), 'null', 'undefined', '[1]', '%2e%2e'];

/** A query parameter's value: malformed for what it names. */
const queryValue = (name: string): fc.Arbitrary<string> => {
  const special: Record<string, string[]> = {
    ordering: ['-', '--title', 'title,', ',,', 'password', 'author__password', 'owner__password', 'nope', '-id,-id', 'title,'.repeat(50), 'author__name__name', 'createdAt__gte'],
    limit: ['-1', '0', 'abc', '1e10', '99999999999999999999', '1.5', ''],
    offset: ['-1', 'abc', '1e10', '9223372036854775808', '99999999999999999999', '2147483648', '1.5'],
    format: ['json', 'api', 'xml', '', 'JSON', 'json,api', '../etc/passwd'],
    search: ['"', '""', '"unclosed', '" "', '% _', '\\%', 'a'.repeat(2000)],
  };
  const dated = ['2024-13-45', '2024-01-01,', 'a,b,c', ',', '9999999-01-01', '0000-00-00', '2024-01-01T25:00:00Z', '+275760-09-13T00:00:00.001Z', '-271821-04-20', '2024-02-30', '1e20', 'yesterday', 'true', '2024-01-01,2023-01-01'];
  const extra = name.startsWith('createdAt') ? dated : name.endsWith('__in') ? [',,,', 'a'.repeat(20) + ','.repeat(500), Array.from({ length: 2000 }, (_, i) => i).join(',')] : special[name] ?? [];
  return fc.oneof({ weight: extra.length ? 2 : 0, arbitrary: fc.constantFrom(...(extra.length ? extra : [''])) }, { weight: 3, arbitrary: anyString });
};

/** Query-string pieces: a name and its raw (already encoded, possibly wrongly) value. */
function queryString(op: Operation): fc.Arbitrary<string> {
  const names = [...op.query.map((q) => q.name), 'format', 'ordering', 'limit', 'offset', 'page', 'search'];
  const lookups = ['title__regex', 'author__password', 'author__name__in', 'id__gt', 'owner', 'isbn__range', 'title__', '__', 'pk'];
  const pair = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...names).chain((name) => queryValue(name).map((value) => `${name}=${encodeURIComponent(value.replace(/[\ud800-\udfff]/g, '\ufffd'))}`)) },
    { weight: 1, arbitrary: fc.constantFrom(...lookups).chain((name) => oddString.map((value) => `${name}=${encodeURIComponent(value.replace(/[\ud800-\udfff]/g, '\ufffd'))}`)) },
    { weight: 1, arbitrary: fc.constantFrom('%ZZ=1', 'title=%', 'title=%E0%A4%A', '%00=1', 'a[b]=1', 'title[]=x', '=x', '&', 'title', 'limit=1&limit=2', 'format=json&format=api', 'search=%00') },
  );
  return fc.array(pair, { maxLength: 4 }).map((pairs) => (pairs.length ? `?${pairs.join('&')}` : ''));
}

/** An id for a path: an existing one (for reads and writes) or a malformed one. */
function pathId(op: Operation): fc.Arbitrary<string> {
  const resource = op.path.split('/')[2] ?? 'books';
  const live = op.path.startsWith('/books/') ? books : (liveIds[resource] ?? books);
  return fc.oneof({ weight: 1, arbitrary: fc.constantFrom(...live.map(String)) }, { weight: 2, arbitrary: fc.constantFrom(...BAD_IDS) });
}

type Who = 'staff' | 'member' | 'anonymous' | 'garbage';
const who: fc.Arbitrary<Who> = fc.oneof({ weight: 14, arbitrary: fc.constant<Who>('staff') }, { weight: 2, arbitrary: fc.constant<Who>('anonymous') }, { weight: 2, arbitrary: fc.constant<Who>('member') }, { weight: 2, arbitrary: fc.constant<Who>('garbage') });
const GARBAGE_AUTH = ['Token', 'Token ', 'Token a b', 'Token \u00ff', `Token ${'f'.repeat(40)}`, `Token ${'x'.repeat(5000)}`, 'Bearer', 'Basic', 'Basic !!!', `Basic ${Buffer.from('nocolon').toString('base64')}`, `Basic ${Buffer.from('fuzz-staff:wrong').toString('base64')}`, `Basic ${Buffer.from("' OR 1=1 --:x").toString('base64')}`, 'Digest x', 'token ' + "' OR 1=1 --"];
const ACCEPT = ['application/json', '*/*', 'text/html', 'application/xml', 'text/html;q=0', ';;;', 'application/json; indent=4', 'application/json; indent=abc', 'application/json; indent=99999999', 'application/json; q=abc', 'text/*', '', 'image/png, text/html;q=0.1'];

/** One malformed request for an operation. */
function request(op: Operation): fc.Arbitrary<FuzzRequest> {
  const hasId = op.path.includes('{id}');
  const id = hasId ? pathId(op) : fc.constant('');
  // Writes get a body nearly always; a DELETE sometimes; reads never (Fastify does not read it).
  const payload = op.body !== null ? fc.option(body(op), { nil: undefined, freq: 8 }) : op.method === 'DELETE' ? fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: body(op) }) : fc.constant(undefined);
  const method = fc.oneof({ weight: 12, arbitrary: fc.constant(op.method) }, { weight: 1, arbitrary: fc.constantFrom('OPTIONS', 'HEAD', 'PUT', 'PATCH', 'DELETE', 'POST', 'GET') });
  return fc.record({ method, id, query: queryString(op), payload, who, garbage: fc.constantFrom(...GARBAGE_AUTH), accept: fc.option(fc.constantFrom(...ACCEPT), { nil: undefined, freq: 2 }) }).map((r) => {
    // Staff may delete; deleting the rows the others point at would leave nothing to fuzz, so a
    // live id is deleted only by those who may not.
    let whom = r.who;
    if (r.method === 'DELETE' && whom === 'staff' && !BAD_IDS.includes(r.id)) whom = 'member';
    const headers: Record<string, string> = {};
    if (whom === 'staff') headers['authorization'] = `Token ${staffToken}`;
    if (whom === 'member') headers['authorization'] = `Token ${memberToken}`;
    if (whom === 'garbage') headers['authorization'] = r.garbage;
    if (r.accept !== undefined) headers['accept'] = r.accept;
    if (r.payload?.contentType) headers['content-type'] = r.payload.contentType;
    const url = op.path.replace('{id}', r.id) + r.query;
    const label = `${r.method} ${url.length > 200 ? `${url.slice(0, 200)}...` : url} as ${whom}${r.payload ? ` with ${r.payload.contentType} ${String(r.payload.payload).slice(0, 120)}` : ''}`;
    return { method: r.method, url, headers, payload: r.payload?.payload, label };
  });
}

// --- Checks ----------------------------------------------------------------------------------

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
/** DRF's field errors: a list of messages, or nested errors (an object, or a list of them). */
const fieldErrors = (value: unknown): boolean =>
  Array.isArray(value) ? value.length > 0 && value.every((item) => typeof item === 'string' || (isObject(item) && Object.values(item).every(fieldErrors))) : isObject(value) && Object.values(value).every(fieldErrors);
/** `{detail, code?}`, or messages keyed by field (`non_field_errors` included). */
function drfShaped(body: unknown): boolean {
  if (!isObject(body)) return false;
  if ('detail' in body) return typeof body['detail'] === 'string' && Object.keys(body).every((k) => k === 'detail' || k === 'code') && (body['code'] === undefined || typeof body['code'] === 'string');
  return Object.keys(body).length > 0 && Object.values(body).every(fieldErrors);
}

/** What no answer may show: stack traces, source paths, the ORM's and the database's words. */
const LEAKS: [string, RegExp][] = [
  ['a stack property', /"stack"\s*:/],
  ['a stack frame', /\bat (?:async )?[\w.<>]+ \(?(?:file:|node:|\/)[^)\s]*:\d+:\d+/],
  ['a source path', /\/work\/|\/src\/(?:rest|library)\/|node_modules|file:\/\//],
  ['the ORM or driver', /MikroORM|DriverException|QueryBuilder|PGlite|PostgreSQL|postgres|\bpg\b/i],
  ['a database message', /syntax error at or near|invalid input syntax|out of range for type|value too long for type|violates .* constraint|duplicate key value|current transaction is aborted|operator does not exist|does not exist|SQLSTATE|null value in column/i],
  ['SQL text', /select [^<>]{0,200}? from "|from "(?:library|auth|authtoken)_|insert into "|update "(?:library|auth)|delete from "|"[a-z]\d+"\."[a-z_]+"/i],
  ['a database error code', /"code"\s*:\s*"[0-9][0-9A-Z]{4}"/],
];

function problems(req: FuzzRequest, res: LightMyRequestResponse): string[] {
  const found: string[] = [];
  if (res.statusCode >= 500) found.push(`status ${res.statusCode}`);
  const type = String(res.headers['content-type'] ?? '');
  const text = res.body;
  for (const [what, pattern] of LEAKS) if (pattern.test(text)) found.push(`${what}: ${pattern.exec(text)![0].slice(0, 80)}`);
  if (res.statusCode >= 400 && req.method !== 'HEAD' && !type.startsWith('text/html')) {
    let parsed: unknown;
    try {
      parsed = type.startsWith('application/json') ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (!drfShaped(parsed)) found.push(`not DRF-shaped (${type}): ${text.slice(0, 120)}`);
  }
  return found;
}

const TABLES = (
  (await db.orm.em.getConnection().execute(
    "select table_name as name from information_schema.tables where table_schema = current_schema() and table_type = 'BASE TABLE' and table_name not like 'mikro_orm%' order by table_name",
  )) as { name: string }[]
).map((row) => row.name);
const CHECKSUM = `select md5(concat_ws('|', ${TABLES.map((table) => `(select coalesce(string_agg(t::text, ',' order by t::text), '') from "${table}" t)`).join(', ')})) as sum`;
/** One md5 over every row of every table of the Library (the migrations' own table aside). */
async function checksum(): Promise<string> {
  return ((await app.orm.em.fork().getConnection().execute(CHECKSUM)) as { sum: string }[])[0]!.sum;
}

// --- The run ---------------------------------------------------------------------------------

t.test(`${RUNS} malformed requests across every endpoint (seed ${SEED}) get no 5xx, DRF-shaped errors, no internal detail and change no row when refused`, async (t) => {
  t.comment(`fast-check seed ${SEED}, ${RUNS} requests over ${operations.length} operations; FUZZ_SEED=${SEED} reproduces this run`);
  t.ok(TABLES.includes('library_book') && TABLES.includes('auth_user') && TABLES.length >= 8, `checksums cover ${TABLES.join(', ')}`);
  const all = fc.sample(fc.constantFrom(...operations).chain(request), { seed: SEED, numRuns: RUNS });
  // FUZZ_ONLY=1035 replays one request of the run on its own.
  const only = process.env['FUZZ_ONLY'];
  const requests = only === undefined ? all : [all[Number(only)]!];
  if (only !== undefined) t.comment(JSON.stringify({ ...requests[0], payload: String(requests[0]!.payload).slice(0, 100) }));
  const failures = new Map<string, string>();
  const seen = new Set<string>();
  const statuses: Record<number, number> = {};
  let before = await checksum();
  for (const [index, req] of requests.entries()) {
    const res = await app.inject({ method: req.method as 'GET', url: req.url, headers: req.headers, payload: req.payload });
    statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
    seen.add(`${req.method} ${req.url.split('?')[0]}`);
    const found = problems(req, res);
    const after = await checksum();
    const refused = res.statusCode >= 400;
    if (after !== before && (refused || req.method === 'GET' || req.method === 'HEAD' || req.method === 'OPTIONS')) found.push(`rows changed by a ${res.statusCode} ${req.method}`);
    before = after;
    for (const problem of found) if (!failures.has(problem.replace(/\d+/g, 'N'))) failures.set(problem.replace(/\d+/g, 'N'), `${problem}\n    #${index} ${req.label} (${req.payload?.length ?? 0} bytes)\n    -> ${res.statusCode} ${res.body.slice(0, 300)}`);
  }
  t.comment(`statuses: ${JSON.stringify(statuses)}`);
  if (only !== undefined) return t.same([...failures.values()], []);
  t.ok(requests.length >= 2000, `${requests.length} requests sent`);
  const covered = operations.filter((op) => [...seen].some((s) => s.startsWith(`${op.method} `) && new RegExp(`^${op.method} ${op.path.replace(/[.]/g, '\\.').replace('{id}', '[^/]*')}$`).test(s)));
  t.equal(covered.length, operations.length, 'every operation was fuzzed');
  t.same([...failures.values()], [], 'no answer broke a rule');
});
