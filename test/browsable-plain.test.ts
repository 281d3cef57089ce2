/**
 * Plain Fastify routes declared with TypeBox schemas under the fastrest plugin: the browsable page
 * for browsers (forms from body schemas), their own JSON for other clients, and OpenAPI entries.
 */
import t from 'tap';
import { helloApp } from './fixtures/hello-app.ts';

t.test('a browser asking a plain route for HTML gets the browsable page of its answer', async (t) => {
  const app = await helloApp();
  t.teardown(() => app.close());
  const res = await app.inject({ url: '/hello?name=Ada', headers: { accept: 'text/html' } });
  t.equal(res.statusCode, 200);
  t.match(res.headers['content-type'], /^text\/html/);
  t.match(res.headers['content-security-policy'], /default-src 'self'/);
  t.match(res.body, /<h1[^>]*>Say hello<\/h1>/, 'the heading is the GET route\'s summary');
  t.match(res.body, /<strong>whoever<\/strong>/, 'the description is rendered as Markdown');
  t.match(res.body, /Hello, Ada!/, 'the answer is shown');
  t.match(res.headers['allow'], 'GET');
  t.match(res.headers['allow'], 'POST');
  t.match(res.headers['vary'], /Accept/);
});

t.test('the page offers a form built from the body schema of the URL\'s POST route', async (t) => {
  const app = await helloApp();
  t.teardown(() => app.close());
  const res = await app.inject({ url: '/hello?format=api' });
  t.match(res.body, /<form[^>]*class="[^"]*html-form/, 'an HTML form is shown');
  t.match(res.body, /name="name"[^>]*maxlength="40"|maxlength="40"[^>]*name="name"/, 'the name input carries the schema\'s limit');
  t.match(res.body, /name="times"/, 'the optional field is offered too');
  t.match(res.body, /Who to greet\./, 'the help text comes from the schema');
});

t.test('a failed POST from the page shows the errors beside the fields of the form', async (t) => {
  const app = await helloApp();
  t.teardown(() => app.close());
  const res = await app.inject({ method: 'POST', url: '/hello?format=api', payload: { name: '', times: 9 } });
  t.equal(res.statusCode, 400);
  t.match(res.headers['content-type'], /^text\/html/);
  t.match(res.body, /This field may not be blank\./);
  t.match(res.body, /Ensure this value is less than or equal to 3\./);
});

t.test('JSON clients get the plain route\'s own answer, serialized by its response schema', async (t) => {
  const app = await helloApp();
  t.teardown(() => app.close());
  const res = await app.inject({ url: '/hello?name=Ada', headers: { accept: 'application/json' } });
  t.equal(res.statusCode, 200);
  t.match(res.headers['content-type'], /^application\/json/);
  t.same(res.json(), { message: 'Hello, Ada!' });
  const created = await app.inject({ method: 'POST', url: '/hello', payload: { name: 'Bo', times: 2 } });
  t.equal(created.statusCode, 201);
  t.same(created.json(), { message: 'Hello, Bo!Hello, Bo!' });
  const odd = await app.inject({ url: '/hello', headers: { accept: 'image/png' } });
  t.equal(odd.statusCode, 200, 'an Accept no renderer satisfies leaves the route to answer as it does');
});

t.test('hidden routes and routes that opt out are never turned into pages', async (t) => {
  const app = await helloApp();
  t.teardown(() => app.close());
  for (const url of ['/secret', '/json-only']) {
    const res = await app.inject({ url, headers: { accept: 'text/html' } });
    t.match(res.headers['content-type'], /^application\/json/, url);
    t.notOk(res.headers['allow'], `${url} has no Allow of ours`);
  }
});

t.test('plain routes appear in the OpenAPI document with their schemas', async (t) => {
  const app = await helloApp();
  t.teardown(() => app.close());
  const doc = app.swagger() as unknown as { paths: Record<string, Record<string, { summary?: string; requestBody?: unknown; responses: Record<string, unknown> }>> };
  t.equal(doc.paths['/hello']?.get?.summary, 'Say hello');
  t.equal(doc.paths['/hello']?.post?.summary, 'Greet someone');
  t.ok(doc.paths['/hello']?.post?.requestBody, 'the POST body is described');
  t.notOk(doc.paths['/secret'], 'hidden routes stay hidden');
});
