import t, { type Test } from 'tap';
import { APIClient } from '../../src/rest/index.ts';
import { makeUser } from '../auth-helpers.ts';
import { isbn, libraryApp } from '../helpers.ts';

/** The Library with a client authenticated as staff (real user and token), so every write is allowed. */
async function staffLibrary(t: Test) {
  const library = await libraryApp(t);
  await library.client.forceAuthenticate(await makeUser(library.app, { username: 'librarian', isStaff: true }));
  return library;
}

const book = (n: number, extra: Record<string, unknown> = {}) => ({
  title: `Book ${n}`,
  subtitle: `Subtitle ${n}`,
  author: `Author ${n}`,
  isbn: isbn(n),
  ...extra,
});

t.test('the Books API answers like DRF', async (t) => {
  const { client } = await staffLibrary(t);

  await t.test('an empty collection lists as an empty page with Allow', async (t) => {
    const res = await client.get('/api/books/');
    t.equal(res.statusCode, 200);
    t.same(res.data, { count: 0, next: null, previous: null, results: [] });
    t.equal(res.headers['allow'], 'GET, POST, HEAD, OPTIONS');
    t.match(res.headers['content-type'], /^application\/json/);
  });

  let created: Record<string, any> = {};
  await t.test('creating a book answers 201 with the object and its Location', async (t) => {
    const res = await client.post('/api/books/', book(1));
    t.equal(res.statusCode, 201);
    created = res.data;
    t.match(created, { id: Number, title: 'Book 1', subtitle: 'Subtitle 1', author: 'Author 1', isbn: isbn(1) });
    t.match(created.createdAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/, 'datetimes are ISO 8601 in UTC with Z');
    t.equal(res.headers['location'], `http://localhost:80/api/books/${created.id}/`);
  });

  await t.test('an id or another read-only field sent in a body is ignored', async (t) => {
    const res = await client.post('/api/books/', book(2, { id: 999, createdAt: '2000-01-01T00:00:00Z' }));
    t.equal(res.statusCode, 201);
    t.not(res.data.id, 999);
    t.not(res.data.createdAt, '2000-01-01T00:00:00.000Z');
  });

  await t.test('subtitle may be left out or blank', async (t) => {
    const { subtitle: _, ...withoutSubtitle } = book(3);
    const res = await client.post('/api/books/', withoutSubtitle);
    t.equal(res.statusCode, 201);
    t.equal(res.data.subtitle, '');
    const blank = await client.post('/api/books/', book(4, { subtitle: '' }));
    t.equal(blank.statusCode, 201);
  });

  await t.test('retrieving a book answers 200 with or without the trailing slash', async (t) => {
    for (const url of [`/api/books/${created.id}/`, `/api/books/${created.id}`]) {
      const res = await client.get(url);
      t.equal(res.statusCode, 200, url);
      t.same(res.data, created);
      t.equal(res.headers['allow'], 'GET, PUT, PATCH, DELETE, HEAD, OPTIONS');
    }
  });

  await t.test('HEAD answers with the headers of GET and no body', async (t) => {
    const get = await client.get('/api/books/');
    const head = await client.head('/api/books/');
    t.equal(head.statusCode, 200);
    t.equal(head.body, '');
    t.equal(head.headers['content-type'], get.headers['content-type']);
    t.equal(head.headers['allow'], get.headers['allow']);
  });

  await t.test('PUT replaces every field and needs the required ones', async (t) => {
    const res = await client.put(`/api/books/${created.id}/`, book(1, { title: 'Renamed', subtitle: '' }));
    t.equal(res.statusCode, 200);
    t.equal(res.data.title, 'Renamed');
    t.equal(res.data.id, created.id);
    const missing = await client.put(`/api/books/${created.id}/`, { title: 'Only a title' });
    t.equal(missing.statusCode, 400);
    t.same(missing.data, { author: ['This field is required.'], isbn: ['This field is required.'] });
  });

  await t.test('PUT never creates: a missing book is a 404', async (t) => {
    const res = await client.put('/api/books/99999/', book(50));
    t.equal(res.statusCode, 404);
    t.same(res.data, { detail: 'Not found.' });
  });

  await t.test('PATCH changes only the fields sent', async (t) => {
    const res = await client.patch(`/api/books/${created.id}/`, { subtitle: 'Patched' });
    t.equal(res.statusCode, 200);
    t.equal(res.data.subtitle, 'Patched');
    t.equal(res.data.title, 'Renamed');
    t.ok(Date.parse(res.data.updatedAt) >= Date.parse(created.updatedAt), 'updatedAt moves forward');
  });

  await t.test('PATCH keeps the object unchanged when a field is invalid', async (t) => {
    const res = await client.patch(`/api/books/${created.id}/`, { title: '', author: 'x'.repeat(101) });
    t.equal(res.statusCode, 400);
    t.same(res.data, {
      title: ['This field may not be blank.'],
      author: ['Ensure this field has no more than 100 characters.'],
    });
    const after = await client.get(`/api/books/${created.id}/`);
    t.equal(after.data.title, 'Renamed');
  });

  await t.test('DELETE answers 204 with an empty body and no Content-Type', async (t) => {
    const res = await client.delete(`/api/books/${created.id}/`);
    t.equal(res.statusCode, 204);
    t.equal(res.body, '');
    t.notOk(res.headers['content-type']);
    const gone = await client.get(`/api/books/${created.id}/`);
    t.equal(gone.statusCode, 404);
    t.same(gone.data, { detail: 'Not found.' });
    const again = await client.delete(`/api/books/${created.id}/`);
    t.equal(again.statusCode, 404);
  });
});

