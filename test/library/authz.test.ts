/**
 * Authorization checks of issue 18 not covered elsewhere (see the report of branch i18d-fuzz-authz
 * for those that are: reading-lists, authentication, throttling and website tests).
 */
import t from 'tap';
import { User } from '../../src/rest/index.ts';
import { makeUser, tokenFor } from '../auth-helpers.ts';
import { isbn, libraryApp } from '../helpers.ts';

const { app } = await libraryApp(t);
const mia = await makeUser(app, { username: 'mia' });
const auth = { authorization: `Token ${await tokenFor(app, mia)}` };

t.test('read-only fields sent on an update are ignored: id, owner, staff flags and timestamps stay as they were', async (t) => {
  const made = (await app.inject({ method: 'POST', url: '/api/reading-lists/', headers: auth, payload: { name: 'Mine' } })).json();
  const res = await app.inject({
    method: 'PATCH',
    url: `/api/reading-lists/${made.id}/`,
    headers: auth,
    payload: { id: 999, owner: 'someone', isStaff: true, createdAt: '2000-01-01T00:00:00Z', name: 'Renamed' },
  });
  t.equal(res.statusCode, 200);
  t.match(res.json(), { id: made.id, owner: 'mia', createdAt: made.createdAt, name: 'Renamed' });
  t.notOk('isStaff' in res.json());
  const me = await app.orm.em.fork().findOneOrFail(User, { id: mia.id });
  t.equal(me.isStaff, false, 'the user stays a member');
});

t.test('HTML in a book title is escaped on the browsable page', async (t) => {
  const created = await app.inject({ method: 'POST', url: '/api/books/', headers: auth, payload: { title: '<script>alert(1)</script>', author: '<img src=x onerror=alert(1)>', isbn: isbn(77) } });
  t.equal(created.statusCode, 201);
  for (const url of ['/api/books/?format=api', `/api/books/${created.json().id}/?format=api`]) {
    const page = (await app.inject({ method: 'GET', url, headers: auth })).body;
    t.notMatch(page, /<script>alert|<img src=x/, url);
    t.match(page, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/, url);
  }
});
