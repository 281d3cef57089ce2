import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import t from 'tap';
import { buildApp } from '../src/library/app.ts';
import {
  AllowAny,
  AnonRateThrottle,
  IsAuthenticated,
  MemoryThrottleStore,
  ModelViewSet,
  parseRate,
  RedisThrottleStore,
  resolveSettings,
  ScopedRateThrottle,
  TokenAuthentication,
  UserRateThrottle,
  type Permission,
  type Throttle,
} from '../src/rest/index.ts';
import { Browser, csrfFromHtml, FakeClock, makeUser, PASSWORD, PlainListSerializer, policyApp, testDatabase, tokenFor } from './auth-helpers.ts';

/** Reading lists anyone may list, behind the given throttles. */
class Lists extends ModelViewSet<PlainListSerializer> {
  readonly serializer = new PlainListSerializer();
  override permissionClasses: Permission[] = [new AllowAny()];

  constructor(throttles: Throttle[], options: { scope?: string; permissions?: Permission[] } = {}) {
    super();
    this.throttleClasses = throttles;
    this.throttleScope = options.scope;
    if (options.permissions) this.permissionClasses = options.permissions;
  }
}

const orm = await testDatabase(t);
const auth = { defaultAuthenticationClasses: [new TokenAuthentication()] };

t.test('rates are a count per second, minute, hour or day', async (t) => {
  t.same(parseRate('100/min'), { limit: 100, duration: 60 });
  t.same(parseRate('1000/day'), { limit: 1000, duration: 86400 });
  t.same(parseRate('3/hour'), { limit: 3, duration: 3600 });
  t.same(parseRate('5/s'), { limit: 5, duration: 1 });
  t.same(parseRate('5/10m'), { limit: 5, duration: 600 }, 'with a multiplier');
  for (const bad of ['lots', '10', '10/fortnight', '/min', '-1/min']) {
    t.throws(() => parseRate(bad), { code: 'FASTREST_ERR_THROTTLE_RATE' }, bad);
  }
  t.throws(() => resolveSettings({ throttleRates: { anon: 'often' } }), { code: 'FASTREST_ERR_THROTTLE_RATE' }, 'settings are checked when the app is built');
  t.doesNotThrow(() => resolveSettings({ throttleRates: { anon: null } }), 'null turns a scope off');
});

t.test('anonymous requests are limited by address, with Retry-After and DRF message from the clock', async (t) => {
  const clock = new FakeClock();
  const app = await policyApp(t, orm, { lists: new Lists([new AnonRateThrottle({ rate: '3/min', now: clock.now })]) }, auth);
  for (const step of [0, 10, 10]) {
    clock.advance(step);
    t.equal((await app.inject({ method: 'GET', url: '/api/lists/' })).statusCode, 200);
  }
  clock.advance(10);
  const refused = await app.inject({ method: 'GET', url: '/api/lists/' });
  t.equal(refused.statusCode, 429);
  t.equal(refused.headers['retry-after'], '30', 'the first request leaves the window 60 s after it was made');
  t.same(refused.json(), { detail: 'Request was throttled. Expected available in 30 seconds.' });

  clock.advance(29.5);
  const almost = await app.inject({ method: 'GET', url: '/api/lists/' });
  t.equal(almost.headers['retry-after'], '1', 'waits are rounded up');
  t.same(almost.json(), { detail: 'Request was throttled. Expected available in 1 second.' });
  clock.advance(0.5);
  t.equal((await app.inject({ method: 'GET', url: '/api/lists/' })).statusCode, 200, 'free again once the oldest request left');

  const user = await makeUser(app, { username: 'anna' });
  const key = await tokenFor(app, user);
  for (let i = 0; i < 5; i++) {
    t.equal((await app.inject({ method: 'GET', url: '/api/lists/', headers: { authorization: `Token ${key}` } })).statusCode, 200, 'users are not anonymous');
  }
});

