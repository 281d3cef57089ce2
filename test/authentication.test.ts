import type { FastifyRequest } from 'fastify';
import t, { type Test } from 'tap';
import { buildApp } from '../src/library/app.ts';
import { BookViewSet } from '../src/library/views.ts';
import {
  APIView,
  asView,
  BasicAuthentication,
  hasUser,
  IsAuthenticated,
  SessionAuthentication,
  setPassword,
  Token,
  TokenAuthentication,
  User,
  type Authenticator,
  type Permission,
} from '../src/rest/index.ts';
import { readerOf } from '../src/rest/orm/database.ts';
import { basic, Browser, csrfFromHtml, makeUser, PASSWORD, policyApp, testDatabase, tokenFor } from './auth-helpers.ts';

let made = 0;
/** A new reading list's body: writes in these tests go to reading lists, which need a user. */
const list = () => ({ name: `List ${++made}` });

// One database and one Library for the whole file (each test uses its own users): databases are slow to make.
const orm = await testDatabase(t);
// The log-in rate is the throttling tests' business: here it must not get in the way.
const shared = await buildApp(orm, {}, { throttleRates: { anon: null, user: null, login: null } });
t.teardown(() => shared.close());
await shared.ready();
async function library(_t: Test) {
  return shared;
}

/** Books with the given schemes, only for authenticated users. */
class GuardedBooks extends BookViewSet {
  constructor(schemes: Authenticator[]) {
    super();
    this.authenticationClasses = schemes;
  }
  override permissionClasses: Permission[] = [new IsAuthenticated()];
}

t.test('tokens authenticate with the Token and Bearer keywords', async (t) => {
  const app = await library(t);
  const key = await tokenFor(app, await makeUser(app, { username: 'ann' }));
  for (const header of [`Token ${key}`, `Bearer ${key}`, `token ${key}`]) {
    const res = await app.inject({ method: 'POST', url: '/api/reading-lists/', headers: { authorization: header }, payload: list() });
    t.equal(res.statusCode, 201, header.split(' ')[0]!);
  }
});

t.test('wrong or malformed token headers get DRF messages', async (t) => {
  const app = await library(t);
  const inactive = await makeUser(app, { username: 'gone', isActive: false });
  const inactiveKey = await tokenFor(app, inactive);
  const cases: [string, string][] = [
    ['Token 0123456789abcdef0123456789abcdef01234567', 'Invalid token.'],
    ['Token not-a-key', 'Invalid token.'],
    ['Token', 'Invalid token header. No credentials provided.'],
    ['Token abc def', 'Invalid token header. Token string should not contain spaces.'],
    ['Token clé', 'Invalid token header. Token string should not contain invalid characters.'],
    [`Token ${inactiveKey}`, 'User inactive or deleted.'],
  ];
  for (const [header, detail] of cases) {
    const res = await app.inject({ method: 'GET', url: '/api/books/', headers: { authorization: header } });
    t.equal(res.statusCode, 403, `${header}: the Library's first scheme (session) cannot challenge, so a 403`);
    t.same(res.json(), { detail }, header);
    t.notOk(res.headers['www-authenticate']);
  }
});

t.test('a 401 with a challenge when the first scheme can challenge, else a 403 (DRF rule)', async (t) => {
  const app = await policyApp(t, orm, {
    basicfirst: new GuardedBooks([new BasicAuthentication(), new SessionAuthentication()]),
    tokenfirst: new GuardedBooks([new TokenAuthentication()]),
    sessionfirst: new GuardedBooks([new SessionAuthentication(), new BasicAuthentication()]),
    noschemes: new GuardedBooks([]),
  });
  const anonymous = await app.inject({ method: 'GET', url: '/api/basicfirst/' });
  t.equal(anonymous.statusCode, 401);
  t.equal(anonymous.headers['www-authenticate'], 'Basic realm="api"');
  t.same(anonymous.json(), { detail: 'Authentication credentials were not provided.' });

  const wrong = await app.inject({ method: 'GET', url: '/api/basicfirst/', headers: { authorization: basic('nobody', 'nope') } });
  t.equal(wrong.statusCode, 401);
  t.same(wrong.json(), { detail: 'Invalid username/password.' });

  const token = await app.inject({ method: 'GET', url: '/api/tokenfirst/', headers: { authorization: 'Token abc' } });
  t.equal(token.statusCode, 401);
  t.equal(token.headers['www-authenticate'], 'Token');
  t.same(token.json(), { detail: 'Invalid token.' });

  const session = await app.inject({ method: 'GET', url: '/api/sessionfirst/' });
  t.equal(session.statusCode, 403);
  t.notOk(session.headers['www-authenticate']);
  t.same(session.json(), { detail: 'Authentication credentials were not provided.' });

  const none = await app.inject({ method: 'GET', url: '/api/noschemes/' });
  t.equal(none.statusCode, 403, 'without any scheme, a plain permission denial');
  t.same(none.json(), { detail: 'You do not have permission to perform this action.' });
});

