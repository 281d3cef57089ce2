import type { FastifyRequest } from 'fastify';
import t from 'tap';
import { ReadingList } from '../src/library/entities.ts';
import {
  addToGroups,
  APIView,
  allowedMethods,
  AllowAny,
  and,
  DjangoModelPermissions,
  DjangoModelPermissionsOrAnonReadOnly,
  ensureGroup,
  grantPermissions,
  IsAdminUser,
  IsAuthenticated,
  IsAuthenticatedOrReadOnly,
  IsOwner,
  ModelViewSet,
  not,
  or,
  TokenAuthentication,
  User,
  withMessage,
  type Permission,
} from '../src/rest/index.ts';
import { makeUser, PlainListSerializer, policyApp, testDatabase, tokenFor } from './auth-helpers.ts';

/** Reading lists behind the given permissions, with no owner filter (object checks decide). */
class Lists extends ModelViewSet<PlainListSerializer> {
  readonly serializer = new PlainListSerializer();
  override permissionClasses: Permission[];

  constructor(...permissions: Permission[]) {
    super();
    this.permissionClasses = permissions;
  }

  override async performCreate(request: FastifyRequest, data: Record<string, unknown>): Promise<object> {
    return this.getSerializer(request).create(request.em, { ...data, owner: request.user!.id } as never);
  }
}

const views = {
  allowany: new Lists(new AllowAny()),
  authenticated: new Lists(new IsAuthenticated()),
  admin: new Lists(new IsAdminUser()),
  readonly: new Lists(new IsAuthenticatedOrReadOnly()),
  model: new Lists(new DjangoModelPermissions()),
  modelanon: new Lists(new DjangoModelPermissionsOrAnonReadOnly()),
  composed: new Lists(and(IsAuthenticated, or(IsAdminUser, new IsOwner()))),
  negated: new Lists(withMessage(not(IsAdminUser), 'Staff use the staff pages.')),
  messages: new Lists(and(new IsAuthenticated(), new IsAdminUser({ message: 'Only staff may see this.' }))),
};

const orm = await testDatabase(t);
const app = await policyApp(t, orm, views, { defaultAuthenticationClasses: [new TokenAuthentication()] }, {}, (app) => {
  app.get('/probe/:id', async (request) => {
    const view = views.composed;
    await view.performAuthentication(request);
    const object = (clone: FastifyRequest) => view.getObject(clone);
    return {
      collection: await allowedMethods(request, views.model, ['GET', 'POST']),
      item: await allowedMethods(request, view, ['GET', 'PUT', 'DELETE'], { object }),
    };
  });
});

const em = orm.em.fork();
const member = await makeUser(app, { username: 'pam' });
const other = await makeUser(app, { username: 'otto' });
const staff = await makeUser(app, { username: 'stan', isStaff: true });
const superuser = await makeUser(app, { username: 'sue', isSuperuser: true });
const adder = await makeUser(app, { username: 'ada' });
const editor = await makeUser(app, { username: 'grace' });
await grantPermissions(em, (await em.findOneOrFail(User, { id: adder.id })) as User, ['library.add_readinglist']);
const editors = await ensureGroup(em, 'editors');
await grantPermissions(em, editors, ['library.change_readinglist', 'library.delete_readinglist']);
await addToGroups(em, (await em.findOneOrFail(User, { id: editor.id })) as User, [editors]);

const keys = new Map<string, string>();
for (const user of [member, other, staff, superuser, adder, editor]) keys.set(user.username, await tokenFor(app, user));
const as = (username: string | null) => (username ? { authorization: `Token ${keys.get(username)}` } : {});
const call = (method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'OPTIONS', url: string, username: string | null, payload?: object) =>
  app.inject({ method, url, headers: as(username), ...(payload ? { payload } : {}) });

const ownList = em.create(ReadingList, { name: "Pam's list", owner: member.id } as never);
const othersList = em.create(ReadingList, { name: "Otto's list", owner: other.id } as never);
await em.flush();