t.test('users are limited each on their own, anonymous clients by address', async (t) => {
  const clock = new FakeClock();
  const app = await policyApp(t, orm, { lists: new Lists([new UserRateThrottle({ rate: '2/min', now: clock.now })]) }, auth);
  const one = `Token ${await tokenFor(app, await makeUser(app, { username: 'uma' }))}`;
  const two = `Token ${await tokenFor(app, await makeUser(app, { username: 'ugo' }))}`;
  const get = (authorization?: string) => app.inject({ method: 'GET', url: '/api/lists/', headers: authorization ? { authorization } : {} });
  t.equal((await get(one)).statusCode, 200);
  t.equal((await get(one)).statusCode, 200);
  t.equal((await get(one)).statusCode, 429);
  t.equal((await get(two)).statusCode, 200, 'another user has their own window');
  t.equal((await get()).statusCode, 200);
  t.equal((await get()).statusCode, 200);
  t.equal((await get()).statusCode, 429, 'anonymous requests share the address window');
});

t.test('behind a trusted proxy the client address comes from X-Forwarded-For, otherwise the header is ignored', async (t) => {
  const make = (trustProxy: boolean) =>
    policyApp(t, orm, { lists: new Lists([new AnonRateThrottle({ rate: '1/min', now: new FakeClock().now })]) }, auth, { trustProxy });
  const proxied = await make(true);
  const direct = await make(false);
  const from = (app: typeof proxied, ip: string) => app.inject({ method: 'GET', url: '/api/lists/', headers: { 'x-forwarded-for': ip } });
  t.equal((await from(proxied, '203.0.113.1')).statusCode, 200);
  t.equal((await from(proxied, '203.0.113.2')).statusCode, 200, 'another client behind the proxy');
  t.equal((await from(proxied, '203.0.113.1')).statusCode, 429);
  t.equal((await from(direct, '203.0.113.1')).statusCode, 200);
  t.equal((await from(direct, '203.0.113.2')).statusCode, 429, 'a forged header does not make a new client');
});

t.test("scoped throttles take the view's scope and that scope's rate", async (t) => {
  const clock = new FakeClock();
  const scoped = () => new ScopedRateThrottle({ now: clock.now });
  const app = await policyApp(
    t,
    orm,
    {
      uploads: new Lists([scoped()], { scope: 'uploads' }),
      reports: new Lists([scoped()], { scope: 'reports' }),
      plain: new Lists([scoped()]),
      unset: new Lists([scoped()], { scope: 'nobody-set-this' }),
    },
    { ...auth, throttleRates: { uploads: '1/min', reports: '2/min' } },
  );
  const get = (prefix: string) => app.inject({ method: 'GET', url: `/api/${prefix}/` });
  t.equal((await get('uploads')).statusCode, 200);
  t.equal((await get('uploads')).statusCode, 429);
  t.equal((await get('reports')).statusCode, 200, 'each scope has its own window');
  t.equal((await get('reports')).statusCode, 200);
  t.equal((await get('reports')).statusCode, 429);
  for (let i = 0; i < 3; i++) t.equal((await get('plain')).statusCode, 200, 'a view without a scope is not throttled');
  const unset = await get('unset');
  t.equal(unset.statusCode, 500, 'a scope without a rate is a setup error');
});

t.test('the longest wait of several refusing throttles is the one reported', async (t) => {
  const clock = new FakeClock();
  const app = await policyApp(
    t,
    orm,
    { lists: new Lists([new AnonRateThrottle({ rate: '1/min', now: clock.now }), new AnonRateThrottle({ rate: '1/hour', scope: 'hourly', now: clock.now })]) },
    auth,
  );
  t.equal((await app.inject({ method: 'GET', url: '/api/lists/' })).statusCode, 200);
  clock.advance(15);
  const refused = await app.inject({ method: 'GET', url: '/api/lists/' });
  t.equal(refused.headers['retry-after'], '3585');
});

t.test('throttles run after permissions, so refused requests use no allowance', async (t) => {
  const clock = new FakeClock();
  const throttle = new AnonRateThrottle({ rate: '1/min', now: clock.now });
  const app = await policyApp(
    t,
    orm,
    { private: new Lists([throttle], { permissions: [new IsAuthenticated()] }), public: new Lists([throttle]) },
    auth,
  );
  for (let i = 0; i < 3; i++) t.equal((await app.inject({ method: 'GET', url: '/api/private/' })).statusCode, 401, 'a 401, never a 429');
  t.equal((await app.inject({ method: 'GET', url: '/api/public/' })).statusCode, 200, 'the allowance is untouched');
  t.equal((await app.inject({ method: 'GET', url: '/api/public/' })).statusCode, 429, 'and the anonymous window is shared by views');
});

