import t, { type Test } from 'tap';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { BookViewSet } from '../src/library/views.ts';
import { APIClient, APIView, BaseParser, fastrest, JSONParser, ParseError, serverOptions, type Permission } from '../src/rest/index.ts';
import { booksApiApp, isbn, libraryApp } from './helpers.ts';

const book = (n: number, extra: Record<string, unknown> = {}) => ({ title: `Book ${n}`, author: `Author ${n}`, isbn: isbn(n), ...extra });
const REQUIRED = { title: ['This field is required.'], author: ['This field is required.'], isbn: ['This field is required.'] };

/** The Library's books, open to anonymous writes (these tests are not about permissions). */
class OpenBooks extends BookViewSet {
  override permissionClasses: Permission[] = [];
}

/** The same books, taking JSON bodies only. */
class JsonOnlyBooks extends OpenBooks {
  override parserClasses = [new JSONParser()];
}

/** `text/csv` with one header line and one row: a parser the app does not install by default. */
class CsvParser extends BaseParser {
  readonly mediaType = 'text/csv';
  parse(body: string | Buffer): Record<string, string> {
    const [head = '', row = ''] = String(body).trim().split(/\r?\n/);
    const keys = head.split(',');
    const values = row.split(',');
    if (keys.length !== values.length) throw new ParseError('CSV parse error - the row and the header differ in length.');
    return Object.fromEntries(keys.map((key, i) => [key, values[i]]));
  }
}

class CsvBooks extends OpenBooks {
  override parserClasses = [new JSONParser(), new CsvParser()];
}

