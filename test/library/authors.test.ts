import t, { type Test } from 'tap';
import { migrationsPath } from '../../src/library/config.ts';
import { Author, Book, entities } from '../../src/library/entities.ts';
import { APIClient, createTestDatabase } from '../../src/rest/index.ts';
import { addBooks, sampleBooks, seedIfEmpty } from '../../src/library/seed.ts';
import { makeUser } from '../auth-helpers.ts';
import { isbn, libraryApp } from '../helpers.ts';

const host = { host: '127.0.0.1:3000' };

/** The Library with a staff client and a member client (real users and tokens). */
async function library(t: Test) {
  const lib = await libraryApp(t);
  const staff = await new APIClient(lib.app).forceAuthenticate(await makeUser(lib.app, { username: 'librarian', isStaff: true }));
  const member = await new APIClient(lib.app).forceAuthenticate(await makeUser(lib.app, { username: 'reader' }));
  const count = async (table: string) => Number(((await lib.db.orm.em.getConnection().execute(`select count(*) as n from ${table}`)) as { n: unknown }[])[0]!.n);
  return { ...lib, staff, member, count };
}

const book = (n: number, author: string, extra: Record<string, unknown> = {}) => ({ title: `Book ${n}`, author, isbn: isbn(n), ...extra });

// One Library for the whole file (seeding aside); each test counts what it changes.
const { app, client, staff, member, count } = await library(t);
const names = async (url: string, query?: Record<string, string>) => (await client.get(url, { query })).data.results.map((a: { name: string }) => a.name) as string[];

t.test('the Authors API lists, creates, shows, changes and deletes authors', async (t) => {
  const created = await member.post('/api/authors/', { name: 'Ursula K. Le Guin', bio: 'Wrote Earthsea.', birthYear: 1929 }, { headers: host });
  t.equal(created.statusCode, 201);
  t.same(created.data, { url: `http://127.0.0.1:3000/api/authors/${created.data.id}/`, id: created.data.id, name: 'Ursula K. Le Guin', bio: 'Wrote Earthsea.', birthYear: 1929 });
  t.equal(created.headers['location'], created.data.url);
  const minimal = await member.post('/api/authors/', { name: 'Anonymous' });
  t.match(minimal.data, { bio: '', birthYear: null }, 'bio and birth year are optional');
  const listed = await names('/api/authors/');
  t.ok(listed.includes('Ursula K. Le Guin') && listed.includes('Anonymous'), 'anyone reads');
  const patched = await member.patch(`/api/authors/${created.data.id}/`, { birthYear: null });
  t.equal(patched.data.birthYear, null);
  t.equal((await member.delete(`/api/authors/${minimal.data.id}/`)).statusCode, 403, 'only staff delete');
  t.equal((await staff.delete(`/api/authors/${minimal.data.id}/`)).statusCode, 204);
  t.equal((await client.get(`/api/authors/${minimal.data.id}/`)).statusCode, 404);
  t.equal((await client.post('/api/authors/', { name: 'Nobody' })).statusCode, 403, 'anonymous clients may not write');
});

t.test("an author's name is unique and bounded, and the birth year not in the future", async (t) => {
  const authors = await count('library_author');
  await member.post('/api/authors/', { name: 'Octavia E. Butler' });
  const duplicate = await member.post('/api/authors/', { name: 'Octavia E. Butler' });
  t.equal(duplicate.statusCode, 400);
  t.same(duplicate.data, { name: ['author with this name already exists.'] });
  const invalid = await member.post('/api/authors/', { name: 'x'.repeat(101), birthYear: 'soon' });
  t.same(invalid.data, { name: ['Ensure this field has no more than 100 characters.'], birthYear: ['A valid integer is required.'] });
  const future = await member.post('/api/authors/', { name: 'Time Traveller', birthYear: new Date().getUTCFullYear() + 1 });
  t.same(future.data, { birthYear: ['Ensure this year is not in the future.'] });
  t.equal((await member.post('/api/authors/', { name: 'Blank', bio: '' })).statusCode, 201, 'a bio may be blank');
  t.equal(await count('library_author'), authors + 2);
});

