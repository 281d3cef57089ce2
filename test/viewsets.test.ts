import { defineEntity, p } from '@mikro-orm/core';
import t, { type Test } from 'tap';
import { Type } from 'typebox';
import {
  action,
  DefaultRouter,
  GenericViewSet,
  many,
  ModelSerializer,
  ModelViewSet,
  ReadOnlyModelViewSet,
  RetrieveUpdateAPIView,
  SimpleRouter,
  type SerializerOutput,
  type StandardAction,
} from '../src/rest/index.ts';
import { entitiesApp } from './helpers.ts';

const Note = defineEntity({
  name: 'Note',
  tableName: 'vs_note',
  properties: {
    id: p.integer().primary().autoincrement(),
    title: p.string().length(100),
    body: p.text().default(''),
    pinned: p.boolean().default(false),
  },
});

class NoteSerializer extends ModelSerializer.for(Note, { fields: ['id', 'title', 'body', 'pinned'], readOnlyFields: ['pinned'] }) {}
class NoteTitleSerializer extends ModelSerializer.for(Note, { name: 'NoteTitle', fields: ['id', 'title'] }) {}

const NoteStats = Type.Object({ total: Type.Integer(), pinned: Type.Integer() }, { $id: 'NoteStats' });
const Rename = Type.Object({ title: Type.String({ minLength: 1, maxLength: 100 }) }, { $id: 'NoteRename', additionalProperties: false });

/** Notes with extra actions on the collection and on an item. */
class NoteViewSet extends ModelViewSet<NoteSerializer> {
  readonly serializer = new NoteSerializer();
  readonly titles = new NoteTitleSerializer();
  override extraActions = [
    action({
      name: 'pinned',
      detail: false,
      response: many(this.serializer),
      handler: async (request) => (await this.represent(request, await request.em.find(Note, { pinned: true }, { orderBy: { id: 'asc' } }))) as SerializerOutput<NoteSerializer>[],
    }),
    action({
      name: 'stats',
      detail: false,
      response: NoteStats,
      handler: async (request) => ({ total: await request.em.count(Note, {}), pinned: await request.em.count(Note, { pinned: true }) }),
    }),
    action({
      name: 'pin',
      detail: true,
      methods: ['POST', 'DELETE'],
      response: this.serializer,
      handler: async (request) => {
        const note = (await this.getObject(request)) as { pinned: boolean };
        note.pinned = request.method === 'POST';
        await request.em.flush();
        return (await this.represent(request, [note]))[0] as SerializerOutput<NoteSerializer>;
      },
    }),
    action({
      name: 'setTitle',
      detail: true,
      methods: ['PUT'],
      urlPath: 'title',
      request: Rename,
      response: null,
      handler: async (request) => {
        const note = (await this.getObject(request)) as { title: string };
        note.title = request.body.title;
        await request.em.flush();
      },
    }),
  ];

  /** The list shows titles only (DRF's `get_serializer_class` switching on `self.action`). */
  override actionSerializers = { list: this.titles };
}

class ReadOnlyNotes extends ReadOnlyModelViewSet<NoteSerializer> {
  readonly serializer = new NoteSerializer();
}
class ListCreateNotes extends GenericViewSet<NoteSerializer> {
  readonly serializer = new NoteSerializer();
  readonly actions: readonly StandardAction[] = ['list', 'create'];
}
class EditableNote extends RetrieveUpdateAPIView<NoteSerializer> {
  readonly serializer = new NoteSerializer();
}

async function notesApp(t: Test) {
  const router = new DefaultRouter()
    .register('notes', new NoteViewSet(), { basename: 'note' })
    .register('read-only-notes', new ReadOnlyNotes(), { basename: 'read-only-note' })
    .register('new-notes', new ListCreateNotes(), { basename: 'new-note' })
    .register('editable-notes', new EditableNote(), { basename: 'editable-note' });
  const { app, client } = await entitiesApp(t, [Note], router);
  client.credentials({ host: 'testserver' });
  for (const title of ['First', 'Second', 'Third']) await client.post('/api/notes/', { title });
  return { app, client };
}

// One database and app for the whole file: notes 1, 2 and 3 are "First", "Second" and "Third".
const { app, client } = await notesApp(t);

