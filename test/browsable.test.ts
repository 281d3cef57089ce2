/**
 * The browsable API (BrowsableAPIRenderer): the HTML page of every endpoint, negotiated by Accept
 * or `?format=api`, assembled from the view, permissions, serializer, paginator and filters.
 */
import t from 'tap';
import { seedIfEmpty } from '../src/library/seed.ts';
import { BROWSABLE_CSP, BrowsableAPIRenderer } from '../src/rest/index.ts';
import { markdownToHtml } from '../src/rest/renderers/browsable/markdown.ts';
import { basic, makeUser } from './auth-helpers.ts';
import { isbn, libraryApp } from './helpers.ts';

const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

const { app } = await libraryApp(t);
await seedIfEmpty(app.orm.em.fork());
await makeUser(app, { username: 'member' });
await makeUser(app, { username: 'staff', isStaff: true });
const member = basic('member');
const staff = basic('staff');

const page = (url: string, headers: Record<string, string> = {}) => app.inject({ method: 'GET', url, headers: { accept: BROWSER_ACCEPT, ...headers } });
/** The opening tag of the element with `id`, or '' when there is none. */
const tagOf = (html: string, id: string) => new RegExp(`<(?:input|select|textarea)[^>]*\\bid="${id}"[^>]*>`).exec(html)?.[0] ?? '';
const firstBookId = async () => ((await app.inject({ method: 'GET', url: '/api/books/' })).json() as { results: { id: number }[] }).results[0]!.id;

t.test('a browser (Accept with text/html) gets the page; no Accept, */* and application/json still get JSON', async (t) => {
  const html = await page('/api/books/');
  t.equal(html.statusCode, 200);
  t.match(html.headers['content-type'], /^text\/html; charset=utf-8/);
  t.match(html.body, /<h1>Book List<\/h1>/);
  for (const accept of [undefined, '*/*', 'application/json']) {
    const json = await app.inject({ method: 'GET', url: '/api/books/', headers: accept ? { accept } : {} });
    t.match(json.headers['content-type'], /^application\/json/, `Accept ${accept}`);
    t.ok(Array.isArray(json.json().results), `Accept ${accept}`);
    t.notOk(json.headers['content-security-policy'], `Accept ${accept}: no page headers`);
  }
});

t.test('?format=api forces the page, even when the client asked for JSON', async (t) => {
  const res = await app.inject({ method: 'GET', url: '/api/books/?format=api', headers: { accept: 'application/json' } });
  t.match(res.headers['content-type'], /^text\/html/);
  t.match(res.body, /<h1>Book List<\/h1>/);
});

t.test('headings name the view: Api Root, Book List, Book Instance, and an extra action', async (t) => {
  t.match((await page('/api/')).body, /<h1>Api Root<\/h1>/);
  const id = await firstBookId();
  const detail = (await page(`/api/books/${id}/`)).body;
  t.match(detail, /<h1>Book Instance<\/h1>/);
  t.match(detail, /<a href="\/api\/">Api Root<\/a>.*<a href="\/api\/books\/">Book List<\/a>.*aria-current="page">Book Instance<\/a>/s, 'breadcrumbs walk up the URL');
  t.match((await page('/api/authors/1/books/')).body, /<h1>Author Books<\/h1>/);
});

t.test('the page shows the request line, the status line, every header and the body with same-site URLs as links', async (t) => {
  const id = await firstBookId();
  const res = await page(`/api/books/${id}/`);
  t.match(res.body, new RegExp(`<b>GET</b> /api/books/${id}/`));
  t.match(res.body, /<b>HTTP 200 OK<\/b>/);
  t.match(res.body, /<b>Allow:<\/b> GET, PUT, PATCH, DELETE, HEAD, OPTIONS/);
  t.match(res.body, /<b>Vary:<\/b> Accept/);
  t.match(res.body, new RegExp(`<span class="key">&quot;url&quot;</span>: <span class="string">"<a href="http://localhost:80/api/books/${id}/" rel="nofollow">`));
  t.match(res.body, /<span class="key">&quot;title&quot;<\/span>/);
  t.match(res.body, /<span class="key">&quot;id&quot;<\/span>: <span class="number">\d+<\/span>/);
});

