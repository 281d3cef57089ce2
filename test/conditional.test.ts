import t, { type Test } from 'tap';
import { BookViewSet } from '../src/library/views.ts';
import { ConditionalRequests, matchesEntityTag } from '../src/rest/index.ts';
import { makeUser } from './auth-helpers.ts';
import { booksApiApp, isbn, libraryApp } from './helpers.ts';

const PRECONDITION_FAILED = { detail: 'Precondition failed: the object was changed since you read it.' };

let stem = 0;

/** A new book in the Library `lib` (its client is staff, so every write is allowed), and its URL. */
async function library(t: Test, lib: Awaited<ReturnType<typeof libraryApp>>) {
  const created = await lib.client.post('/api/books/', { title: 'Dune', subtitle: '0', author: 'Frank Herbert', isbn: isbn(++stem) });
  t.equal(created.statusCode, 201);
  return { ...lib, isbn: created.data.isbn as string, url: `/api/books/${created.data.id}/` };
}

t.test('entity-tags compare strongly for If-Match and weakly for If-None-Match', async (t) => {
  t.ok(matchesEntityTag('"a"', '"a"', 'strong'));
  t.notOk(matchesEntityTag('W/"a"', '"a"', 'strong'), 'a weak tag never matches strongly');
  t.ok(matchesEntityTag('W/"a"', '"a"', 'weak'));
  t.ok(matchesEntityTag('"x", "a"', 'W/"a"', 'weak'), 'any tag of a list matches');
  t.ok(matchesEntityTag('*', '"a"', 'strong'), '* matches any current tag');
  t.notOk(matchesEntityTag('"b"', '"a"', 'weak'));
});