t.test('extra actions are routed on the collection and on an item, with names', async (t) => {
  t.equal(app.urls.path('note-pinned'), '/api/notes/pinned/');
  t.equal(app.urls.path('note-stats'), '/api/notes/stats/');
  t.equal(app.urls.path('note-pin', { id: 2 }), '/api/notes/2/pin/');
  t.equal(app.urls.path('note-title', { id: 2 }), '/api/notes/2/title/', 'urlPath names the route too');

  const pin = await client.post('/api/notes/2/pin/');
  t.equal(pin.statusCode, 200);
  t.same(pin.data, { id: 2, title: 'Second', body: '', pinned: true });
  const pinned = await client.get('/api/notes/pinned/');
  t.equal(pinned.statusCode, 200);
  t.same(pinned.data, [{ id: 2, title: 'Second', body: '', pinned: true }], 'a collection action is not taken for an item id');
  t.same((await client.get('/api/notes/stats/')).data, { total: 3, pinned: 1 });
  const unpin = await client.delete('/api/notes/2/pin/');
  t.equal(unpin.data.pinned, false, 'one action may answer several methods');
  const rename = await client.put('/api/notes/3/title/', { title: 'Renamed' });
  t.equal(rename.statusCode, 204);
  t.equal(rename.body, '');
  t.equal((await client.get('/api/notes/3/')).data.title, 'Renamed');
  const invalid = await client.put('/api/notes/3/title/', { title: '' });
  t.same(invalid.data, { title: ['This field may not be blank.'] }, "the action's body schema validates the body");
  t.equal((await client.post('/api/notes/99/pin/')).statusCode, 404, 'an item action on a missing object is a 404');
  t.equal((await client.post('/api/notes/abc/pin/')).statusCode, 404);
});

t.test("an item lookup reads a numeric key as decimal text, as Django's int() does, so 0x1 and 1e0 are 404s", async (t) => {
  for (const key of ['0x1', '1e0', '0b1', '0o1', '1.0', 'Infinity']) {
    const res = await client.get(`/api/notes/${key}/`);
    t.equal(res.statusCode, 404, key);
    t.same(res.data, { detail: 'Not found.' }, key);
  }
  t.equal((await client.post('/api/notes/0x2/pin/')).statusCode, 404, 'item actions too');
  for (const key of ['1', '+1', '%201', '001']) t.equal((await client.get(`/api/notes/${key}/`)).data.title, 'First', key);
});

t.test('extra action routes answer Allow, OPTIONS, HEAD and 405 like the others', async (t) => {
  const wrong = await client.get('/api/notes/1/pin/');
  t.equal(wrong.statusCode, 405);
  t.same(wrong.data, { detail: 'Method "GET" not allowed.' });
  t.equal(wrong.headers['allow'], 'POST, DELETE, OPTIONS');
  const post = await client.post('/api/notes/stats/');
  t.equal(post.statusCode, 405);
  t.equal(post.headers['allow'], 'GET, HEAD, OPTIONS');
  const head = await client.head('/api/notes/stats/');
  t.equal(head.statusCode, 200);
  t.equal(head.body, '');
  const options = await client.options('/api/notes/1/pin/');
  t.equal(options.statusCode, 200);
  t.equal(options.data.name, 'Note Instance');
  t.equal((await client.get('/api/notes/pinned.json')).statusCode, 200, 'format suffixes reach extra actions too');
});

t.test('the action of a request picks the serializer, and its schemas', async (t) => {
  t.same((await client.get('/api/notes/')).data.results[0], { id: 1, title: 'First' }, 'list uses the titles serializer');
  t.same((await client.get('/api/notes/1/')).data, { id: 1, title: 'First', body: '', pinned: false });
  const doc = (await client.get('/openapi.json')).data;
  t.same(doc.paths['/api/notes/'].get.responses['200'].content['application/json'].schema, { $ref: '#/components/schemas/PaginatedNoteTitleList' }, 'the list is paginated by default');
  t.same(doc.paths['/api/notes/'].post.responses['201'].content['application/json'].schema, { $ref: '#/components/schemas/Note' });
});

t.test('extra actions are in OpenAPI with their own schemas and operationIds', async (t) => {
  const doc = (await client.get('/openapi.json')).data;
  const op = (path: string, method: string) => doc.paths[path][method];
  t.equal(op('/api/notes/pinned/', 'get').operationId, 'pinnedNote');
  t.same(op('/api/notes/pinned/', 'get').responses['200'].content['application/json'].schema, { type: 'array', items: { $ref: '#/components/schemas/Note' } });
  t.equal(op('/api/notes/stats/', 'get').operationId, 'statsNote');
  t.same(op('/api/notes/stats/', 'get').responses['200'].content['application/json'].schema, { $ref: '#/components/schemas/NoteStats' });
  t.ok(doc.components.schemas.NoteStats, 'a named TypeBox schema becomes a component');
  t.equal(op('/api/notes/{id}/pin/', 'post').operationId, 'pinNotePost', 'several methods get one operationId each');
  t.equal(op('/api/notes/{id}/pin/', 'delete').operationId, 'pinNoteDelete');
  t.same(op('/api/notes/{id}/pin/', 'post').parameters.map((p: { name: string; in: string; $ref?: string }) => p.$ref ?? [p.in, p.name]), [['path', 'id'], '#/components/parameters/Format']);
  const title = op('/api/notes/{id}/title/', 'put');
  t.equal(title.operationId, 'setTitleNote');
  t.same(title.requestBody.content['application/json'].schema, { $ref: '#/components/schemas/NoteRename' });
  t.ok(title.responses['204']);
  t.ok(title.responses['400'], 'a body means a 400 is documented');
  t.notOk(doc.paths['/api/notes/{id}/pinned/'], 'a collection action has no item route');
});