t.test('the description is Markdown, with raw HTML escaped and unsafe links neutralised', async (t) => {
  t.match((await page('/api/books/')).body, /<div class="description"><p>Books of the Library: list and create them/);
  const html = markdownToHtml('**bold** <script>alert(1)</script> [x](javascript:alert(1)) [ok](/api/)');
  t.match(html, /<strong>bold<\/strong>/);
  t.notMatch(html, /<script>/);
  t.match(html, /&lt;script&gt;/);
  t.notMatch(html, /javascript:/);
  t.match(html, /<a href="\/api\/">ok<\/a>/);
});

t.test('an anonymous user gets Log in (back to the page) and no forms or buttons that write', async (t) => {
  const body = (await page('/api/books/?limit=2')).body;
  t.match(body, /<a class="login" href="\/api-auth\/login\/\?next=%2Fapi%2Fbooks%2F%3Flimit%3D2">Log in<\/a>/);
  t.notMatch(body, /class="html-form"/, 'no POST form: the Library forbids anonymous writes');
  t.notMatch(body, /Log out/);
  const detail = (await page(`/api/books/${await firstBookId()}/`)).body;
  t.notMatch(detail, /data-method="DELETE"/);
  t.notMatch(detail, /data-method="PUT"/);
  t.match(detail, /data-method="OPTIONS"/, 'OPTIONS is a safe method anyone may use');
});

t.test("a member sees the POST form built from the serializer: inputs, limits, required markers, help and the authors' select", async (t) => {
  const body = (await page('/api/books/', { authorization: member })).body;
  t.match(body, /<span class="username">member<\/span>/);
  const title = tagOf(body, 'post-title');
  t.match(title, /type="text"/);
  t.match(title, /maxlength="250"/);
  t.match(title, / required/);
  t.match(body, /<label for="post-title">Title <abbr class="required"/);
  t.notMatch(tagOf(body, 'post-subtitle'), / required/, 'subtitle is optional');
  t.match(tagOf(body, 'post-isbn'), /pattern="\^\[0-9\]\{13\}\$"/);
  t.match(body, /id="post-isbn-help">The ISBN-13: 13 digits/);
  t.match(tagOf(body, 'post-author'), /<input type="text" id="post-author" name="author"/, 'the author is a text box: a new name adds an author');
  t.match(tagOf(body, 'post-author'), /list="post-author-options"/);
  t.match(tagOf(body, 'post-author'), /placeholder="Pick one or type a new one"/);
  t.match(body, /<datalist id="post-author-options">.*<option value="Harold Abelson">.*<\/datalist>/s, 'existing authors are suggested');
  t.match(body, /id="post-author-help">The author&#39;s name; an author not yet in the Library is added./);
  t.notMatch(body, /id="post-(id|url|createdAt|authorDetail)"/, 'read-only fields have no input');
  t.match(body, /id="post-raw"/);
  t.match(body, /<option value="application\/json">application\/json<\/option>/);
  t.match(body, /&quot;isbn&quot;: &quot;&quot;/, "the raw tab's ISBN starts empty: the example is a seeded book's, and ISBNs are unique");
  t.notMatch(/<textarea id="post-content"[^>]*>([^<]*)<\/textarea>/.exec(body)?.[1] ?? 'missing', /9780262033848/, "no existing book's ISBN in the raw tab");
  t.match(body, /<form class="logout" method="post" action="\/api-auth\/logout\/">\s*<input type="hidden" name="csrfmiddlewaretoken" value="[^"]+">/);
});

t.test('a failed form submit shows each error beside its field and keeps the values', async (t) => {
  const res = await app.inject({
    method: 'POST',
    url: '/api/books/?format=api',
    headers: { accept: BROWSER_ACCEPT, authorization: member, 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ title: 'A <new> book', subtitle: '', author: 'David Thomas', isbn: '123' }).toString(),
  });
  t.equal(res.statusCode, 400);
  t.match(res.headers['content-type'], /^text\/html/);
  t.match(res.body, /<b>HTTP 400 Bad Request<\/b>/);
  t.match(res.body, /<ul class="errors" id="post-isbn-errors"><li>Enter a valid ISBN-13: exactly 13 digits.<\/li><\/ul>/);
  t.match(tagOf(res.body, 'post-isbn'), /value="123"/);
  t.match(tagOf(res.body, 'post-isbn'), /aria-invalid="true"/);
  t.match(tagOf(res.body, 'post-title'), /value="A &lt;new&gt; book"/, 'kept, and escaped');
  t.match(tagOf(res.body, 'post-author'), /value="David Thomas"/);
});