t.test('parsing the Books API bodies', async (t) => {
  const { app, client } = await booksApiApp(t, new OpenBooks(), {}, (router) => {
    router.register('json-books', new JsonOnlyBooks(), { basename: 'jsonbook' });
    router.register('csv-books', new CsvBooks(), { basename: 'csvbook' });
  });

  await t.test('JSON creates a book', async (t) => {
    const res = await client.post('/api/books/', book(1));
    t.equal(res.statusCode, 201);
    t.match(res.data, { title: 'Book 1', author: 'Author 1', subtitle: '' });
  });

  await t.test('an empty or blank JSON body is {}, never a 415', async (t) => {
    for (const body of ['', '   \n']) {
      const res = await client.post('/api/books/', body, { format: 'raw', contentType: 'application/json' });
      t.equal(res.statusCode, 400, JSON.stringify(body));
      t.same(res.data, REQUIRED);
    }
  });

  await t.test('malformed JSON is a 400 parse error', async (t) => {
    const res = await client.post('/api/books/', '{"title": ', { format: 'raw', contentType: 'application/json' });
    t.equal(res.statusCode, 400);
    t.match(res.data.detail, /^JSON parse error - .+/);
  });

  await t.test('prototype poisoning in JSON is refused as a parse error', async (t) => {
    const res = await client.post('/api/books/', '{"title": "x", "__proto__": {"isAdmin": true}}', { format: 'raw', contentType: 'application/json' });
    t.equal(res.statusCode, 400);
    t.match(res.data.detail, /^JSON parse error - .*prototype/);
  });

  await t.test('a JSON Content-Type with parameters is still JSON', async (t) => {
    const res = await client.post('/api/books/', JSON.stringify(book(2)), { format: 'raw', contentType: 'application/json; charset=utf-8' });
    t.equal(res.statusCode, 201);
  });

  await t.test('a urlencoded form creates a book (201), blank optional fields kept blank', async (t) => {
    const res = await client.post('/api/books/', book(3, { subtitle: '' }), { format: 'form' });
    t.equal(res.statusCode, 201);
    t.match(res.data, { title: 'Book 3', subtitle: '', author: 'Author 3', isbn: isbn(3) });
    t.match(res.headers['location'], new RegExp(`/api/books/${res.data.id}/$`));
  });

  await t.test('form validation errors are the same DRF messages as for JSON', async (t) => {
    const missing = await client.post('/api/books/', { subtitle: 'only this' }, { format: 'form' });
    t.equal(missing.statusCode, 400);
    t.same(missing.data, REQUIRED);
    const bad = await client.post('/api/books/', { title: '', author: 'x'.repeat(101), isbn: '12345' }, { format: 'form' });
    t.equal(bad.statusCode, 400);
    t.same(bad.data, {
      title: ['This field may not be blank.'],
      author: ['Ensure this field has no more than 100 characters.'],
      isbn: ['Enter a valid ISBN-13: exactly 13 digits.'],
    });
  });

  await t.test('a repeated form key counts with its last value, as a QueryDict does', async (t) => {
    const res = await client.post('/api/books/', book(4, { title: ['First', 'Last'] }), { format: 'form' });
    t.equal(res.statusCode, 201);
    t.equal(res.data.title, 'Last');
  });

  await t.test('PUT and PATCH take forms too; PATCH changes only what is sent', async (t) => {
    const created = (await client.post('/api/books/', book(5), { format: 'form' })).data;
    const patched = await client.patch(`/api/books/${created.id}/`, { subtitle: 'Patched' }, { format: 'form' });
    t.equal(patched.statusCode, 200);
    t.match(patched.data, { title: 'Book 5', subtitle: 'Patched' });
    const put = await client.put(`/api/books/${created.id}/`, book(5, { title: 'Replaced' }), { format: 'multipart' });
    t.equal(put.statusCode, 200);
    t.match(put.data, { title: 'Replaced', subtitle: 'Patched' });
  });

  await t.test('a multipart form creates a book; files never become body fields', async (t) => {
    const res = await client.post('/api/books/', book(6, { cover: { filename: 'cover.png', content: Buffer.from([137, 80, 78, 71]), contentType: 'image/png' } }), {
      format: 'multipart',
    });
    t.equal(res.statusCode, 201);
    t.match(res.data, { title: 'Book 6', author: 'Author 6' });
    const fileAsTitle = await client.post('/api/books/', { ...book(7), title: { filename: 'title.txt', content: 'A title in a file' } }, { format: 'multipart' });
    t.equal(fileAsTitle.statusCode, 400);
    t.same(fileAsTitle.data, { title: ['This field is required.'] });
  });

  await t.test('multipart validation errors use DRF messages', async (t) => {
    const res = await client.post('/api/books/', { title: '', author: 'A', isbn: isbn(8) }, { format: 'multipart' });
    t.equal(res.statusCode, 400);
    t.same(res.data, { title: ['This field may not be blank.'] });
  });

  await t.test('a multipart body without a boundary or cut short is a 400 parse error', async (t) => {
    const noBoundary = await client.post('/api/books/', 'x', { format: 'raw', contentType: 'multipart/form-data' });
    t.equal(noBoundary.statusCode, 400);
    t.match(noBoundary.data.detail, /^Multipart form parse error - /);
    const cut = await client.post('/api/books/', '--b\r\nContent-Disposition: form-data; name="title"\r\n\r\nHal', {
      format: 'raw',
      contentType: 'multipart/form-data; boundary=b',
    });
    t.equal(cut.statusCode, 400);
    t.match(cut.data.detail, /^Multipart form parse error - /);
  });

  await t.test('a media type no parser reads is a 415 naming it', async (t) => {
    for (const type of ['text/plain', 'application/xml', 'application/vnd.api+json']) {
      const res = await client.post('/api/books/', '<book/>', { format: 'raw', contentType: type });
      t.equal(res.statusCode, 415, type);
      t.same(res.data, { detail: `Unsupported media type "${type}" in request.` });
    }
  });

  await t.test('an empty body is {} whatever its media type, never a 415', async (t) => {
    const res = await client.post('/api/books/', '', { format: 'raw', contentType: 'text/plain' });
    t.equal(res.statusCode, 400);
    t.same(res.data, REQUIRED);
  });

  await t.test('no Content-Type: no body is {}, and a body is ignored (as DRF does)', async (t) => {
    const none = await client.request('POST', '/api/books/');
    t.equal(none.statusCode, 400);
    t.same(none.data, REQUIRED);
    const ignored = await app.inject({ method: 'POST', url: '/api/books/', payload: Buffer.from(JSON.stringify(book(9))) });
    t.equal(ignored.statusCode, 400);
    t.same(ignored.json(), REQUIRED);
  });

  await t.test('a view that only parses JSON answers 415 to a form or multipart body', async (t) => {
    const form = await client.post('/api/json-books/', book(10), { format: 'form' });
    t.equal(form.statusCode, 415);
    t.same(form.data, { detail: 'Unsupported media type "application/x-www-form-urlencoded" in request.' });
    const multipart = await client.post('/api/json-books/', book(10), { format: 'multipart' });
    t.equal(multipart.statusCode, 415);
    t.same(multipart.data, { detail: 'Unsupported media type "multipart/form-data" in request.' });
    const empty = await client.post('/api/json-books/', '', { format: 'raw', contentType: 'application/x-www-form-urlencoded' });
    t.equal(empty.statusCode, 400, 'an empty form is still {}');
    const json = await client.post('/api/json-books/', book(10));
    t.equal(json.statusCode, 201);
  });

  await t.test("a view's own parser reads a media type the app does not install", async (t) => {
    const csv = `title,author,isbn\nFrom CSV,Csv Author,${isbn(11)}\n`;
    const res = await client.post('/api/csv-books/', csv, { format: 'raw', contentType: 'text/csv; charset=utf-8' });
    t.equal(res.statusCode, 201);
    t.match(res.data, { title: 'From CSV', author: 'Csv Author' });
    const broken = await client.post('/api/csv-books/', 'title,author\nonly-one', { format: 'raw', contentType: 'text/csv' });
    t.equal(broken.statusCode, 400);
    t.same(broken.data, { detail: 'CSV parse error - the row and the header differ in length.' });
    const elsewhere = await client.post('/api/books/', csv, { format: 'raw', contentType: 'text/csv' });
    t.equal(elsewhere.statusCode, 415, 'other views still refuse it');
  });

  await t.test('OPTIONS lists the media types each view parses', async (t) => {
    t.same((await client.options('/api/books/')).data.parses, ['application/json', 'application/x-www-form-urlencoded', 'multipart/form-data']);
    t.same((await client.options('/api/json-books/')).data.parses, ['application/json']);
    t.same((await client.options('/api/csv-books/')).data.parses, ['application/json', 'text/csv']);
  });
});