t.test('books keep their author as a name on the wire, with the author shown and linked', async (t) => {
  const authors = await count('library_author');
  const res = await member.post('/api/books/', book(1, 'Ted Chiang'), { headers: host });
  t.equal(res.statusCode, 201);
  const authorId = res.data.authorDetail.id;
  t.match(res.data, {
    url: `http://127.0.0.1:3000/api/books/${res.data.id}/`,
    title: 'Book 1',
    author: 'Ted Chiang',
    authorDetail: { id: Number, name: 'Ted Chiang', url: `http://127.0.0.1:3000/api/authors/${authorId}/` },
  });
  t.equal(await count('library_author'), authors + 1, 'a name not yet in the Library adds the author');
  const second = await member.post('/api/books/', book(2, 'Ted Chiang'));
  t.equal(second.data.authorDetail.id, authorId, 'a known name reuses the author');
  t.equal(await count('library_author'), authors + 1);

  await member.patch(`/api/authors/${authorId}/`, { name: 'Ted Chiang (author)' });
  const renamed = await client.get(`/api/books/${res.data.id}/`);
  t.equal(renamed.data.author, 'Ted Chiang (author)', "renaming the author renames every book's author");
  const moved = await member.patch(`/api/books/${res.data.id}/`, { author: 'Someone Else' });
  t.equal(moved.data.author, 'Someone Else');
  t.not(moved.data.authorDetail.id, authorId);
  const list = (await client.get('/api/books/')).data.results as { id: number; author: string; authorDetail: { name: string } }[];
  t.same(
    [res.data.id, second.data.id].map((id) => list.find((b) => b.id === id)!).map((b) => [b.author, b.authorDetail.name]),
    [
      ['Someone Else', 'Someone Else'],
      ['Ted Chiang (author)', 'Ted Chiang (author)'],
    ],
  );
});

t.test('a book with an invalid field adds no author', async (t) => {
  const authors = await count('library_author');
  const res = await member.post('/api/books/', book(3, 'Iain M. Banks', { isbn: '123' }));
  t.equal(res.statusCode, 400);
  t.equal(await count('library_author'), authors);
  const duplicate = await member.post('/api/books/', book(4, 'N. K. Jemisin'));
  t.equal(duplicate.statusCode, 201);
  const again = await member.post('/api/books/', book(5, 'Becky Chambers', { isbn: isbn(4) }));
  t.same(again.data, { isbn: ['book with this isbn already exists.'] });
  t.equal(await count('library_author'), authors + 1, 'the author of a refused book is not added');
});

t.test("an author's books are an extra action on the author", async (t) => {
  const [a, b] = [(await member.post('/api/authors/', { name: 'Author A' })).data, (await member.post('/api/authors/', { name: 'Author B' })).data];
  await member.post('/api/books/', book(10, 'Author A'));
  await member.post('/api/books/', book(11, 'Author B'));
  await member.post('/api/books/', book(12, 'Author A'));
  t.equal(app.urls.path('author-books', { id: a.id }), `/api/authors/${a.id}/books/`);
  const res = await client.get(`/api/authors/${a.id}/books/`);
  t.equal(res.statusCode, 200);
  t.same(
    res.data.results.map((x: { title: string; author: string }) => [x.title, x.author]),
    [
      ['Book 10', 'Author A'],
      ['Book 12', 'Author A'],
    ],
  );
  t.equal(res.data.count, 2, 'the books come in the envelope of every list');
  t.same(res.data.results[0], (await client.get(`/api/books/${res.data.results[0].id}/`)).data, 'each book is shown as the books API shows it');
  t.same((await client.get(`/api/authors/${b.id}/books/`)).data.count, 1);
  t.same((await client.get(`/api/authors/${a.id}/books/`, { query: { limit: '1', offset: '1' } })).data.results.map((x: { title: string }) => x.title), ['Book 12'], 'limit and offset page them');
  t.equal((await client.get('/api/authors/999/books/')).statusCode, 404);
  const post = await member.post(`/api/authors/${a.id}/books/`, {});
  t.equal(post.statusCode, 405);
  t.equal(post.headers['allow'], 'GET, HEAD, OPTIONS');
});