t.test('a form submit that passes creates the object and shows the 201 page', async (t) => {
  const res = await app.inject({
    method: 'POST',
    url: '/api/books/?format=api',
    headers: { accept: BROWSER_ACCEPT, authorization: member, 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ title: 'Form book', subtitle: '', author: 'David Thomas', isbn: isbn(501) }).toString(),
  });
  t.equal(res.statusCode, 201);
  t.match(res.body, /<b>HTTP 201 Created<\/b>/);
  t.match(res.body, /<span class="string">&quot;Form book&quot;<\/span>/);
});

t.test('the item page has the PUT/PATCH form filled with the object, and DELETE only for staff', async (t) => {
  const id = await firstBookId();
  const book = (await app.inject({ method: 'GET', url: `/api/books/${id}/` })).json() as { title: string };
  const body = (await page(`/api/books/${id}/`, { authorization: member })).body;
  t.match(tagOf(body, 'put-title'), new RegExp(`value="${book.title}"`));
  t.match(body, /<button type="submit" class="button" data-method="PUT">PUT<\/button><button type="submit" class="button" data-method="PATCH">PATCH<\/button>/);
  t.notMatch(body, /data-method="DELETE"/, 'members may not delete');
  const staffBody = (await page(`/api/books/${id}/`, { authorization: staff })).body;
  t.match(staffBody, /data-method="DELETE" data-confirm="Delete this Book\? This cannot be undone.">/);
});

t.test('a failed PUT answered as HTML keeps its values and errors in the item form', async (t) => {
  const id = await firstBookId();
  const res = await app.inject({
    method: 'PUT',
    url: `/api/books/${id}/?format=api`,
    headers: { authorization: member },
    payload: { title: 'Kept title', author: 'David Thomas', isbn: '9780262033849' },
  });
  t.equal(res.statusCode, 400);
  t.match(res.body, /id="put-isbn-errors"><li>Enter a valid ISBN-13: the check digit is wrong.<\/li>/);
  t.match(tagOf(res.body, 'put-isbn'), /value="9780262033849"/);
  t.match(tagOf(res.body, 'put-title'), /value="Kept title"/);
});

t.test('DELETE answered as HTML is a 200 with a page; as JSON it stays a 204', async (t) => {
  const created = (await app.inject({ method: 'POST', url: '/api/books/', headers: { authorization: member }, payload: { title: 'Doomed', author: 'David Thomas', isbn: isbn(502) } })).json() as { id: number };
  const html = await app.inject({ method: 'DELETE', url: `/api/books/${created.id}/`, headers: { accept: 'text/html', authorization: staff } });
  t.equal(html.statusCode, 200);
  t.match(html.body, /<b>HTTP 200 OK<\/b>/);
  t.match(html.body, /<h1>Book Instance<\/h1>/);
  const again = (await app.inject({ method: 'POST', url: '/api/books/', headers: { authorization: member }, payload: { title: 'Doomed', author: 'David Thomas', isbn: isbn(503) } })).json() as { id: number };
  const json = await app.inject({ method: 'DELETE', url: `/api/books/${again.id}/`, headers: { authorization: staff } });
  t.equal(json.statusCode, 204);
  t.equal(json.body, '');
});