t.test('a viewset serves only the actions it lists', async (t) => {
  const created = await client.post('/api/new-notes/', { title: 'New' });
  t.equal(created.statusCode, 201);
  t.notOk(created.headers['location'], 'no item route: no Location');
  t.equal((await client.get('/api/new-notes/')).statusCode, 200);
  t.notOk(app.urls.has('new-note-detail'), 'no item actions: no item route');
  t.equal((await client.get('/api/new-notes/1/')).statusCode, 404);

  t.notOk(app.urls.has('editable-note-list'));
  const item = await client.get('/api/editable-notes/3/');
  t.equal(item.headers['allow'], 'GET, PUT, PATCH, HEAD, OPTIONS');
  t.equal((await client.patch('/api/editable-notes/3/', { body: 'Edited' })).data.body, 'Edited');
  const del = await client.delete('/api/editable-notes/3/');
  t.equal(del.statusCode, 405);
});

t.test('a read-only viewset refuses writes with 405', async (t) => {
  const count = (await client.get('/api/read-only-notes/')).data.count;
  t.ok(count >= 3);
  const create = await client.post('/api/read-only-notes/', { title: 'Nope' });
  t.equal(create.statusCode, 405);
  t.same(create.data, { detail: 'Method "POST" not allowed.' });
  t.equal(create.headers['allow'], 'GET, HEAD, OPTIONS');
  for (const method of ['put', 'patch', 'delete'] as const) {
    const res = method === 'delete' ? await client.delete('/api/read-only-notes/1/') : await client[method]('/api/read-only-notes/1/', { title: 'Nope' });
    t.equal(res.statusCode, 405, method);
    t.equal(res.headers['allow'], 'GET, HEAD, OPTIONS', method);
  }
  t.equal((await client.get('/api/read-only-notes/1/')).data.title, 'First', 'nothing changed');
  t.equal((await client.get('/api/read-only-notes/')).data.count, count);
});

t.test('extra actions that clash with other routes are setup errors', async (t) => {
  for (const [label, extra] of [
    ['a standard action name', action({ name: 'list', detail: false, handler: async () => null })],
    ['the list route name', action({ name: 'all', detail: false, urlName: 'list', handler: async () => null })],
  ] as const) {
    class Clashing extends ModelViewSet<NoteSerializer> {
      readonly serializer = new NoteSerializer();
      override extraActions = [extra];
    }
    t.throws(() => new SimpleRouter().getRoutes(new Clashing()), { code: 'FASTREST_ERR_ACTION_CONFIG' }, label);
  }
  class Twice extends ModelViewSet<NoteSerializer> {
    readonly serializer = new NoteSerializer();
    override extraActions = [action({ name: 'a', detail: true, urlPath: 'x', handler: async () => null }), action({ name: 'b', detail: true, urlPath: 'x', handler: async () => null })];
  }
  t.throws(() => new SimpleRouter().getRoutes(new Twice()), { code: 'FASTREST_ERR_ACTION_CONFIG' }, 'two actions on one path');
  class Apart extends ModelViewSet<NoteSerializer> {
    readonly serializer = new NoteSerializer();
    override extraActions = [
      action({ name: 'a', detail: true, urlPath: 'x', handler: async () => null }),
      action({ name: 'b', detail: false, urlPath: 'x', urlName: 'x-list', handler: async () => null }),
    ];
  }
  t.same(
    new SimpleRouter().getRoutes(new Apart()).map((r) => [r.url, r.name]),
    [
      ['/{prefix}/', '{basename}-list'],
      ['/{prefix}/x/', '{basename}-x-list'],
      ['/{prefix}/:{lookup}/', '{basename}-detail'],
      ['/{prefix}/:{lookup}/x/', '{basename}-x'],
    ],
    'routes come in DRF order',
  );
});
