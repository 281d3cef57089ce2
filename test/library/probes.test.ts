import t from 'tap';
import { libraryApp } from '../helpers.ts';

t.test('the probes tell an orchestrator whether the app lives and can serve', async (t) => {
  const { db, client } = await libraryApp(t);

  await t.test('the liveness probe answers 200 {status: "ok"}', async (t) => {
    const res = await client.get('/health');
    t.equal(res.statusCode, 200);
    t.match(res.headers['content-type'], /^application\/json/);
    t.same(res.data, { status: 'ok' });
  });

  await t.test('the readiness probe answers 200 while the database answers', async (t) => {
    const res = await client.get('/ready');
    t.equal(res.statusCode, 200);
    t.same(res.data, { status: 'ok', database: 'ok' });
  });

  await t.test('the readiness probe answers 503 once the database is gone, and the app keeps serving', async (t) => {
    await db.orm.close(true);
    const res = await client.get('/ready');
    t.equal(res.statusCode, 503);
    t.same(res.data, { status: 'unavailable', database: 'unavailable' });
    const again = await client.get('/ready');
    t.equal(again.statusCode, 503, 'asking again does not crash the app, nor reopen the database');
    const health = await client.get('/health');
    t.equal(health.statusCode, 200, 'the process is still alive');
    t.same(health.data, { status: 'ok' });
  });
});
