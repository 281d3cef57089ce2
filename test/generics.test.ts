import { defineEntity, p } from '@mikro-orm/core';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import t, { type Test } from 'tap';
import { Type } from 'typebox';
import {
  APIView,
  asView,
  contextEm,
  databasePlugin,
  DefaultRouter,
  fastrest,
  ModelSerializer,
  ModelViewSet,
  serverOptions,
  SimpleRouter,
  ValidationError,
  type AnyQueryBuilder,
  type Permission,
  type ViewMethodSchemas,
} from '../src/rest/index.ts';
import { entitiesApp } from './helpers.ts';

const Project = defineEntity({
  name: 'Project',
  tableName: 'gen_project',
  properties: {
    id: p.integer().primary().autoincrement(),
    name: p.string().length(50).unique(),
    team: p.string().length(20).default(''),
  },
});
const Task = defineEntity({
  name: 'Task',
  tableName: 'gen_task',
  properties: {
    id: p.integer().primary().autoincrement(),
    title: p.string().length(100),
    project: () => p.manyToOne(Project),
  },
});
const AuditEntry = defineEntity({
  name: 'AuditEntry',
  tableName: 'gen_audit',
  properties: { id: p.integer().primary().autoincrement(), message: p.string().length(200) },
});

class ProjectSerializer extends ModelSerializer.for(Project, { fields: ['id', 'name', 'team'], readOnlyFields: ['team'] }) {}
class TaskSerializer extends ModelSerializer.for(Task, { fields: ['id', 'title', 'project'] }) {}

const teamOf = (request: FastifyRequest) => String(request.headers['x-team'] ?? '');

/** Projects of the team named by `X-Team`; writes leave an audit entry in the same transaction. */
class ProjectViewSet extends ModelViewSet<ProjectSerializer> {
  readonly serializer = new ProjectSerializer();

  override getQueryset(request: FastifyRequest): AnyQueryBuilder {
    return super.getQueryset(request).andWhere({ team: teamOf(request) });
  }

  override async performCreate(request: FastifyRequest, data: Record<string, unknown>): Promise<object> {
    request.em.create(AuditEntry, { message: `create ${String(data['name'])}` });
    if (data['name'] === 'Taken meanwhile') await request.em.insert(Project, { name: 'Taken meanwhile', team: 'other' });
    const project = await super.performCreate(request, { ...data, team: teamOf(request) });
    if (data['name'] === 'Explode') throw new ValidationError({ name: ['Written, then refused.'] });
    return project;
  }

  override async performDestroy(request: FastifyRequest, instance: object): Promise<void> {
    request.em.create(AuditEntry, { message: `delete ${(instance as { name: string }).name}` });
    await super.performDestroy(request, instance);
  }
}

/** Tasks; a title of "Orphan" deletes the project between validation and the write. */
class TaskViewSet extends ModelViewSet<TaskSerializer> {
  readonly serializer = new TaskSerializer();
  override async performCreate(request: FastifyRequest, data: Record<string, unknown>): Promise<object> {
    if (data['title'] === 'Orphan') await request.em.nativeDelete(Project, { name: 'Short-lived' });
    return super.performCreate(request, data);
  }
}

const Stats = Type.Object({ projects: Type.Integer(), tasks: Type.Integer() }, { $id: 'Stats' });
const Message = Type.Object({ message: Type.String({ minLength: 1 }) }, { $id: 'AuditMessage', additionalProperties: false });
const allowUnlessRefused: Permission = { hasPermission: (request) => request.headers['x-refuse'] === undefined, message: 'Refused by header.' };

/** A plain view: counts (GET) and an audit note (POST, answered 204). */
class StatsView extends APIView {
  description = 'Counts of projects and tasks.';
  override permissionClasses = [allowUnlessRefused];
  methodSchemas: ViewMethodSchemas = {
    GET: { response: Stats, summary: 'Count everything' },
    POST: { request: Message, response: null },
  };

  async get(request: FastifyRequest) {
    return { projects: await request.em.count(Project, {}), tasks: await request.em.count(Task, {}) };
  }

  async post(request: FastifyRequest, _reply: FastifyReply) {
    request.em.create(AuditEntry, { message: (request.body as { message: string }).message });
    await request.em.flush();
  }
}

/** A plain view without declared schemas. */
class PingView extends APIView {
  async get() {
    return { pong: true };
  }
}