t.test('errors negotiated as HTML render as pages: 404, 403', async (t) => {
  const missing = await page('/api/books/999999/');
  t.equal(missing.statusCode, 404);
  t.match(missing.headers['content-type'], /^text\/html/);
  t.match(missing.body, /<p class="error-detail" role="alert">No Book matches the given query.|<p class="error-detail" role="alert">Not found./);
  const refused = await app.inject({ method: 'DELETE', url: `/api/books/${await firstBookId()}/`, headers: { accept: 'text/html', authorization: member } });
  t.equal(refused.statusCode, 403);
  t.match(refused.body, /<b>HTTP 403 Forbidden<\/b>/);
  t.match(refused.body, /Only staff may delete books./);
});

t.test('every page carries the strict CSP, and links nowhere but this site', async (t) => {
  for (const url of ['/api/', '/api/books/', `/api/books/${await firstBookId()}/`]) {
    const res = await page(url, { authorization: member });
    t.equal(res.headers['content-security-policy'], BROWSABLE_CSP);
    t.match(BROWSABLE_CSP, /default-src 'self'; script-src 'self'/);
    t.notMatch(res.body, /<script>|<script [^>]*>[^<]|\bon[a-z]+="|style="/, `${url}: no inline script, handler or style`);
    const targets = [...res.body.matchAll(/\b(?:href|src|action)="([^"]*)"/g)].map((m) => m[1]!);
    t.ok(targets.length > 5);
    for (const target of targets.filter((x) => x !== 'data:,')) t.equal(new URL(target.replaceAll('&amp;', '&'), 'http://localhost/').origin, 'http://localhost', `${url}: ${target} stays on the site`);
  }
});

t.test('the stylesheet and script are served by the app; unknown assets are 404s', async (t) => {
  const css = await app.inject({ method: 'GET', url: '/static/rest/browsable.css' });
  t.equal(css.statusCode, 200);
  t.match(css.headers['content-type'], /^text\/css/);
  t.match(css.body, /@media \(max-width: 640px\)/, 'responsive');
  t.match(css.body, /:focus-visible/, 'keyboard focus is visible');
  const js = await app.inject({ method: 'GET', url: '/static/rest/browsable.js' });
  t.match(js.headers['content-type'], /^text\/javascript/);
  t.equal((await app.inject({ method: 'GET', url: '/static/rest/nope.js' })).statusCode, 404);
});