t.test('AllowAny lets everyone in; IsAuthenticated needs a user, with a 401 and a challenge for anonymous requests', async (t) => {
  t.equal((await call('GET', '/api/allowany/', null)).statusCode, 200);
  const anonymous = await call('GET', '/api/authenticated/', null);
  t.equal(anonymous.statusCode, 401);
  t.equal(anonymous.headers['www-authenticate'], 'Token');
  t.same(anonymous.json(), { detail: 'Authentication credentials were not provided.' });
  t.equal((await call('GET', '/api/authenticated/', 'pam')).statusCode, 200);
});

t.test('permissions run before the 405 of a method the route does not serve (DRF order)', async (t) => {
  const res = await call('DELETE', '/api/authenticated/', null);
  t.equal(res.statusCode, 401);
  const allowed = await call('DELETE', '/api/authenticated/', 'pam');
  t.equal(allowed.statusCode, 405);
});

t.test('IsAdminUser admits staff only', async (t) => {
  const res = await call('GET', '/api/admin/', 'pam');
  t.equal(res.statusCode, 403);
  t.same(res.json(), { detail: 'You do not have permission to perform this action.' });
  t.equal((await call('GET', '/api/admin/', 'stan')).statusCode, 200);
});

t.test('IsAuthenticatedOrReadOnly lets anyone read and users write', async (t) => {
  t.equal((await call('GET', '/api/readonly/', null)).statusCode, 200);
  t.equal((await call('HEAD' as 'GET', '/api/readonly/', null)).statusCode, 200);
  t.equal((await call('POST', '/api/readonly/', null, { name: 'x' })).statusCode, 401);
  t.equal((await call('POST', '/api/readonly/', 'pam', { name: 'Mine' })).statusCode, 201);
});

t.test('DjangoModelPermissions needs the model permission of each write, held directly or through a group', async (t) => {
  t.equal((await call('GET', '/api/model/', null)).statusCode, 401, 'anonymous users are refused even for reads');
  t.equal((await call('GET', '/api/model/', 'pam')).statusCode, 200, 'reads need no permission');
  const refused = await call('POST', '/api/model/', 'pam', { name: 'x' });
  t.equal(refused.statusCode, 403);
  t.same(refused.json(), { detail: 'You do not have permission to perform this action.' });
  t.equal((await call('POST', '/api/model/', 'ada', { name: 'Added' })).statusCode, 201, 'library.add_readinglist granted to the user');
  t.equal((await call('PATCH', `/api/model/${othersList.id}/`, 'ada', { name: 'x' })).statusCode, 403, 'adding is not changing');
  t.equal((await call('PATCH', `/api/model/${othersList.id}/`, 'grace', { name: 'Edited' })).statusCode, 200, 'change granted through a group');
  t.equal((await call('POST', '/api/model/', 'grace', { name: 'x' })).statusCode, 403);
  t.equal((await call('POST', '/api/model/', 'sue', { name: 'By the superuser' })).statusCode, 201, 'a superuser holds every permission');
  t.equal((await call('DELETE', `/api/model/${othersList.id}/`, 'pam')).statusCode, 403);
  const extra = em.create(ReadingList, { name: 'Doomed', owner: other.id } as never);
  await em.flush();
  t.equal((await call('DELETE', `/api/model/${extra.id}/`, 'grace')).statusCode, 204);
});

t.test('DjangoModelPermissionsOrAnonReadOnly lets anonymous clients read only', async (t) => {
  t.equal((await call('GET', '/api/modelanon/', null)).statusCode, 200);
  t.equal((await call('POST', '/api/modelanon/', null, { name: 'x' })).statusCode, 401);
});