t.test('an author who still has books cannot be deleted', async (t) => {
  const created = await staff.post('/api/books/', book(20, 'Stanisław Lem'));
  const authors = await count('library_author');
  const res = await staff.delete(`/api/authors/${created.data.authorDetail.id}/`);
  t.equal(res.statusCode, 409);
  t.same(res.data, { detail: 'Cannot delete this author: other objects refer to it.' });
  t.equal(await count('library_author'), authors);
  t.equal((await staff.delete(`/api/books/${created.data.id}/`)).statusCode, 204);
  t.equal((await staff.delete(`/api/authors/${created.data.authorDetail.id}/`)).statusCode, 204);
});

t.test('authors can be searched and ordered', async (t) => {
  for (const [name, birthYear] of [['Zadie Smith', 1975], ['Ali Smith', 1962], ['Ann Leckie', 1966]] as const) await member.post('/api/authors/', { name, birthYear });
  t.same(await names('/api/authors/', { search: 'smith', ordering: 'birthYear' }), ['Ali Smith', 'Zadie Smith']);
  t.same(await names('/api/authors/', { search: 'smith', ordering: '-birthYear' }), ['Zadie Smith', 'Ali Smith']);
});

t.test('the authors API is in OpenAPI, with the nested author of a book', async (t) => {
  const doc = (await client.get('/openapi.json')).data;
  t.same(Object.keys(doc.components.schemas.Author.properties), ['url', 'id', 'name', 'bio', 'birthYear']);
  t.same(doc.components.schemas.AuthorRequest.required, ['name']);
  t.same(Object.keys(doc.components.schemas.AuthorSummary.properties), ['id', 'name', 'url']);
  t.match(doc.components.schemas.Book.properties.authorDetail, { allOf: [{ $ref: '#/components/schemas/AuthorSummary' }], readOnly: true });
  t.match(doc.components.schemas.BookRequest.properties.author, { type: 'string', maxLength: 100 });
  const books = doc.paths['/api/authors/{id}/books/'].get;
  t.equal(books.operationId, 'booksAuthor');
  t.same(books.responses['200'].content['application/json'].schema, { $ref: '#/components/schemas/PaginatedBookList' }, 'the nested list is paginated too');
  t.same(books.parameters.filter((p: { in: string }) => p.in === 'query').map((p: { name: string }) => p.name), ['limit', 'offset']);
  t.same(Object.keys(doc.paths['/api/authors/{id}/']).sort(), ['delete', 'get', 'patch', 'put']);
});

t.test('the sample data has authors, and books can be added by author name', async (t) => {
  const fresh = await createTestDatabase({ entities, migrationsPath });
  t.teardown(() => fresh.drop());
  t.equal(await seedIfEmpty(fresh.orm.em.fork()), sampleBooks.length);
  t.equal(await seedIfEmpty(fresh.orm.em.fork()), 0, 'seeding twice adds nothing');
  const authors = await fresh.orm.em.fork().find(Author, {}, { orderBy: { id: 'asc' } });
  t.equal(authors.length, 5);
  t.match(authors.find((a) => a.name === 'Harold Abelson'), { birthYear: 1947, bio: /MIT/ });
  const added = await addBooks(fresh.orm.em.fork(), [{ title: 'Another', author: 'Harold Abelson', isbn: isbn(30) }]);
  t.equal(added.length, 1);
  t.equal(await fresh.orm.em.fork().count(Author, {}), 5, 'an existing author is reused');
  const shown = await fresh.orm.em.fork().findOneOrFail(Book, { isbn: isbn(30) }, { populate: ['author'] });
  t.equal(shown.author.name, 'Harold Abelson');
});

t.test('OPTIONS describes the author of a book as a name to send and a nested object shown', async (t) => {
  const res = await member.options('/api/books/');
  t.same(res.data.actions.POST.author, {
    type: 'string',
    required: true,
    read_only: false,
    label: 'Author',
    help_text: "The author's name; an author not yet in the Library is added.",
    max_length: 100,
  });
  t.match(res.data.actions.POST.authorDetail, { type: 'nested object', required: false, read_only: true });
  t.match(res.data.actions.POST.url, { type: 'url', read_only: true });
});