async function projectsApp(t: Test) {
  const router = new DefaultRouter()
    .register('projects', new ProjectViewSet(), { basename: 'project' })
    .register('tasks', new TaskViewSet(), { basename: 'task' })
    .register('stats', new StatsView());
  return entitiesApp(t, [Project, Task, AuditEntry], router, (app) => app.register(asView(new PingView(), { url: '/api/ping/', name: 'ping' })));
}

// One database and app for the whole file; each test counts what it changes.
const { app, client, count } = await projectsApp(t);

t.test('the queryset is per request: other rows are not listed and are 404 on item routes', async (t) => {
  const red = { headers: { 'x-team': 'red' } };
  const blue = { headers: { 'x-team': 'blue' } };
  const created = await client.post('/api/projects/', { name: 'Apollo' }, red);
  t.equal(created.statusCode, 201);
  t.equal(created.data.team, 'red', 'performCreate sets what the client may not send');
  const gemini = await client.post('/api/projects/', { name: 'Gemini', team: 'red' }, blue);
  t.same(
    (await client.get('/api/projects/', red)).data.results.map((p: { name: string }) => p.name),
    ['Apollo'],
  );
  t.same((await client.get('/api/projects/', blue)).data.results, [{ id: gemini.data.id, name: 'Gemini', team: 'blue' }], 'a read-only field sent is ignored');
  for (const res of [
    await client.get(`/api/projects/${created.data.id}/`, blue),
    await client.patch(`/api/projects/${created.data.id}/`, { name: 'Stolen' }, blue),
    await client.delete(`/api/projects/${created.data.id}/`, blue),
  ]) {
    t.equal(res.statusCode, 404);
    t.same(res.data, { detail: 'Not found.' });
  }
  t.equal((await client.get(`/api/projects/${created.data.id}/`, red)).data.name, 'Apollo');
});

t.test('a write that fails after writing rolls every row of it back', async (t) => {
  const [projects, audits] = [await count('gen_project'), await count('gen_audit')];
  const res = await client.post('/api/projects/', { name: 'Explode' });
  t.equal(res.statusCode, 400);
  t.same(res.data, { name: ['Written, then refused.'] });
  t.equal(await count('gen_project'), projects, 'no project');
  t.equal(await count('gen_audit'), audits, 'and no audit entry of it');
  t.equal((await client.post('/api/projects/', { name: 'Mercury' })).statusCode, 201);
  t.equal(await count('gen_audit'), audits + 1, 'a successful write keeps its audit entry');
});

t.test('unique values are refused before any write, and a concurrent one is still a 400', async (t) => {
  await client.post('/api/projects/', { name: 'Vostok' });
  const audits = await count('gen_audit');
  const duplicate = await client.post('/api/projects/', { name: 'Vostok' });
  t.equal(duplicate.statusCode, 400);
  t.same(duplicate.data, { name: ['project with this name already exists.'] });
  t.equal(await count('gen_audit'), audits, 'performCreate never ran');
  const raced = await client.post('/api/projects/', { name: 'Taken meanwhile' });
  t.equal(raced.statusCode, 400);
  t.same(raced.data, { name: ['project with this name already exists.'] }, 'the database refusal becomes the field error');
  t.equal(await count('gen_audit'), audits, 'and the transaction was rolled back');
});

t.test('a related object deleted between validation and the write is a 400', async (t) => {
  const [projects, tasks] = [await count('gen_project'), await count('gen_task')];
  const project = (await client.post('/api/projects/', { name: 'Short-lived' })).data;
  const res = await client.post('/api/tasks/', { title: 'Orphan', project: project.id });
  t.equal(res.statusCode, 400);
  t.same(res.data, { project: ['The related object does not exist.'] });
  t.equal(await count('gen_project'), projects + 1, 'the deletion inside the failed write was rolled back too');
  t.equal(await count('gen_task'), tasks);
});

t.test('deleting an object other rows refer to is a 409, and deletes nothing', async (t) => {
  const project = (await client.post('/api/projects/', { name: 'Voskhod' })).data;
  const task = (await client.post('/api/tasks/', { title: 'Launch', project: project.id })).data;
  const [projects, audits] = [await count('gen_project'), await count('gen_audit')];
  const res = await client.delete(`/api/projects/${project.id}/`);
  t.equal(res.statusCode, 409);
  t.same(res.data, { detail: 'Cannot delete this project: other objects refer to it.' });
  t.equal(await count('gen_project'), projects);
  t.equal(await count('gen_audit'), audits, "performDestroy's audit entry was rolled back");
  await client.delete(`/api/tasks/${task.id}/`);
  t.equal((await client.delete(`/api/projects/${project.id}/`)).statusCode, 204);
});