t.test('basic authentication checks the header, the password and the account', async (t) => {
  const app = await library(t);
  await makeUser(app, { username: 'bea' });
  await makeUser(app, { username: 'old', isActive: false });
  const ok = await app.inject({ method: 'POST', url: '/api/reading-lists/', headers: { authorization: basic('bea') }, payload: list() });
  t.equal(ok.statusCode, 201);
  const colonInPassword = await makeUser(app, { username: 'cy', password: 'pass:with:colons' });
  t.ok(colonInPassword);
  t.equal((await app.inject({ method: 'GET', url: '/api/reading-lists/', headers: { authorization: basic('cy', 'pass:with:colons') } })).statusCode, 200);
  const cases: [string, string][] = [
    [basic('bea', 'wrong-password'), 'Invalid username/password.'],
    [basic('nobody'), 'Invalid username/password.'],
    [basic('old'), 'User inactive or deleted.'],
    ['Basic', 'Invalid basic header. No credentials provided.'],
    ['Basic a b', 'Invalid basic header. Credentials string should not contain spaces.'],
    ['Basic %%%notbase64', 'Invalid basic header. Credentials not correctly base64 encoded.'],
  ];
  for (const [header, detail] of cases) {
    const res = await app.inject({ method: 'GET', url: '/api/books/', headers: { authorization: header } });
    t.equal(res.statusCode, 403, header);
    t.same(res.json(), { detail }, header);
  }
});

t.test('the token endpoint issues keys once, stores only their hash, and revokes them', async (t) => {
  const app = await library(t);
  const user = await makeUser(app, { username: 'dee' });
  await makeUser(app, { username: 'idle', isActive: false });

  const issued = await app.inject({ method: 'POST', url: '/api/auth/token/', payload: { username: 'dee', password: PASSWORD } });
  t.equal(issued.statusCode, 200);
  const key: string = issued.json().token;
  t.match(key, /^[0-9a-f]{40}$/);
  const stored = await app.orm.em.fork().find(Token, { user: user.id });
  t.equal(stored.length, 1);
  t.not(stored[0]!.keyHash, key, 'the key itself is not stored');
  t.match(stored[0]!.keyHash, /^[0-9a-f]{64}$/);
  const again = await app.inject({ method: 'POST', url: '/api/auth/token/', payload: { username: 'dee', password: PASSWORD } });
  t.not(again.json().token, key, 'a key cannot be shown twice, so each request issues a new one');

  const form = await app.inject({
    method: 'POST',
    url: '/api/auth/token/',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: `username=dee&password=${PASSWORD}`,
  });
  t.equal(form.statusCode, 200, 'a form body works too');

  for (const body of [
    { username: 'dee', password: 'wrong' },
    { username: 'nobody', password: PASSWORD },
    { username: 'idle', password: PASSWORD },
  ]) {
    const res = await app.inject({ method: 'POST', url: '/api/auth/token/', payload: body });
    t.equal(res.statusCode, 400, body.username);
    t.same(res.json(), { non_field_errors: ['Unable to log in with provided credentials.'] });
  }
  const missing = await app.inject({ method: 'POST', url: '/api/auth/token/', payload: { username: '' } });
  t.equal(missing.statusCode, 400);
  t.same(missing.json(), { username: ['This field may not be blank.'], password: ['This field is required.'] });

  const revoke = await app.inject({ method: 'DELETE', url: '/api/auth/token/', headers: { authorization: `Token ${key}` } });
  t.equal(revoke.statusCode, 204);
  const after = await app.inject({ method: 'GET', url: '/api/books/', headers: { authorization: `Token ${key}` } });
  t.same(after.json(), { detail: 'Invalid token.' }, 'a revoked key no longer authenticates');
  const other = await app.inject({ method: 'GET', url: '/api/reading-lists/', headers: { authorization: `Token ${again.json().token}` } });
  t.equal(other.statusCode, 200, 'revoking one key leaves the others');

  const all = await app.inject({ method: 'DELETE', url: '/api/auth/token/', headers: { authorization: basic('dee') } });
  t.equal(all.statusCode, 204);
  t.equal(await app.orm.em.fork().count(Token, { user: user.id }), 0, 'authenticated otherwise, every token of the user is revoked');

  const anonymous = await app.inject({ method: 'DELETE', url: '/api/auth/token/' });
  t.equal(anonymous.statusCode, 403);
  t.same(anonymous.json(), { detail: 'Authentication credentials were not provided.' });
  const get = await app.inject({ method: 'GET', url: '/api/auth/token/' });
  t.equal(get.statusCode, 405);
  t.equal(get.headers['allow'], 'POST, DELETE');
});