t.test('composed permissions: and, or and object-level checks on item routes', async (t) => {
  t.equal((await call('GET', `/api/composed/${ownList.id}/`, 'pam')).statusCode, 200, 'the owner');
  const foreign = await call('GET', `/api/composed/${othersList.id}/`, 'pam');
  t.equal(foreign.statusCode, 403, 'visible in the queryset, refused by the object check');
  t.same(foreign.json(), { detail: 'You do not have permission to perform this action.' });
  t.equal((await call('PATCH', `/api/composed/${othersList.id}/`, 'pam', { name: 'x' })).statusCode, 403);
  t.equal((await call('GET', `/api/composed/${othersList.id}/`, 'stan')).statusCode, 200, 'staff pass through the or');
  t.equal((await call('GET', '/api/composed/', 'pam')).statusCode, 200, 'lists have no object check');
  t.equal((await call('GET', '/api/composed/', null)).statusCode, 401);
});

t.test('composed permissions answer at once when their operands do, and wait only for operands that answer with a promise', async (t) => {
  const yes = { hasPermission: () => true };
  const no = { hasPermission: () => false, message: 'sync no' };
  const later = (answer: boolean) => ({ hasPermission: async () => answer, message: `async ${answer}` });
  const request = { user: null, method: 'GET' } as unknown as FastifyRequest;
  const view = new APIView();
  t.equal(and(yes, yes).hasPermission(request, view), true);
  t.equal(or(no, yes).hasPermission(request, view), true);
  t.equal(not(no).hasPermission(request, view), true);
  t.equal(and(yes, no).hasPermission(request, view), false);
  const waited = [and(yes, later(true)), and(later(true), no), or(no, later(false)), or(later(false), yes), not(later(true))].map((p) => p.hasPermission(request, view));
  t.ok(waited.every((answer) => answer instanceof Promise), 'a promise as soon as one operand answers with one');
  t.same(await Promise.all(waited), [true, false, false, true, false]);
  const refused = and(later(true), no);
  await refused.hasPermission(request, view);
  t.equal(refused.getMessage(request), 'sync no', 'the refusing operand gives the message, after an awaited one');
});

t.test('not() inverts, and custom messages replace the default', async (t) => {
  t.equal((await call('GET', '/api/negated/', 'pam')).statusCode, 200);
  const staffRes = await call('GET', '/api/negated/', 'stan');
  t.equal(staffRes.statusCode, 403);
  t.same(staffRes.json(), { detail: 'Staff use the staff pages.' });
  const message = await call('GET', '/api/messages/', 'pam');
  t.same(message.json(), { detail: 'Only staff may see this.' }, 'and() reports the message of the operand that refused');
  const anonymous = await call('GET', '/api/messages/', null);
  t.same(anonymous.json(), { detail: 'Authentication credentials were not provided.' }, 'anonymous requests get the authentication message');
});

t.test('OPTIONS lists only the actions the user may take', async (t) => {
  t.notOk((await call('OPTIONS', '/api/model/', 'pam')).json().actions, 'no add permission: no POST form');
  t.same(Object.keys((await call('OPTIONS', '/api/model/', 'ada')).json().actions), ['POST']);
  t.same(Object.keys((await call('OPTIONS', `/api/model/${ownList.id}/`, 'grace')).json().actions), ['PUT']);
  t.notOk((await call('OPTIONS', `/api/model/${ownList.id}/`, 'ada')).json().actions);
  t.notOk((await call('OPTIONS', `/api/composed/${othersList.id}/`, 'pam')).json().actions, 'object-level checks count');
  t.same(Object.keys((await call('OPTIONS', `/api/composed/${ownList.id}/`, 'pam')).json().actions), ['PUT']);
});

t.test('allowedMethods answers which methods a user may use on a view (for the browsable API)', async (t) => {
  const probe = async (username: string | null, id: number) => (await app.inject({ method: 'GET', url: `/probe/${id}`, headers: as(username) })).json();
  t.same(await probe('pam', ownList.id), { collection: ['GET'], item: ['GET', 'PUT', 'DELETE'] });
  t.same(await probe('pam', othersList.id), { collection: ['GET'], item: [] });
  t.same(await probe('ada', othersList.id), { collection: ['GET', 'POST'], item: [] });
  t.same(await probe('stan', othersList.id), { collection: ['GET'], item: ['GET', 'PUT', 'DELETE'] });
  t.same(await probe(null, ownList.id), { collection: [], item: [] });
});