t.test('OpenAPI documents the 429 on operations of throttled views only', async (t) => {
  const app = await policyApp(t, orm, { throttled: new Lists([new AnonRateThrottle({ rate: '1/min' })]), free: new Lists([]) }, auth);
  const doc = app.swagger() as any;
  t.ok(doc.paths['/api/throttled/'].get.responses['429']);
  t.ok(doc.paths['/api/throttled/{id}/'].delete.responses['429']);
  t.notOk(doc.paths['/api/free/'].get.responses['429']);
});

t.test('the memory store forgets everything on clear', async (t) => {
  const store = new MemoryThrottleStore();
  t.same(await store.hit('k', 0, 60, 1), { allowed: true, wait: null });
  t.equal((await store.hit('k', 1, 60, 1)).allowed, false);
  await store.clear();
  t.equal((await store.hit('k', 2, 60, 1)).allowed, true);
});

async function redisOrNull(): Promise<Redis | null> {
  const client = new Redis(process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379', { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null, connectTimeout: 1000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.ping();
    return client;
  } catch {
    client.disconnect();
    return null;
  }
}

const probe = await redisOrNull();
probe?.disconnect();
const redisSkip = probe ? false : `Redis is not reachable at ${process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379'}: start redis-server to run this test (.ci/run does)`;

t.test('with Redis, a limit holds across two app instances', { skip: redisSkip }, async (t) => {
  const first = (await redisOrNull())!;
  const second = (await redisOrNull())!;
  const prefix = `fastrest-test:${randomBytes(6).toString('hex')}:`;
  const stores = [new RedisThrottleStore({ client: first, prefix }), new RedisThrottleStore({ client: second, prefix })];
  t.teardown(async () => {
    await stores[0]!.clear();
    await first.quit();
    await second.quit();
  });
  const clock = new FakeClock();
  const instance = (store: RedisThrottleStore) =>
    policyApp(t, orm, { lists: new Lists([new AnonRateThrottle({ rate: '3/min', now: clock.now })]) }, { ...auth, throttleStore: store });
  const a = await instance(stores[0]!);
  const b = await instance(stores[1]!);
  const get = (app: typeof a) => app.inject({ method: 'GET', url: '/api/lists/' });
  t.equal((await get(a)).statusCode, 200);
  clock.advance(5);
  t.equal((await get(b)).statusCode, 200);
  clock.advance(5);
  t.equal((await get(a)).statusCode, 200);
  clock.advance(5);
  const refused = await get(b);
  t.equal(refused.statusCode, 429, 'the second instance sees the first one’s requests');
  t.equal(refused.headers['retry-after'], '45');
  t.same(refused.json(), { detail: 'Request was throttled. Expected available in 45 seconds.' });
  t.equal((await get(a)).statusCode, 429);
  clock.advance(45);
  t.equal((await get(a)).statusCode, 200, 'free again for both once the oldest request left');
  t.equal((await get(b)).statusCode, 429, 'one slot freed, one taken');

  const concurrent = await Promise.all(Array.from({ length: 10 }, (_, i) => stores[i % 2]!.hit('race', clock.now(), 60, 4)));
  t.equal(concurrent.filter((hit) => hit.allowed).length, 4, 'concurrent hits from both instances never exceed the limit');
});

// Last: the Library closes the database when it closes.
t.test("the Library limits log-in attempts with the 'login' rate", async (t) => {
  const app = await buildApp(orm, {}, { throttleRates: { anon: null, user: null, login: '2/min' } });
  t.teardown(() => app.close());
  await makeUser(app, { username: 'lou' });
  const attempt = () => app.inject({ method: 'POST', url: '/api/auth/token/', payload: { username: 'lou', password: 'wrong' } });
  t.equal((await attempt()).statusCode, 400);
  t.equal((await attempt()).statusCode, 400);
  const refused = await attempt();
  t.equal(refused.statusCode, 429);
  t.match(refused.json().detail, /^Request was throttled\. Expected available in \d+ seconds?\.$/);

  const browser = new Browser(app);
  const page = await browser.request('GET', '/api-auth/login/');
  const form = await browser.request('POST', '/api-auth/login/', { form: { username: 'lou', password: PASSWORD, csrfmiddlewaretoken: csrfFromHtml(page.body) } });
  t.equal(form.statusCode, 429, 'the log-in page shares the scope');
  t.match(form.body, /Too many log-in attempts\. Try again in \d+ seconds\./);
});