t.test('conditional requests on the Library', async (t) => {
  const lib = await libraryApp(t);
  await lib.client.forceAuthenticate(await makeUser(lib.app, { username: 'librarian', isStaff: true }));

  await t.test('a detail GET and HEAD carry a strong ETag of the representation', async (t) => {
    const { client, url } = await library(t, lib);
    const first = await client.get(url);
    const etag = first.headers['etag'] as string;
    t.match(etag, /^"[A-Za-z0-9_-]+"$/, 'a strong, quoted tag');
    t.equal((await client.get(url)).headers['etag'], etag, 'the same representation, the same tag');
    const head = await client.head(url);
    t.equal(head.statusCode, 200);
    t.equal(head.headers['etag'], etag, 'HEAD sends the tag GET does');
    await client.patch(url, { subtitle: 'changed' });
    t.not((await client.get(url)).headers['etag'], etag, 'a change makes another tag');
  });

  await t.test('If-None-Match with the current tag answers 304 without a body, keeping the ETag', async (t) => {
    const { client, url } = await library(t, lib);
    const etag = (await client.get(url)).headers['etag'] as string;
    const res = await client.get(url, { headers: { 'if-none-match': etag } });
    t.equal(res.statusCode, 304);
    t.equal(res.body, '');
    t.equal(res.headers['etag'], etag);
    t.equal((await client.get(url, { headers: { 'if-none-match': `W/${etag}` } })).statusCode, 304, 'compared weakly');
    t.equal((await client.get(url, { headers: { 'if-none-match': '"stale"' } })).statusCode, 200);
    t.equal((await client.head(url, { headers: { 'if-none-match': etag } })).statusCode, 304);
  });

  await t.test('a list carries a weak ETag and answers If-None-Match with 304', async (t) => {
    const { client } = await library(t, lib);
    const list = await client.get('/api/books/');
    const etag = list.headers['etag'] as string;
    t.match(etag, /^W\/"[A-Za-z0-9_-]+"$/);
    t.equal((await client.get('/api/books/', { headers: { 'if-none-match': etag } })).statusCode, 304);
    await client.post('/api/books/', { title: 'Emma', author: 'Jane Austen', isbn: isbn(900) });
    t.equal((await client.get('/api/books/', { headers: { 'if-none-match': etag } })).statusCode, 200, 'a new row changes the list tag');
  });

  await t.test('a write with the current If-Match succeeds and answers the new ETag', async (t) => {
    const { client, url, isbn: own } = await library(t, lib);
    const etag = (await client.get(url)).headers['etag'] as string;
    const res = await client.patch(url, { subtitle: 'new' }, { headers: { 'if-match': etag } });
    t.equal(res.statusCode, 200);
    t.not(res.headers['etag'], etag);
    t.equal(res.headers['etag'], (await client.get(url)).headers['etag'], 'the PATCH answer names the version a GET now shows');
    const put = await client.put(url, { title: 'Dune', subtitle: 'put', author: 'Frank Herbert', isbn: own }, { headers: { 'if-match': res.headers['etag'] as string } });
    t.equal(put.statusCode, 200);
    t.equal((await client.patch(url, { subtitle: 'any' }, { headers: { 'if-match': '*' } })).statusCode, 200, 'If-Match: * passes when the object exists');
  });

  await t.test('a stale If-Match is a 412 on PUT, PATCH and DELETE, and nothing changes', async (t) => {
    const { client, url, isbn: own } = await library(t, lib);
    const stale = (await client.get(url)).headers['etag'] as string;
    await client.patch(url, { subtitle: 'moved on' });
    const before = (await client.get(url)).data;
    const headers = { 'if-match': stale };
    const patch = await client.patch(url, { subtitle: 'lost' }, { headers });
    t.equal(patch.statusCode, 412);
    t.same(patch.data, PRECONDITION_FAILED);
    const put = await client.put(url, { title: 'Other', subtitle: 'lost', author: 'Frank Herbert', isbn: own }, { headers });
    t.equal(put.statusCode, 412);
    t.same(put.data, PRECONDITION_FAILED);
    const del = await client.delete(url, { headers });
    t.equal(del.statusCode, 412);
    t.same(del.data, PRECONDITION_FAILED);
    t.same((await client.get(url)).data, before, 'the row is as it was');
    t.equal((await client.delete(url, { headers: { 'if-match': (await client.get(url)).headers['etag'] as string } })).statusCode, 204, 'the current tag deletes');
  });

  await t.test('a stale If-Match on GET is a 412, and a write whose If-None-Match is current is a 412', async (t) => {
    const { client, url } = await library(t, lib);
    const etag = (await client.get(url)).headers['etag'] as string;
    t.equal((await client.get(url, { headers: { 'if-match': '"stale"' } })).statusCode, 412);
    t.equal((await client.get(url, { headers: { 'if-match': etag } })).statusCode, 200);
    t.equal((await client.patch(url, { subtitle: 'x' }, { headers: { 'if-none-match': etag } })).statusCode, 412);
    t.equal((await client.patch(url, { subtitle: 'x' }, { headers: { 'if-none-match': '"other"' } })).statusCode, 200);
  });

  await t.test('50 concurrent PATCHes with one If-Match: exactly one wins, 49 get a 412', async (t) => {
    const { client, url } = await library(t, lib);
    const etag = (await client.get(url)).headers['etag'] as string;
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => client.patch(url, { subtitle: `writer ${i}` }, { headers: { 'if-match': etag } })));
    const statuses = answers.map((a) => a.statusCode);
    t.equal(statuses.filter((s) => s === 200).length, 1, 'one 2xx');
    t.equal(statuses.filter((s) => s === 412).length, 49, '49 refused');
    const winner = answers.find((a) => a.statusCode === 200)!;
    t.equal((await client.get(url)).data.subtitle, winner.data.subtitle, 'the stored row is the winner’s');
  });

  await t.test('read-then-PATCH increments with If-Match, retried on 412, lose no update', async (t) => {
    const { client, url } = await library(t, lib);
    const acknowledged: number[] = [];
    const otherAnswers: number[] = [];
    const worker = async () => {
      for (let done = 0; done < 10; ) {
        const read = await client.get(url);
        const res = await client.patch(url, { subtitle: String(Number(read.data.subtitle) + 1) }, { headers: { 'if-match': read.headers['etag'] as string } });
        if (res.statusCode === 200) {
          acknowledged.push(Number(res.data.subtitle));
          done++;
        } else if (res.statusCode !== 412) otherAnswers.push(res.statusCode);
      }
    };
    await Promise.all(Array.from({ length: 5 }, worker));
    t.same(otherAnswers, [], 'a lost race is a 412, never a silent overwrite');
    t.equal(acknowledged.length, 50);
    t.equal((await client.get(url)).data.subtitle, '50', 'every acknowledged increment is in the row');
    t.same([...acknowledged].sort((a, b) => a - b), Array.from({ length: 50 }, (_, i) => i + 1), 'each increment acknowledged once');
  });
});

t.test('the policy is set per view: requireIfMatch answers a write without If-Match with 428, null turns conditional requests off', async (t) => {
  class StrictBooks extends BookViewSet {
    override conditionalRequests = Object.assign(new ConditionalRequests(), { requireIfMatch: true });
    override permissionClasses = [];
  }
  class PlainBooks extends BookViewSet {
    override conditionalRequests = null;
    override permissionClasses = [];
  }
  const { client } = await booksApiApp(t, new StrictBooks(), {}, (router) => router.register('plain-books', new PlainBooks(), { basename: 'plainbook' }));
  const created = await client.post('/api/books/', { title: 'Dune', author: 'Frank Herbert', isbn: isbn(3) });
  const url = `/api/books/${created.data.id}/`;
  const res = await client.patch(url, { subtitle: 'x' });
  t.equal(res.statusCode, 428);
  t.same(res.data, { detail: 'This request must be conditional: send If-Match with the ETag of the object you read.' });
  t.equal((await client.patch(url, { subtitle: 'x' }, { headers: { 'if-match': created.headers['etag'] as string } })).statusCode, 200, 'the create answer’s ETag is the current one');
  const plain = `/api/plain-books/${created.data.id}/`;
  t.equal((await client.get(plain)).headers['etag'], undefined, 'no ETag');
  t.equal((await client.patch(plain, { subtitle: 'y' }, { headers: { 'if-match': '"stale"' } })).statusCode, 200, 'If-Match is not read');
});