/** Says what authentication gave the view: the classes of `request.user` and `request.auth`. */
class WhoAmI extends APIView {
  constructor(schemes: Authenticator[]) {
    super();
    this.authenticationClasses = schemes;
  }

  async get(request: FastifyRequest) {
    const auth = request.auth as { constructor: { name: string }; id: number; keyHash: string; prefix: string; user: unknown };
    return { user: request.user!.constructor.name, auth: auth.constructor.name, id: auth.id, prefix: auth.prefix, sameUser: auth.user === request.user };
  }
}

t.test('request.auth is the Token entity, or its row with auth: "row"; request.user is the User entity either way', async (t) => {
  const user = await makeUser(shared, { username: 'rowan' });
  const key = await tokenFor(shared, user);
  const token = (await orm.em.fork().findOne(Token, { user: user.id }))!;
  const app = await policyApp(t, orm, {}, {}, {}, (app) => {
    void app.register(asView(new WhoAmI([new TokenAuthentication()]), { url: '/api/entity/', name: 'entity' }));
    void app.register(asView(new WhoAmI([new TokenAuthentication({ auth: 'row' })]), { url: '/api/row/', name: 'row' }));
  });
  const seen = async (path: string) => (await app.inject({ method: 'GET', url: `/api/${path}/`, headers: { authorization: `Token ${key}` } })).json();
  t.same(await seen('entity'), { user: 'User', auth: 'Token', id: token.id, prefix: key.slice(0, 8), sameUser: true });
  t.same(await seen('row'), { user: 'User', auth: 'Object', id: token.id, prefix: key.slice(0, 8), sameUser: true });
});

/** Reports what the request held before and after it first read `request.user`. */
class LazyWhoAmI extends APIView {
  override authenticationClasses = [new TokenAuthentication({ auth: 'row' })];
  override permissionClasses = [new IsAuthenticated()];

  async get(request: FastifyRequest) {
    const forkedBefore = readerOf(request) !== request.server.orm.em;
    const user = request.user!;
    const managed = request.em.getUnitOfWork().getIdentityMap().values().includes(user as never);
    return { forkedBefore, hasUser: hasUser(request), user: user.constructor.name, username: user.username, once: request.user === user, managed, sameUser: (request.auth as { user: unknown }).user === user };
  }
}

