/** Regressions the fuzz suite (fuzz.test.ts) found, one sentence each. */
import t from 'tap';
import { makeUser, tokenFor } from '../auth-helpers.ts';
import { libraryApp } from '../helpers.ts';

const { app } = await libraryApp(t);
const token = await tokenFor(app, await makeUser(app, { username: 'staff', isStaff: true }));
const headers = { authorization: `Token ${token}` };
const list = (await app.inject({ method: 'POST', url: '/api/reading-lists/', headers, payload: { name: 'Kept' } })).json();

t.test('a malformed id on a request refused before validation is a 404 for the browsable page, not a database error', async (t) => {
  for (const id of ['abc', '%D9%A1', '99999999999']) {
    const refused = await app.inject({ method: 'PUT', url: `/api/books/${id}/?format=api`, headers: { ...headers, 'content-type': 'text/plain' }, payload: 'x' });
    t.equal(refused.statusCode, 415, id);
    t.notMatch(refused.body, /invalid input syntax|22P02/, id);
    const wrongMethod = await app.inject({ method: 'POST', url: `/api/reading-lists/${id}/?format=api`, headers });
    t.equal(wrongMethod.statusCode, 405, id);
  }
});

t.test('a URL the router cannot read is a DRF-shaped 404', async (t) => {
  for (const url of ['/api/books/%E0%A4%A/', `/api/books/${'x'.repeat(3000)}/`]) {
    const res = await app.inject({ method: 'GET', url });
    t.equal(res.statusCode, 404);
    t.same(res.json(), { detail: 'Not found.' });
  }
});

t.test('a deeply nested body sent from the browsable page is refused with the page, its raw data tab showing the example', async (t) => {
  const res = await app.inject({ method: 'PUT', url: `/api/reading-lists/${list.id}/`, headers: { ...headers, accept: 'text/html', 'content-type': 'application/json' }, payload: '['.repeat(20_000) + ']'.repeat(20_000) });
  t.equal(res.statusCode, 400);
  t.match(res.headers['content-type'], /^text\/html/);
  t.match(res.body, 'Expected a dictionary, but got list.');
});
