import t from 'tap';
import { Author, Book } from '../../src/library/entities.ts';
import { sampleBooks, seedIfEmpty } from '../../src/library/seed.ts';
import { BOOKS_PER_PAGE } from '../../src/library/website.ts';
import { basic, makeUser } from '../auth-helpers.ts';
import { isbn, libraryApp } from '../helpers.ts';

/** Undoes the five escapes an HTML template applies. */
const decode = (html: string) =>
  html.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');
/** The text of an HTML fragment: tags dropped, entities decoded, spaces trimmed. */
const text = (html: string) => decode(html.replace(/<[^>]*>/g, '')).trim();
/** The cells (inner HTML) of every body row of the page's table. */
const rowsOf = (html: string) =>
  [...html.matchAll(/<tr>([\s\S]*?)<\/tr>/g)]
    .map((row) => [...row[1]!.matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((cell) => cell[1]!))
    .filter((cells) => cells.length > 0);
const first = (html: string, pattern: RegExp) => html.match(pattern)?.[1];

t.test('the website shows the books of the Library as HTML pages', async (t) => {
  const { app, client, db } = await libraryApp(t);
  await makeUser(app, { username: 'librarian' });
  client.credentials({ authorization: basic('librarian') });

  await t.test('an empty library says so instead of showing an empty table', async (t) => {
    const res = await client.get('/');
    t.equal(res.statusCode, 200);
    t.equal(res.headers['content-type'], 'text/html; charset=utf-8');
    t.match(res.body, /^<!doctype html>/i);
    t.equal(first(res.body, /<title>([^<]*)<\/title>/), 'All books · The Library');
    t.equal(text(first(res.body, /<h1>([\s\S]*?)<\/h1>/) ?? ''), 'All books');
    t.match(text(first(res.body, /<p class="empty">([\s\S]*?)<\/p>/) ?? ''), /^The Library has no books yet\./);
    t.notMatch(res.body, /<table/);
  });

  // The sample books through the ORM, three more through the API.
  t.equal(await seedIfEmpty(db.orm.em.fork()), sampleBooks.length);
  const sent = [
    { title: 'Zen and the Art', subtitle: 'An Inquiry', author: 'Robert Pirsig', isbn: isbn(1) },
    { title: 'Algorithms', subtitle: '', author: 'Robert Sedgewick', isbn: isbn(2) },
    { title: 'Mythical Man-Month', subtitle: 'Essays on Software Engineering', author: 'Fred Brooks', isbn: isbn(3) },
  ];
  for (const book of sent) t.equal((await client.post('/api/books/', book)).statusCode, 201, book.title);
  const listed = (await client.get('/api/books/', { query: { limit: '100' } })).data;
  const created: Record<string, any>[] = listed.results;
  t.equal(listed.count, sampleBooks.length + sent.length);
  t.equal(created.length, listed.count);

  await t.test('"All books" lists every book with title, subtitle, author and ISBN, by title', async (t) => {
    const res = await client.get('/');
    t.equal(res.statusCode, 200);
    t.notMatch(res.body, /class="empty"/);
    t.equal(text(first(res.body, /<p class="count">([\s\S]*?)<\/p>/) ?? ''), `${created.length} books`);
    const rows = rowsOf(res.body);
    const expected = [...created].sort((a, b) => a.title.localeCompare(b.title));
    t.same(
      rows.map((cells) => cells.map(text)),
      expected.map((b) => [b.title, b.subtitle, b.author, b.isbn]),
    );
    t.same(
      rows.map((cells) => first(cells[0]!, /href="([^"]*)"/)),
      expected.map((b) => `/books/${b.id}/`),
      'each title links to its book page',
    );
  });

  await t.test('a book page shows the book and links to it in the API', async (t) => {
    const book = created.find((b) => b.isbn === isbn(3))!;
    for (const url of [`/books/${book.id}/`, `/books/${book.id}`]) {
      const res = await client.get(url);
      t.equal(res.statusCode, 200, url);
      t.equal(res.headers['content-type'], 'text/html; charset=utf-8');
      t.equal(first(res.body, /<title>([^<]*)<\/title>/), `${book.title} · The Library`);
      t.equal(text(first(res.body, /<h1>([\s\S]*?)<\/h1>/) ?? ''), book.title);
      t.equal(text(first(res.body, /<p class="subtitle">([\s\S]*?)<\/p>/) ?? ''), book.subtitle);
      t.equal(text(first(res.body, /<dt>Author<\/dt><dd>([\s\S]*?)<\/dd>/) ?? ''), book.author);
      t.equal(text(first(res.body, /<dd class="isbn">([\s\S]*?)<\/dd>/) ?? ''), book.isbn);
      t.equal(first(res.body, /<time datetime="([^"]*)"/), book.createdAt);
    }
    const res = await client.get(`/books/${book.id}/`);
    const apiUrl = first(res.body, /<a href="(\/api\/books\/[^"]*)">This book in the API<\/a>/);
    t.equal(apiUrl, `/api/books/${book.id}/`);
    const api = await client.get(apiUrl!);
    t.equal(api.statusCode, 200);
    t.equal(api.data.isbn, book.isbn);
    const nav = first(res.body, /<nav class="crumbs">([\s\S]*?)<\/nav>/) ?? '';
    t.match(nav, /<a href="\/">All books<\/a>/, 'breadcrumbs lead back to the list');
  });

  await t.test('a book without a subtitle shows no subtitle line', async (t) => {
    const blank = created.find((b) => b.subtitle === '')!;
    const res = await client.get(`/books/${blank.id}/`);
    t.equal(res.statusCode, 200);
    t.notMatch(res.body, /class="subtitle"/);
  });

  await t.test('an unknown or malformed id is a 404 HTML page', async (t) => {
    t.equal((await client.get('/books/1/')).statusCode, 200, 'book 1 exists, so look-alikes of 1 must not find it');
    t.ok(created.some((b) => b.id === 1));
    for (const id of ['999999', '0', 'abc', '-1', '1.5', '0x1', '1e0', '%201', '+1', '99999999999999999999']) {
      const res = await client.get(`/books/${id}/`);
      t.equal(res.statusCode, 404, id);
      t.equal(res.headers['content-type'], 'text/html; charset=utf-8', id);
      t.equal(first(res.body, /<title>([^<]*)<\/title>/), 'Not found · The Library', id);
      t.match(res.body, /<a href="\/">all books<\/a>/, 'the page links back to the list');
    }
  });

  await t.test('HTML in a book is escaped, never injected', async (t) => {
    const evil = {
      title: '<script>alert("x")</script>',
      subtitle: `<img src=x onerror='alert(1)'>`,
      author: 'Tom & "Jerry" <b>',
      isbn: isbn(66),
    };
    const res = await client.post('/api/books/', evil);
    t.equal(res.statusCode, 201);
    for (const url of ['/', `/books/${res.data.id}/`]) {
      const page = (await client.get(url)).body;
      t.notMatch(page, /<script/, `${url}: no script tag`);
      t.notMatch(page, /<img/, `${url}: no img tag`);
      t.notMatch(page, /<b>/, `${url}: no b tag`);
      t.match(page, '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;', `${url}: the title is escaped`);
      t.match(page, 'Tom &amp; &quot;Jerry&quot; &lt;b&gt;', `${url}: the author is escaped`);
    }
    const row = rowsOf((await client.get('/')).body).find((cells) => text(cells[3]!) === evil.isbn)!;
    t.same(row.map(text), [evil.title, evil.subtitle, evil.author, evil.isbn], 'the text reads back exactly as sent');
    const detail = (await client.get(`/books/${res.data.id}/`)).body;
    t.equal(decode(first(detail, /<title>([^<]*)<\/title>/) ?? ''), `${evil.title} · The Library`);
  });

  await t.test('the stylesheet the pages link is served as CSS', async (t) => {
    const page = (await client.get('/')).body;
    const href = first(page, /<link rel="stylesheet" href="([^"]+)">/);
    t.equal(href, '/static/library.css');
    const res = await client.get(href!);
    t.equal(res.statusCode, 200);
    t.equal(res.headers['content-type'], 'text/css; charset=utf-8');
    t.match(res.headers['cache-control'], /max-age=\d+/);
    t.match(res.body, /[a-z.#][^{]*\{[^}]*:[^}]*\}/, 'the body is CSS rules');
  });
});

t.test('"All books" searches by title or author and pages through many books', async (t) => {
  const { app, client } = await libraryApp(t);
  const em = app.orm.em.fork();
  const knuth = em.create(Author, { name: 'Donald Knuth', bio: 'Author of <TAOCP>.', birthYear: 1938 });
  const other = em.create(Author, { name: 'Many Hands', bio: '' });
  em.create(Book, { title: 'The Art of Computer Programming', subtitle: 'Volume 1', author: knuth, isbn: isbn(9000) });
  em.create(Book, { title: 'Literate Programming', author: knuth, isbn: isbn(9001) });
  for (let i = 0; i < 43; i++) em.create(Book, { title: `Volume ${String(i).padStart(2, '0')} 100%_done`, author: other, isbn: isbn(9100 + i) });
  await em.flush();

  await t.test('the first page shows 20 books, the count of all and a link to the next page', async (t) => {
    const res = await client.get('/');
    t.equal(rowsOf(res.body).length, BOOKS_PER_PAGE);
    t.equal(text(first(res.body, /<p class="count">([\s\S]*?)<\/p>/) ?? ''), '45 books');
    t.equal(text(first(res.body, /<span class="page">([\s\S]*?)<\/span>/) ?? ''), 'Page 1 of 3');
    t.notMatch(res.body, /rel="prev"/);
    t.equal(decode(first(res.body, /<a rel="next" href="([^"]*)"/) ?? ''), '/?page=2');
  });

  await t.test('the last page has the rest and leads back; a page past the end is a 404', async (t) => {
    const res = await client.get('/?page=3');
    t.equal(rowsOf(res.body).length, 5);
    t.equal(decode(first(res.body, /<a rel="prev" href="([^"]*)"/) ?? ''), '/?page=2');
    t.notMatch(res.body, /rel="next"/);
    for (const page of ['4', '0', 'x', '-1']) t.equal((await client.get(`/?page=${page}`)).statusCode, 404, page);
  });

  await t.test('a search matches titles and author names, case-insensitively, and keeps the search across pages', async (t) => {
    const byAuthor = await client.get('/?q=knuth');
    t.same(rowsOf(byAuthor.body).map((cells) => text(cells[0]!)), ['Literate Programming', 'The Art of Computer Programming']);
    t.equal(text(first(byAuthor.body, /<p class="count">([\s\S]*?)<\/p>/) ?? ''), '2 books match "knuth"');
    t.match(byAuthor.body, '<input type="search" id="q" name="q" value="knuth">', 'the box keeps the search');
    const byTitle = await client.get('/?q=VOLUME');
    t.equal(text(first(byTitle.body, /<p class="count">([\s\S]*?)<\/p>/) ?? ''), '43 books match "VOLUME"');
    t.equal(decode(first(byTitle.body, /<a rel="next" href="([^"]*)"/) ?? ''), '/?q=VOLUME&page=2');
    const wildcards = await client.get(`/?q=${encodeURIComponent('100%_')}`);
    t.equal(rowsOf(wildcards.body).length, 20, '% and _ are taken literally');
    t.equal(rowsOf((await client.get(`/?q=${encodeURIComponent('0%d')}`)).body).length, 0);
    const none = await client.get(`/?q=${encodeURIComponent('<b>nothing</b>')}`);
    t.equal(none.statusCode, 200);
    t.notMatch(none.body, /<b>/, 'the search is escaped');
    t.match(text(first(none.body, /<p class="empty">([\s\S]*?)<\/p>/) ?? ''), 'No book matches "<b>nothing</b>".');
  });

  await t.test('an author links to a page of their books', async (t) => {
    const row = rowsOf((await client.get('/?q=literate')).body)[0]!;
    const href = first(row[2]!, /href="([^"]*)"/);
    t.equal(href, `/authors/${knuth.id}/`);
    const res = await client.get(href!);
    t.equal(res.statusCode, 200);
    t.equal(first(res.body, /<title>([^<]*)<\/title>/), 'Donald Knuth · The Library');
    t.match(res.body, '<p class="bio">Author of &lt;TAOCP&gt;.</p>');
    const titles = [...res.body.matchAll(/<li><a href="\/books\/\d+\/">([^<]*)<\/a>/g)].map((m) => m[1]);
    t.same(titles, ['Literate Programming', 'The Art of Computer Programming']);
    t.match(res.body, `<a href="/api/authors/${knuth.id}/">This author in the API</a>`);
    const book = (await client.get(first(row[0]!, /href="([^"]*)"/)!)).body;
    t.match(book, `<dd><a href="/authors/${knuth.id}/">Donald Knuth</a></dd>`, 'a book page links to its author');
    for (const id of ['999999', 'abc', '0']) t.equal((await client.get(`/authors/${id}/`)).statusCode, 404, id);
  });

  await t.test('every page names the icon, served at /favicon.ico', async (t) => {
    t.match((await client.get('/')).body, '<link rel="icon" href="/favicon.ico" sizes="32x32">');
    const res = await client.get('/favicon.ico');
    t.equal(res.statusCode, 200);
    t.equal(res.headers['content-type'], 'image/x-icon');
    t.same([...res.rawPayload.subarray(0, 4)], [0, 0, 1, 0], 'an ICO file');
  });
});