t.test('with auth: "row", request.user is made on first read: permissions pass without it, and no EntityManager is forked before', async (t) => {
  const user = await makeUser(shared, { username: 'lazy' });
  const key = await tokenFor(shared, user);
  const app = await policyApp(t, orm, {}, {}, {}, (app) => {
    void app.register(asView(new LazyWhoAmI(), { url: '/api/lazy/', name: 'lazy' }));
  });
  const res = await app.inject({ method: 'GET', url: '/api/lazy/', headers: { authorization: `Token ${key}` } });
  t.equal(res.statusCode, 200);
  t.same(res.json(), { forkedBefore: false, hasUser: true, user: 'User', username: 'lazy', once: true, managed: true, sameUser: true });
  const anonymous = await app.inject({ method: 'GET', url: '/api/lazy/' });
  t.equal(anonymous.statusCode, 401, 'no user: IsAuthenticated refuses');
  await shared.orm.em.fork().nativeUpdate(User, { id: user.id }, { isActive: false });
  const inactive = await app.inject({ method: 'GET', url: '/api/lazy/', headers: { authorization: `Token ${key}` } });
  t.same([inactive.statusCode, inactive.json()], [401, { detail: 'User inactive or deleted.' }], 'the row is checked before any entity is made');
});

t.test('the log-in page logs in with a session cookie and goes back to next', async (t) => {
  const app = await library(t);
  await makeUser(app, { username: 'eve' });
  const browser = new Browser(app);

  const page = await browser.request('GET', '/api-auth/login/?next=/api/reading-lists/');
  t.equal(page.statusCode, 200);
  t.match(page.headers['content-type'], /^text\/html/);
  t.match(page.body, /<form method="post" action="\/api-auth\/login\/">/);
  t.match(page.body, /name="next" value="\/api\/reading-lists\/"/);
  t.ok(csrfFromHtml(page.body));

  const wrong = await browser.request('POST', '/api-auth/login/', {
    form: { username: 'eve', password: 'nope', next: '/api/reading-lists/', csrfmiddlewaretoken: csrfFromHtml(page.body) },
  });
  t.equal(wrong.statusCode, 200);
  t.match(wrong.body, /Please enter a correct username and password\. Note that both fields may be case-sensitive\./);
  t.match(wrong.body, /value="eve"/, 'the username is kept');
  t.notOk(browser.cookies.has('sessionid'));

  const noToken = await browser.request('POST', '/api-auth/login/', { form: { username: 'eve', password: PASSWORD } });
  t.equal(noToken.statusCode, 403);
  t.same(noToken.json(), { detail: 'CSRF Failed: CSRF token missing.' });

  const ok = await browser.login('eve', PASSWORD, '/api/reading-lists/');
  t.equal(ok.statusCode, 302);
  t.equal(ok.headers['location'], '/api/reading-lists/');
  const setCookie = ([] as string[]).concat(ok.headers['set-cookie'] ?? []).find((c) => c.startsWith('sessionid='));
  t.match(setCookie, /HttpOnly/i);
  t.match(setCookie, /SameSite=Lax/i);
  t.match(setCookie, /Path=\//);

  const lists = await browser.request('GET', '/api/reading-lists/');
  t.equal(lists.statusCode, 200, 'the session authenticates API requests');

  const evil = await browser.login('eve', PASSWORD, '//evil.example/');
  t.equal(evil.headers['location'], '/', 'a next pointing elsewhere is ignored');
  const absolute = await browser.login('eve', PASSWORD, 'https://evil.example/');
  t.equal(absolute.headers['location'], '/');
});

t.test('session-authenticated writes need a CSRF token; safe methods and other schemes do not', async (t) => {
  const app = await library(t);
  const user = await makeUser(app, { username: 'fay' });
  const browser = new Browser(app);
  await browser.login('fay');

  const missing = await browser.request('POST', '/api/reading-lists/', { json: list() });
  t.equal(missing.statusCode, 403);
  t.same(missing.json(), { detail: 'CSRF Failed: CSRF token missing.' });

  const incorrect = await browser.request('POST', '/api/reading-lists/', { json: list(), headers: { 'x-csrftoken': 'not-a-token' } });
  t.same(incorrect.json(), { detail: 'CSRF Failed: CSRF token incorrect.' });

  const token = await browser.csrfToken();
  const ok = await browser.request('POST', '/api/reading-lists/', { json: list(), headers: { 'x-csrftoken': token } });
  t.equal(ok.statusCode, 201);

  const form = await browser.request('POST', '/api/reading-lists/', { form: { name: 'From a form', csrfmiddlewaretoken: token } });
  t.equal(form.statusCode, 201, 'a form body may carry the token instead');
  const formMissing = await browser.request('POST', '/api/reading-lists/', { form: { name: 'No token' } });
  t.same(formMissing.json(), { detail: 'CSRF Failed: CSRF token missing.' });

  const crossSite = await browser.request('POST', '/api/reading-lists/', { json: list(), headers: { 'x-csrftoken': token, origin: 'http://evil.example' } });
  t.equal(crossSite.statusCode, 403);
  t.same(crossSite.json(), { detail: 'CSRF Failed: Origin checking failed - http://evil.example does not match any trusted origins.' });

  const sameOrigin = await browser.request('POST', '/api/reading-lists/', { json: list(), headers: { 'x-csrftoken': token, origin: 'http://localhost:80' } });
  t.equal(sameOrigin.statusCode, 201, "the app's own origin passes");

  t.equal((await browser.request('GET', '/api/books/')).statusCode, 200, 'reads need no token');

  const withToken = await app.inject({ method: 'POST', url: '/api/reading-lists/', headers: { authorization: `Token ${await tokenFor(app, user)}` }, payload: list() });
  t.equal(withToken.statusCode, 201, 'token requests carry no cookie and need no CSRF token');

  const anonymousWithCookies = new Browser(app);
  await anonymousWithCookies.request('GET', '/api-auth/login/');
  const anon = await anonymousWithCookies.request('POST', '/api/reading-lists/', { json: list() });
  t.same(anon.json(), { detail: 'Authentication credentials were not provided.' }, 'CSRF applies to session-authenticated requests only');
});

t.test('logging out is a POST that ends the session', async (t) => {
  const app = await library(t);
  await makeUser(app, { username: 'gus' });
  const browser = new Browser(app);
  await browser.login('gus');
  const session = browser.cookies.get('sessionid');
  t.ok(session);

  const get = await browser.request('GET', '/api-auth/logout/');
  t.equal(get.statusCode, 405);
  t.equal(get.headers['allow'], 'POST');
  t.equal((await browser.request('GET', '/api/reading-lists/')).statusCode, 200, 'a GET does not log out');

  const noToken = await browser.request('POST', '/api-auth/logout/', { form: {} });
  t.equal(noToken.statusCode, 403);

  const token = await browser.csrfToken();
  const out = await browser.request('POST', '/api-auth/logout/', { form: { csrfmiddlewaretoken: token } });
  t.equal(out.statusCode, 200);
  t.match(out.body, /You are logged out\./);
  t.notOk(browser.cookies.has('sessionid'), 'the cookie is cleared');
  t.equal((await browser.request('GET', '/api/reading-lists/')).statusCode, 403);

  const replay = await app.inject({ method: 'GET', url: '/api/reading-lists/', headers: { cookie: `sessionid=${session}` } });
  t.equal(replay.statusCode, 403, 'the old cookie no longer works: the session is gone from the database');

  await browser.login('gus');
  const next = await browser.request('POST', '/api-auth/logout/', { form: { csrfmiddlewaretoken: await browser.csrfToken(), next: '/api/' } });
  t.equal(next.statusCode, 302);
  t.equal(next.headers['location'], '/api/');
});

t.test('sessions end when the password changes, and tampered cookies are ignored', async (t) => {
  const app = await library(t);
  const user = await makeUser(app, { username: 'hal' });
  const browser = new Browser(app);
  await browser.login('hal');
  t.equal((await browser.request('GET', '/api/reading-lists/')).statusCode, 200);

  const raw = browser.cookies.get('sessionid')!;
  const tampered = await app.inject({ method: 'GET', url: '/api/reading-lists/', headers: { cookie: `sessionid=x${raw}` } });
  t.equal(tampered.statusCode, 403);

  const em = app.orm.em.fork();
  await setPassword(em, (await em.findOneOrFail(User, { id: user.id })) as User, 'another-password-9');
  t.equal((await browser.request('GET', '/api/reading-lists/')).statusCode, 403);
});

t.test('verified basic credentials are remembered until the password changes', async (t) => {
  const app = await library(t);
  const user = await makeUser(app, { username: 'ivy' });
  const get = (authorization: string) => app.inject({ method: 'GET', url: '/api/reading-lists/', headers: { authorization } });
  t.equal((await get(basic('ivy'))).statusCode, 200);
  t.equal((await get(basic('ivy'))).statusCode, 200, 'the remembered credentials still authenticate');
  t.equal((await get(basic('ivy', 'not-the-password'))).statusCode, 403, 'other passwords are still checked');

  const em = app.orm.em.fork();
  await setPassword(em, (await em.findOneOrFail(User, { id: user.id })) as User, 'another-password-9');
  t.equal((await get(basic('ivy'))).statusCode, 403, 'the old password no longer works once changed');
  t.equal((await get(basic('ivy', 'another-password-9'))).statusCode, 200);
});

t.test('OpenAPI describes basic, token and cookie security, and each operation says which it takes', async (t) => {
  const app = await library(t);
  const doc = app.swagger() as any;
  t.same(doc.components.securitySchemes.basicAuth, { type: 'http', scheme: 'basic' });
  t.match(doc.components.securitySchemes.tokenAuth, { type: 'apiKey', in: 'header', name: 'Authorization' });
  t.match(doc.components.securitySchemes.tokenAuth.description, /`Authorization: Token <key>` \(`Bearer <key>` is accepted too\)/, 'documented as the README says, Bearer too');
  t.match(doc.components.securitySchemes.cookieAuth, { type: 'apiKey', in: 'cookie', name: 'sessionid' });
  const create = doc.paths['/api/books/'].post;
  t.same(create.security, [{ cookieAuth: [] }, { basicAuth: [] }, { tokenAuth: [] }]);
  t.ok(create.responses['403']);
  const list = doc.paths['/api/books/'].get;
  t.same(list.security.at(-1), {}, 'anonymous clients may list books');
  t.notOk(doc.paths['/api/reading-lists/'].get.security.some((s: object) => Object.keys(s).length === 0), 'reading lists need a user');
  t.equal(doc.paths['/api/auth/token/'].post.operationId, 'obtainAuthToken');
  t.equal(doc.paths['/api/auth/token/'].delete.operationId, 'revokeAuthToken');
});

t.test('an anonymous read passes every built-in scheme without a promise; credentials are looked up with one', async (t) => {
  const view = new GuardedBooks([new SessionAuthentication(), new BasicAuthentication(), new TokenAuthentication()]);
  view.permissionClasses = [];
  const key = await tokenFor(shared, await makeUser(shared, { username: 'quick' }));
  const app = await policyApp(t, orm, {}, {}, {}, (app) => {
    app.get('/probe/', async (request, reply) => {
      const answers = view.getAuthenticators(request).map((scheme) => scheme.authenticate(request));
      for (const answer of answers) if (answer instanceof Promise) answer.catch(() => {});
      const initial = view.initial(request, reply);
      await initial;
      const kind = (value: unknown) => (value instanceof Promise ? 'promise' : value === undefined ? 'none' : value);
      return { answers: answers.map(kind), initial: kind(initial), user: request.user?.username ?? null };
    });
  });
  const probe = async (headers: Record<string, string> = {}) => (await app.inject({ method: 'GET', url: '/probe/', headers })).json();
  t.same(await probe(), { answers: [null, null, null], initial: 'none', user: null }, 'no credentials: every scheme answers null at once, initial() returns nothing');
  t.same(await probe({ authorization: `Token ${key}` }), { answers: [null, null, 'promise'], initial: 'promise', user: 'quick' }, 'a token is looked up');
  t.same(await probe({ authorization: 'Basic bm9ib2R5Om5vcGU=' }).then((r) => r.detail), 'Invalid username/password.', 'wrong credentials still fail through the promise');
});