t.test('a plain APIView is routed by the router, its methods as handlers', async (t) => {
  t.equal(app.urls.path('stats'), '/api/stats/');
  const get = await client.get('/api/stats/');
  t.equal(get.statusCode, 200);
  t.same(get.data, { projects: await count('gen_project'), tasks: await count('gen_task') });
  const audits = await count('gen_audit');
  t.equal(get.headers['allow'], 'GET, POST, HEAD, OPTIONS');
  const post = await client.post('/api/stats/', { message: 'hello' });
  t.equal(post.statusCode, 204);
  t.equal(post.body, '');
  t.equal(await count('gen_audit'), audits + 1);
  t.same((await client.post('/api/stats/', { message: '' })).data, { message: ['This field may not be blank.'] }, 'the declared body validates');
  const put = await client.put('/api/stats/', {});
  t.equal(put.statusCode, 405);
  t.same(put.data, { detail: 'Method "PUT" not allowed.' });
  t.equal(put.headers['allow'], 'GET, POST, HEAD, OPTIONS');
  const head = await client.head('/api/stats/');
  t.equal(head.statusCode, 200);
  t.equal(head.body, '');
  const options = await client.options('/api/stats/');
  t.match(options.data, { name: 'Stats', description: 'Counts of projects and tasks.', renders: ['application/json'] });
  const refused = await client.get('/api/stats/', { headers: { 'x-refuse': '1' } });
  t.equal(refused.statusCode, 403, "the view's policies run first");
  t.same(refused.data, { detail: 'Refused by header.' });
  t.same((await client.get('/api/')).data, { projects: 'http://localhost:80/api/projects/', tasks: 'http://localhost:80/api/tasks/' }, 'the API root lists viewsets only');
});

t.test('a plain APIView may be registered as a single route', async (t) => {
  t.equal(app.urls.path('ping'), '/api/ping/');
  const res = await client.get('/api/ping');
  t.equal(res.statusCode, 200);
  t.same(res.data, { pong: true });
  t.equal((await client.delete('/api/ping/')).headers['allow'], 'GET, HEAD, OPTIONS');
});

t.test('plain views are in OpenAPI with their declared schemas', async (t) => {
  const doc = (await client.get('/openapi.json')).data;
  const get = doc.paths['/api/stats/'].get;
  t.equal(get.operationId, 'getStats');
  t.equal(get.summary, 'Count everything');
  t.same(get.responses['200'].content['application/json'].schema, { $ref: '#/components/schemas/Stats' });
  const post = doc.paths['/api/stats/'].post;
  t.equal(post.operationId, 'postStats');
  t.same(post.requestBody.content['application/json'].schema, { $ref: '#/components/schemas/AuditMessage' });
  t.ok(post.responses['204']);
  t.equal(doc.paths['/api/ping/'].get.operationId, 'getPing');
});

t.test('a plain view without handlers is a setup error', async (t) => {
  const app = Fastify(serverOptions());
  await app.register(fastrest);
  await t.rejects(async () => app.register(new SimpleRouter().register('empty', new APIView()).plugin('/api')), { code: 'FASTREST_ERR_VIEW_CONFIG' });
  await app.close().catch(() => undefined);
  t.throws(() => new SimpleRouter().register('stats', new StatsView()).register('stats', new PingView()), { code: 'FASTREST_ERR_ROUTER_BASENAME' });
});

t.test("the serializer context is the request's EntityManager and request, and keeps them when assigned onto (a spread keeps the request)", async (t) => {
  const view = new ProjectViewSet();
  const probe = Fastify();
  await probe.register(databasePlugin, { orm: app.orm, closeOnExit: false });
  probe.get('/ctx', async (request) => {
    const ctx = view.getSerializerContext(request);
    const extended = Object.assign(view.getSerializerContext(request), { extra: 1 });
    const spread = { ...view.getSerializerContext(request), extra: 1 };
    return {
      sameRequest: ctx.request === request,
      em: ctx.em === request.em,
      forked: ctx.em !== app.orm.em,
      extended: extended.em === request.em && extended.extra === 1,
      spread: 'em' in spread ? 'kept' : contextEm(spread) === request.em ? 'request.em' : 'lost',
    };
  });
  t.teardown(() => probe.close());
  t.same((await probe.inject('/ctx')).json(), { sameRequest: true, em: true, forked: true, extended: true, spread: 'request.em' }, 'a spread copy loses the em getter; fields find request.em through contextEm');
});
