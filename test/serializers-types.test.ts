/**
 * Static typing of serializers, declared fields and extra actions. The checks are compile-time:
 * `npx tsc --noEmit -p .` fails when a type stops matching, and every `@ts-expect-error` line
 * fails it when the error it expects disappears. The runtime part checks the same declarations build.
 */
import { defineEntity, p } from '@mikro-orm/core';
import t from 'tap';
import { Type } from 'typebox';
import {
  action,
  HyperlinkedIdentityField,
  HyperlinkedRelatedField,
  many,
  ModelSerializer,
  ModelViewSet,
  NestedField,
  PrimaryKeyRelatedField,
  SlugRelatedField,
  type SerializerInput,
  type SerializerOutput,
} from '../src/rest/index.ts';

/** True when A and B are the same type: each assignable to the other, and neither is `any`. */
type IsAny<T> = 0 extends 1 & T ? true : false;
type Same<A, B> = IsAny<A> extends true ? false : IsAny<B> extends true ? false : [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const same = <A, B>(value: Same<A, B>) => value;

const Writer = defineEntity({
  name: 'Writer',
  tableName: 'types_writer',
  properties: {
    id: p.integer().primary().autoincrement(),
    name: p.string().length(100).unique(),
    bio: p.text().default(''),
    novels: () => p.oneToMany(Novel).mappedBy('writer'),
  },
});
const Novel = defineEntity({
  name: 'Novel',
  tableName: 'types_novel',
  properties: {
    id: p.integer().primary().autoincrement(),
    title: p.string().length(200),
    writer: () => p.manyToOne(Writer),
    editor: () => p.manyToOne(Writer).nullable(),
    secret: p.string().default(''),
    createdAt: p.datetime().onCreate(() => new Date()),
  },
});

class WriterSerializer extends ModelSerializer.for(Writer, { fields: ['id', 'name', 'bio'], readOnlyFields: ['id'] }) {}

class NovelSerializer extends ModelSerializer.for(Novel, {
  fields: ['url', 'id', 'title', 'writer', 'writerDetail', 'editor', 'secret', 'createdAt'],
  declaredFields: {
    url: new HyperlinkedIdentityField({ viewName: 'novel-detail' }),
    writer: new SlugRelatedField({ entity: Writer, slugField: 'name' }),
    writerDetail: new NestedField(WriterSerializer, { source: 'writer' }),
  },
  readOnlyFields: ['id', 'createdAt'],
  writeOnlyFields: ['secret'],
}) {}

type NovelOut = SerializerOutput<NovelSerializer>;
type NovelIn = SerializerInput<NovelSerializer>;

// Responses: declared fields show their representation, columns their JSON value.
same<NovelOut['url'], string>(true);
same<NovelOut['writer'], string>(true);
same<NovelOut['writerDetail'], { id: number; name: string; bio: string }>(true);
same<NovelOut['editor'], number | null>(true);
same<NovelOut['createdAt'], string>(true);
same<keyof NovelOut, 'url' | 'id' | 'title' | 'writer' | 'writerDetail' | 'editor' | 'createdAt'>(true);
const shown = {} as NovelOut;
// @ts-expect-error a write-only field is never in a response
void shown.secret;

// Requests: read-only fields (declared or listed) are not sent; a column with a default or null is optional.
same<keyof NovelIn, 'title' | 'writer' | 'editor' | 'secret'>(true);
const valid: NovelIn = { title: 'Dune', writer: 'Frank Herbert' };
void valid;
// @ts-expect-error the writer's slug is a string, not a primary key
const wrongSlug: NovelIn = { title: 'Dune', writer: 3 };
void wrongSlug;
// @ts-expect-error title is required
const missing: NovelIn = { writer: 'Frank Herbert' };
void missing;

// A writable nested object takes the nested serializer's input; a many relation is a list.
class EditedNovelSerializer extends ModelSerializer.for(Novel, {
  name: 'EditedNovel',
  fields: ['id', 'title', 'writer', 'editor'],
  declaredFields: {
    writer: new NestedField(WriterSerializer, { writable: true }),
    editor: new HyperlinkedRelatedField({ entity: Writer, viewName: 'writer-detail' }),
  },
}) {}
same<SerializerInput<EditedNovelSerializer>["writer"], { name: string; bio?: string }>(true);
same<SerializerOutput<EditedNovelSerializer>['editor'], string | null>(true);

class WriterWithNovels extends ModelSerializer.for(Writer, {
  name: 'WriterWithNovels',
  fields: ['id', 'name', 'novelIds', 'novelTitles'],
  declaredFields: {
    novelIds: new PrimaryKeyRelatedField({ entity: Novel, source: 'novels', many: true }),
    novelTitles: new SlugRelatedField({ entity: Novel, slugField: 'title', source: 'novels', many: true }),
  },
}) {}
same<SerializerOutput<WriterWithNovels>['novelIds'], number[]>(true);
same<SerializerOutput<WriterWithNovels>['novelTitles'], string[]>(true);
same<keyof SerializerInput<WriterWithNovels>, 'name'>(true);

// '__all__' stands for every property but to-many relations; exclude removes some.
class AllWriter extends ModelSerializer.for(Writer, { name: 'AllWriter', fields: '__all__' }) {}
same<keyof SerializerOutput<AllWriter>, 'id' | 'name' | 'bio'>(true);
class SomeNovel extends ModelSerializer.for(Novel, { name: 'SomeNovel', exclude: ['secret', 'editor'] }) {}
same<keyof SerializerOutput<SomeNovel>, 'id' | 'title' | 'writer' | 'createdAt'>(true);

// Misdeclarations do not compile.
// @ts-expect-error a field the entity does not have
class Typo extends ModelSerializer.for(Writer, { fields: ['nmae'] }) {}
// @ts-expect-error extraKwargs only for listed fields
class StrayKwargs extends ModelSerializer.for(Writer, { fields: ['name'], extraKwargs: { bio: { label: 'Bio' } } }) {}
// @ts-expect-error readOnlyFields only among listed fields
class StrayReadOnly extends ModelSerializer.for(Writer, { fields: ['name'], readOnlyFields: ['bio'] }) {}
// @ts-expect-error a slug must be a property of the related entity
new SlugRelatedField({ entity: Writer, slugField: 'nickname' });
// @ts-expect-error the object's own URL reads the whole object: it takes no source
new HyperlinkedIdentityField({ viewName: 'novel-detail', source: 'title' });
void [Typo, StrayKwargs, StrayReadOnly];

// Extra actions: the handler returns what the declared response says, and sees the declared body.
const Rename = Type.Object({ title: Type.String() });
class NovelViewSet extends ModelViewSet<NovelSerializer> {
  readonly serializer = new NovelSerializer();
  override extraActions = [
    action({ name: 'count', detail: false, response: Type.Object({ count: Type.Integer() }), handler: async () => ({ count: 1 }) }),
    action({ name: 'rename', detail: true, methods: ['POST'], request: Rename, response: null, handler: async (request) => void request.body.title.toUpperCase() }),
    action({ name: 'same', detail: false, response: many(this.serializer), handler: async () => [] as NovelOut[] }),
    // @ts-expect-error the handler must answer the declared response
    action({ name: 'wrong', detail: false, response: Type.Object({ count: Type.Integer() }), handler: async () => ({ count: 'one' }) }),
    // @ts-expect-error a serializer response is its representation
    action({ name: 'entity', detail: true, response: this.serializer, handler: async () => ({ title: 'only' }) }),
  ];
}

t.test('the typed declarations build the fields they describe', async (t) => {
  t.same(new NovelSerializer().fieldNames, ['url', 'id', 'title', 'writer', 'writerDetail', 'editor', 'secret', 'createdAt']);
  t.same(new AllWriter().fieldNames, ['id', 'name', 'bio']);
  t.same(new SomeNovel().fieldNames, ['id', 'title', 'writer', 'createdAt']);
  t.same(
    new NovelViewSet().getExtraActions().map((a) => [a.name, a.status]),
    [
      ['count', 200],
      ['rename', 204],
      ['same', 200],
      ['wrong', 200],
      ['entity', 200],
    ],
  );
  t.equal(new WriterWithNovels().fields.find((f) => f.name === 'novelIds')?.readOnly, true, 'a to-many relation is read-only');
});