t.test('a list with more than one page shows the paginator controls; the Filters dialog shows the backends', async (t) => {
  const body = (await page('/api/books/?limit=2')).body;
  t.match(body, /<nav class="pagination" aria-label="Pages">/);
  t.match(body, /<a href="http:\/\/localhost:80\/api\/books\/\?limit=2&amp;offset=2" rel="next"/);
  t.match(body, /<details class="menu filters" id="filters">/);
  t.match(body, /<input type="search" id="filter-search-search" name="search" value=""/);
  t.match(body, /<input type="text" id="filter-title__icontains" name="title__icontains"/);
  t.match(body, /ordering=-title">Title - descending<\/a>/);
  t.notMatch((await page('/api/books/')).body, /class="pagination"/, 'one page: no controls');
  const searched = (await page('/api/books/?search=pragmatic')).body;
  t.match(searched, /name="search" value="pragmatic"/);
});

t.test('the format menu lists the renderers, and the Swagger UI link deep-links the operation', async (t) => {
  const body = (await page('/api/books/')).body;
  t.match(body, /<a class="format-option" href="\/api\/books\/\?format=json" rel="nofollow">json<\/a>/);
  t.match(body, /<a class="format-option" href="\/api\/books\/\?format=api" rel="nofollow">api<\/a>/);
  t.match(body, /<a class="button secondary swagger" href="\/docs#\/books\/listBooks">Swagger UI<\/a>/);
  const extra = (await page('/api/authors/1/')).body;
  t.match(extra, /<a href="\/api\/authors\/1\/books\/">Books<\/a>/, 'extra actions are linked');
});

t.test('OPTIONS negotiated as HTML renders its metadata as a page', async (t) => {
  const res = await app.inject({ method: 'OPTIONS', url: '/api/books/', headers: { accept: 'text/html' } });
  t.equal(res.statusCode, 200);
  t.match(res.body, /<b>OPTIONS<\/b> \/api\/books\//);
  t.match(res.body, /<span class="key">&quot;renders&quot;<\/span>/);
});

t.test('the Content-Type shown is the represented content\'s (application/json), the page itself is sent as HTML', async (t) => {
  const res = await page('/api/books/');
  t.match(res.headers['content-type'], /^text\/html/);
  t.match(res.body, /<span class="header"><b>Content-Type:<\/b> application\/json<\/span>/);
  t.notMatch(res.body, /<b>Content-Type:<\/b> text\/html/);
});

t.test('the request line of a form POST or an OPTIONS shows the URL without the internal ?format=api', async (t) => {
  const posted = await app.inject({
    method: 'POST',
    url: '/api/books/?format=api',
    headers: { accept: BROWSER_ACCEPT, authorization: member, 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ title: 'Line', author: 'David Thomas', isbn: '1' }).toString(),
  });
  t.match(posted.body, /<pre class="request-line"><b>POST<\/b> \/api\/books\/<\/pre>/);
  const options = await app.inject({ method: 'OPTIONS', url: '/api/books/?format=api', headers: { accept: BROWSER_ACCEPT } });
  t.match(options.body, /<pre class="request-line"><b>OPTIONS<\/b> \/api\/books\/<\/pre>/);
  const asked = await page('/api/books/?format=api');
  t.match(asked.body, /<b>GET<\/b> \/api\/books\/\?format=api<\/pre>/, 'a GET shows the URL asked for');
});

t.test('after OPTIONS the Filters and Swagger UI buttons stay', async (t) => {
  const get = await page('/api/books/');
  const options = await app.inject({ method: 'OPTIONS', url: '/api/books/?format=api', headers: { accept: BROWSER_ACCEPT } });
  for (const res of [get, options]) {
    t.match(res.body, /<details class="menu filters" id="filters">/);
    t.match(res.body, /<a class="button secondary swagger" href="\/docs#\/books\/listBooks">Swagger UI<\/a>/);
  }
  const item = await app.inject({ method: 'OPTIONS', url: `/api/books/${await firstBookId()}/?format=api`, headers: { accept: BROWSER_ACCEPT } });
  t.match(item.body, /href="\/docs#\/books\/retrieveBook">Swagger UI</, 'an item links to its GET operation');
});

t.test('a related table larger than the cut-off gets a text box with suggestions instead of a select', async (t) => {
  const renderer = app.restSettings.defaultRendererClasses.find((r) => r instanceof BrowsableAPIRenderer) as BrowsableAPIRenderer;
  const before = renderer.selectCutoff;
  renderer.selectCutoff = 2;
  t.teardown(() => void (renderer.selectCutoff = before));
  const body = (await page('/api/books/', { authorization: member })).body;
  t.notMatch(body, /<select id="post-author"/);
  t.match(tagOf(body, 'post-author'), /list="post-author-options"/);
  t.equal([...body.matchAll(/<datalist id="post-author-options">(.*?)<\/datalist>/g)][0]![1]!.match(/<option /g)!.length, 2, 'cut off at 2');
});

t.test("a book's page carries its ETag for the forms' If-Match, and a stale form's write shows the 412", async (t) => {
  const id = await firstBookId();
  const json = await app.inject({ method: 'GET', url: `/api/books/${id}/` });
  const html = await page(`/api/books/${id}/`, { authorization: staff });
  t.equal(html.headers['etag'], json.headers['etag'], 'the page names the version the JSON has');
  t.match(html.body, new RegExp(`<body[^>]* data-etag="${String(json.headers['etag']).replace(/"/g, '&quot;')}"`));
  t.notMatch((await page('/api/books/', { authorization: staff })).body, /data-etag=/, 'a list page has no strong tag to send');
  const stale = await app.inject({ method: 'PATCH', url: `/api/books/${id}/?format=api`, headers: { authorization: staff, accept: 'text/html', 'content-type': 'application/json', 'if-match': '"stale"' }, payload: '{"subtitle":"x"}' });
  t.equal(stale.statusCode, 412);
  t.match(stale.body, /Precondition failed: the object was changed since you read it\./);
});