t.test('invalid input gets DRF-worded field errors and writes nothing', async (t) => {
  const { client } = await staffLibrary(t);
  const count = async () => (await client.get('/api/books/')).data.count;

  await t.test('an empty object lists every required field', async (t) => {
    const res = await client.post('/api/books/', {});
    t.equal(res.statusCode, 400);
    t.same(res.data, {
      title: ['This field is required.'],
      author: ['This field is required.'],
      isbn: ['This field is required.'],
    });
  });

  await t.test('an empty body is treated as an empty object, never a 415', async (t) => {
    const res = await client.request('POST', '/api/books/', '', { format: 'raw', contentType: 'application/json' });
    t.equal(res.statusCode, 400);
    t.same(Object.keys(res.data).sort(), ['author', 'isbn', 'title']);
  });

  await t.test('null, blank, too long and wrong types each have their message', async (t) => {
    const res = await client.post('/api/books/', { title: null, author: '', isbn: { not: 'a string' }, subtitle: 's'.repeat(251) });
    t.equal(res.statusCode, 400);
    t.same(res.data, {
      title: ['This field may not be null.'],
      author: ['This field may not be blank.'],
      isbn: ['Not a valid string.'],
      subtitle: ['Ensure this field has no more than 250 characters.'],
    });
  });

  await t.test('an ISBN must be 13 digits with a valid check digit', async (t) => {
    const short = await client.post('/api/books/', book(10, { isbn: '12345' }));
    t.equal(short.statusCode, 400);
    t.same(short.data, { isbn: ['Enter a valid ISBN-13: exactly 13 digits.'] });
    const letters = await client.post('/api/books/', book(10, { isbn: '97800000000AB' }));
    t.same(letters.data, { isbn: ['Enter a valid ISBN-13: exactly 13 digits.'] });
    const wrongCheck = isbn(10).slice(0, 12) + String((Number(isbn(10)[12]) + 1) % 10);
    const res = await client.post('/api/books/', book(10, { isbn: wrongCheck }));
    t.equal(res.statusCode, 400);
    t.same(res.data, { isbn: ['Enter a valid ISBN-13: the check digit is wrong.'] });
  });

  await t.test('a duplicate ISBN is a 400 in DRF words, never a 500', async (t) => {
    t.equal((await client.post('/api/books/', book(20))).statusCode, 201);
    const res = await client.post('/api/books/', book(21, { isbn: isbn(20) }));
    t.equal(res.statusCode, 400);
    t.same(res.data, { isbn: ['book with this isbn already exists.'] });
    const other = (await client.post('/api/books/', book(22))).data;
    const update = await client.patch(`/api/books/${other.id}/`, { isbn: isbn(20) });
    t.equal(update.statusCode, 400);
    t.same(update.data, { isbn: ['book with this isbn already exists.'] });
    const same = await client.patch(`/api/books/${other.id}/`, { isbn: isbn(22) });
    t.equal(same.statusCode, 200, 'a book keeps its own ISBN');
  });

  await t.test('a body that is not an object is a non-field error', async (t) => {
    const res = await client.post('/api/books/', [book(30)]);
    t.equal(res.statusCode, 400);
    t.same(res.data, { non_field_errors: ['Invalid data. Expected a dictionary, but got list.'] });
  });

  await t.test('malformed JSON is a 400 parse error', async (t) => {
    const res = await client.request('POST', '/api/books/', '{"title": ', { format: 'raw', contentType: 'application/json' });
    t.equal(res.statusCode, 400);
    t.match(res.data.detail, /^JSON parse error - /);
  });

  await t.test('an unsupported media type is a 415 naming it', async (t) => {
    const res = await client.request('POST', '/api/books/', 'title=x', { format: 'raw', contentType: 'text/plain' });
    t.equal(res.statusCode, 415);
    t.same(res.data, { detail: 'Unsupported media type "text/plain" in request.' });
  });

  await t.test('a body over the limit is a 413', async (t) => {
    const res = await client.post('/api/books/', book(40, { title: 'x'.repeat(2 * 1024 * 1024) }));
    t.equal(res.statusCode, 413);
    t.same(res.data, { detail: 'Request body is too large.' });
  });

  await t.test('a filter-looking id is a 404, not a 500', async (t) => {
    for (const id of ['abc', "1' OR '1'='1", '1;drop table library_book', '-1', '1.5']) {
      const res = await client.get(`/api/books/${encodeURIComponent(id)}/`);
      t.equal(res.statusCode, 404, id);
      t.same(res.data, { detail: 'Not found.' });
    }
  });

  t.equal(await count(), 2, 'only the two valid books were written');
});