t.test('the Library parses JSON, forms and multipart, and says so', async (t) => {
  const { client } = await libraryApp(t);
  const options = await client.options('/api/books/');
  t.same(options.data.parses, ['application/json', 'application/x-www-form-urlencoded', 'multipart/form-data']);
  t.equal(options.data.renders[0], 'application/json');
  const root = await client.options('/api/');
  t.same(root.data.parses, ['application/json', 'application/x-www-form-urlencoded', 'multipart/form-data']);
  const form = await client.post('/api/books/', book(1), { format: 'form' });
  t.ok(form.statusCode === 401 || form.statusCode === 403, 'an anonymous form meets the permissions, not the parser');
});

/** A plain route with booleans, nullable and list fields, echoing what validation let through. */
async function echoApp(t: Test) {
  const settings = { bodyLimit: 4096 };
  const app = Fastify(serverOptions(settings));
  await app.register(fastrest, { settings, openapi: false });
  const view = new APIView();
  const body = (required: string[]) => ({
    type: 'object',
    properties: {
      count: { type: 'integer' },
      flag: { type: 'boolean' },
      maybe: { type: ['boolean', 'null'] },
      note: { type: ['string', 'null'], minLength: 1 },
      label: { type: 'string', minLength: 1 },
      blankable: { type: 'string' },
      size: { type: 'integer' },
      tags: { type: 'array', items: { type: 'string' } },
    },
    required,
  });
  const echo = async (request: FastifyRequest) => ({
    body: request.body,
    files: request.uploadedFiles?.map((f) => ({ fieldName: f.fieldName, filename: f.filename, mimeType: f.mimeType, text: f.data.toString() })) ?? null,
  });
  const onRequest = async (request: FastifyRequest, reply: FastifyReply) => view.initial(request, reply);
  app.post('/echo/', { schema: { body: body(['count']) }, onRequest }, echo);
  app.patch('/echo/', { schema: { body: body([]) }, onRequest }, echo);
  app.post('/outside/', echo);
  t.teardown(() => app.close());
  await app.ready();
  return new APIClient(app);
}

