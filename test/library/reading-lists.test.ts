import t from 'tap';
import { ReadingList } from '../../src/library/entities.ts';
import { APIClient, User } from '../../src/rest/index.ts';
import { makeUser } from '../auth-helpers.ts';
import { libraryApp } from '../helpers.ts';

const { app } = await libraryApp(t);
const em = app.orm.em.fork();
const mia = await makeUser(app, { username: 'mia' });
const noah = await makeUser(app, { username: 'noah' });
const staff = await makeUser(app, { username: 'librarian', isStaff: true });
const anonymous = new APIClient(app);
const asMia = await new APIClient(app).forceAuthenticate(mia);
const asNoah = await new APIClient(app).forceAuthenticate(noah);
const asStaff = await new APIClient(app).forceAuthenticate(staff);

const miasPrivate = (await asMia.post('/api/reading-lists/', { name: 'To read', description: 'Mine alone' })).data;
const miasPublic = (await asMia.post('/api/reading-lists/', { name: 'Favourites', isPublic: true })).data;
const noahsPrivate = (await asNoah.post('/api/reading-lists/', { name: "Noah's secret list" })).data;

t.test('reading lists need a user', async (t) => {
  const res = await anonymous.get('/api/reading-lists/');
  t.equal(res.statusCode, 403, "the Library's first scheme (session) cannot challenge, so a 403");
  t.same(res.data, { detail: 'Authentication credentials were not provided.' });
  t.equal((await anonymous.post('/api/reading-lists/', { name: 'x' })).statusCode, 403);
});

t.test('a new list belongs to whoever creates it, whatever the body says', async (t) => {
  t.match(miasPrivate, { id: Number, name: 'To read', description: 'Mine alone', isPublic: false, owner: 'mia' });
  t.equal(miasPrivate.url, `http://localhost:80/api/reading-lists/${miasPrivate.id}/`);
  const sneaky = await asNoah.post('/api/reading-lists/', { name: 'Sneaky', owner: mia.id });
  t.equal(sneaky.statusCode, 201);
  t.equal(sneaky.data.owner, 'noah', 'the owner is read-only');
  const saved = await em.fork().findOneOrFail(ReadingList, { id: sneaky.data.id });
  t.equal((saved.owner as unknown as { id: number }).id, noah.id);
});

t.test("a member lists their own lists and others' public ones; staff list every list", async (t) => {
  const names = async (client: APIClient) => ((await client.get('/api/reading-lists/')).data.results as { name: string }[]).map((l) => l.name).sort();
  t.same(await names(asMia), ['Favourites', 'To read']);
  t.same(await names(asNoah), ['Favourites', "Noah's secret list", 'Sneaky']);
  t.same(await names(asStaff), ['Favourites', "Noah's secret list", 'Sneaky', 'To read']);
});

t.test("another member's private list is a 404, as if it did not exist (DRF: filtered out of the queryset)", async (t) => {
  const url = `/api/reading-lists/${miasPrivate.id}/`;
  for (const res of [await asNoah.get(url), await asNoah.put(url, { name: 'Mine now' }), await asNoah.patch(url, { name: 'x' }), await asNoah.delete(url)]) {
    t.equal(res.statusCode, 404);
    t.same(res.data, { detail: 'Not found.' });
  }
  t.equal((await asMia.get(url)).data.name, 'To read', 'unchanged');
});

t.test("another member's public list can be read but not changed: a 403 (DRF: the object permission fails)", async (t) => {
  const url = `/api/reading-lists/${miasPublic.id}/`;
  const read = await asNoah.get(url);
  t.equal(read.statusCode, 200);
  t.equal(read.data.name, 'Favourites');
  for (const res of [await asNoah.put(url, { name: 'Mine now' }), await asNoah.patch(url, { name: 'x' }), await asNoah.delete(url)]) {
    t.equal(res.statusCode, 403);
    t.same(res.data, { detail: 'You may only change your own reading lists.' });
  }
  const options = await asNoah.options(url);
  t.notOk(options.data.actions, 'OPTIONS offers no form for a list one cannot change');
  t.same(Object.keys((await asMia.options(url)).data.actions), ['PUT']);
});

t.test('the owner changes and deletes their lists', async (t) => {
  const url = `/api/reading-lists/${miasPublic.id}/`;
  const patched = await asMia.patch(url, { description: 'Books I love' });
  t.equal(patched.statusCode, 200);
  t.equal(patched.data.description, 'Books I love');
  const put = await asMia.put(url, { name: 'All-time favourites', isPublic: false });
  t.equal(put.statusCode, 200);
  t.equal((await asNoah.get(url)).statusCode, 404, 'made private, it is hidden from others');
});

t.test("staff see and change every member's lists", async (t) => {
  const url = `/api/reading-lists/${noahsPrivate.id}/`;
  t.equal((await asStaff.get(url)).statusCode, 200);
  t.equal((await asStaff.patch(url, { name: 'Renamed by staff' })).statusCode, 200);
  t.equal((await asStaff.delete(url)).statusCode, 204);
  t.equal((await asNoah.get(url)).statusCode, 404);
});

t.test('an account deleted takes its lists with it', async (t) => {
  const zoe = await makeUser(app, { username: 'zoe' });
  const asZoe = await new APIClient(app).forceAuthenticate(zoe);
  const list = (await asZoe.post('/api/reading-lists/', { name: 'Ephemeral' })).data;
  const fork = em.fork();
  await fork.nativeDelete(User, { id: zoe.id });
  t.equal(await fork.count(ReadingList, { id: list.id }), 0);
});