t.test('methods a route does not serve are a 405 with Allow', async (t) => {
  const { client } = await staffLibrary(t);
  const list = await client.delete('/api/books/');
  t.equal(list.statusCode, 405);
  t.same(list.data, { detail: 'Method "DELETE" not allowed.' });
  t.equal(list.headers['allow'], 'GET, POST, HEAD, OPTIONS');
  const item = await client.post('/api/books/1/', book(1));
  t.equal(item.statusCode, 405);
  t.same(item.data, { detail: 'Method "POST" not allowed.' });
  t.equal(item.headers['allow'], 'GET, PUT, PATCH, DELETE, HEAD, OPTIONS');
  const root = await client.post('/api/', {});
  t.equal(root.statusCode, 404, 'the API root only has GET, as a plain route');
});

t.test('unknown URLs answer a DRF-shaped 404', async (t) => {
  const { client } = await staffLibrary(t);
  const res = await client.get('/api/nothing-here/');
  t.equal(res.statusCode, 404);
  t.same(res.data, { detail: 'Not found.' });
});

t.test('OPTIONS describes the view and the fields each method takes', async (t) => {
  const { client } = await staffLibrary(t);
  const res = await client.options('/api/books/');
  t.equal(res.statusCode, 200);
  t.equal(res.data.name, 'Book List');
  t.same(res.data.renders, ['application/json', 'text/html'], 'JSON, then the browsable API');
  t.same(res.data.actions.POST.title, { type: 'string', required: true, read_only: false, label: 'Title', help_text: 'The title of the book.', max_length: 250 });
  t.same(res.data.actions.POST.id, { type: 'integer', required: false, read_only: true, label: 'Id' });
  t.equal(res.data.actions.POST.createdAt.type, 'datetime');
  const { id } = (await client.post('/api/books/', book(1))).data;
  const item = await client.options(`/api/books/${id}/`);
  t.equal(item.data.name, 'Book Instance');
  t.same(Object.keys(item.data.actions), ['PUT']);
});

t.test('the API root lists every collection with an absolute URL', async (t) => {
  const { client } = await staffLibrary(t);
  for (const url of ['/api/', '/api']) {
    const res = await client.get(url, { headers: { host: '127.0.0.1:3000' } });
    t.equal(res.statusCode, 200);
    t.equal(res.data.books, 'http://127.0.0.1:3000/api/books/');
    t.equal(res.data['reading-lists'], 'http://127.0.0.1:3000/api/reading-lists/');
  }
});

t.test("the Library's policy: anyone reads, members add and edit, only staff delete", async (t) => {
  const { app, client: anonymous } = await libraryApp(t);
  const member = await new APIClient(app).forceAuthenticate(await makeUser(app, { username: 'member' }));
  const staff = await new APIClient(app).forceAuthenticate(await makeUser(app, { username: 'staff', isStaff: true }));
  t.equal((await anonymous.get('/api/books/')).statusCode, 200);
  const refused = await anonymous.post('/api/books/', book(60));
  t.equal(refused.statusCode, 403, "the first scheme (session) cannot challenge, so a 403, not a 401");
  t.same(refused.data, { detail: 'Authentication credentials were not provided.' });
  const created = await member.post('/api/books/', book(60));
  t.equal(created.statusCode, 201);
  const url = `/api/books/${created.data.id}/`;
  t.equal((await anonymous.patch(url, { subtitle: 'x' })).statusCode, 403);
  t.equal((await member.patch(url, { subtitle: 'Edited by a member' })).statusCode, 200);
  const deletion = await member.delete(url);
  t.equal(deletion.statusCode, 403);
  t.same(deletion.data, { detail: 'Only staff may delete books.' });
  t.equal((await anonymous.delete(url)).statusCode, 403);
  t.equal((await staff.delete(url)).statusCode, 204);
  t.notOk((await anonymous.options('/api/books/')).data.actions, 'anonymous clients are offered no form');
  t.same(Object.keys((await member.options('/api/books/')).data.actions), ['POST']);
});