t.test('HTML input (form and multipart) follows DRF’s rules for it', async (t) => {
  const client = await echoApp(t);

  for (const format of ['form', 'multipart'] as const) {
    await t.test(`${format}: strings become numbers and booleans through the schema`, async (t) => {
      const res = await client.post('/echo/', { count: '5', flag: 'true', tags: ['a', 'b'] }, { format });
      t.equal(res.statusCode, 200);
      t.same(res.data.body, { count: 5, flag: true, tags: ['a', 'b'], maybe: null });
    });

    await t.test(`${format}: DRF's words for booleans, and an unticked checkbox is false`, async (t) => {
      for (const [word, value] of [['on', true], ['yes', true], ['1', true], ['True', true], ['off', false], ['no', false], ['0', false], ['False', false]] as const) {
        const res = await client.post('/echo/', { count: 1, flag: word }, { format });
        t.equal(res.data.body.flag, value, word);
      }
      const unticked = await client.post('/echo/', { count: 1 }, { format });
      t.equal(unticked.data.body.flag, false);
      t.equal(unticked.data.body.maybe, null, 'a nullable boolean left out is null');
      const bad = await client.post('/echo/', { count: 1, flag: 'perhaps' }, { format });
      t.equal(bad.statusCode, 400);
      t.same(bad.data, { flag: ['Must be a valid boolean.'] });
    });

    await t.test(`${format}: empty values: null when nullable, left out when optional, kept when blank is allowed`, async (t) => {
      const res = await client.post('/echo/', { count: 2, note: '', label: '', blankable: '', size: '' }, { format });
      t.equal(res.statusCode, 200);
      t.same(res.data.body, { count: 2, note: null, blankable: '', flag: false, maybe: null });
      const required = await client.post('/echo/', { count: '' }, { format });
      t.equal(required.statusCode, 400);
      t.same(required.data, { count: ['A valid integer is required.'] });
    });

    await t.test(`${format}: a PATCH leaves out the booleans not sent`, async (t) => {
      const res = await client.patch('/echo/', { label: 'x' }, { format });
      t.equal(res.statusCode, 200);
      t.same(res.data.body, { label: 'x' });
    });
  }

  await t.test('multipart files are kept apart in request.uploadedFiles', async (t) => {
    const res = await client.post('/echo/', { count: 1, doc: { filename: 'notes.txt', content: 'hello', contentType: 'text/plain' } }, { format: 'multipart' });
    t.equal(res.statusCode, 200);
    t.same(res.data.files, [{ fieldName: 'doc', filename: 'notes.txt', mimeType: 'text/plain', text: 'hello' }]);
    t.notOk('doc' in res.data.body);
  });

  await t.test('routes outside views read every installed media type, without schema rules', async (t) => {
    const res = await client.post('/outside/', { a: '1', b: ['x', 'y'] }, { format: 'form' });
    t.same(res.data.body, { a: '1', b: 'y' });
  });

  await t.test('bodies over the limit are a 413, whatever their media type', async (t) => {
    const big = 'x'.repeat(5000);
    const json = await client.post('/echo/', { count: 1, label: big });
    t.equal(json.statusCode, 413);
    t.same(json.data, { detail: 'Request body is too large.' });
    t.equal((await client.post('/echo/', { count: 1, label: big }, { format: 'form' })).statusCode, 413);
    const field = await client.post('/echo/', { count: 1, label: big }, { format: 'multipart' });
    t.equal(field.statusCode, 413);
    t.same(field.data, { detail: 'Request body is too large.' });
    const file = await client.post('/echo/', { count: 1, doc: { filename: 'big.bin', content: Buffer.alloc(5000) } }, { format: 'multipart' });
    t.equal(file.statusCode, 413);
    const many = await client.post('/echo/', { count: 1, a: '1', b: '2', c: '3', d: '4' }, { format: 'multipart' });
    t.equal(many.statusCode, 200, 'small bodies of many parts are fine');
  });
});
