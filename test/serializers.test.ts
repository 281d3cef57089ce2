import { defineEntity, p } from '@mikro-orm/core';
import t from 'tap';
import { migrationsPath } from '../src/library/config.ts';
import { labelOf, ModelSerializer, SetupError, ValidationError, createTestDatabase, type ValidationContext } from '../src/rest/index.ts';

/** A small entity with one property of each kind the serializer derives rules from. */
const Widget = defineEntity({
  name: 'Widget',
  tableName: 'test_widget',
  properties: {
    id: p.integer().primary().autoincrement(),
    name: p.string().length(20),
    note: p.string().nullable(),
    kind: p.enum(['small', 'large']).default('small'),
    size: p.enum(['s', 'm']).nullable(),
    motto: p.string().length(40).default(''),
    code: p.string().length(8).unique(),
    secret: p.string().default('hunter2'),
    stock: p.integer().default(0),
    weight: p.double().nullable(),
    comment: p.string().comment('Shown under the field.').nullable(),
    createdAt: p.datetime().onCreate(() => new Date()),
    updatedAt: p.datetime().onCreate(() => new Date()).onUpdate(() => new Date()),
  },
});

const allFields = ['id', 'name', 'note', 'kind', 'size', 'motto', 'code', 'secret', 'stock', 'weight', 'comment', 'createdAt', 'updatedAt'] as const;

class WidgetSerializer extends ModelSerializer.for(Widget, { fields: allFields, writeOnlyFields: ['secret'] }) {}

const byName = (serializer: ModelSerializer, name: string) => serializer.fields.find((f) => f.name === name)!;
const props = (schema: object) => (schema as { properties: Record<string, Record<string, unknown>> }).properties;
const required = (schema: object) => (schema as { required: string[] }).required;

t.test('whether a field is required derives from its column', async (t) => {
  const s = new WidgetSerializer();
  t.equal(byName(s, 'name').required, true, 'not null without a default: required');
  t.equal(byName(s, 'note').required, false, 'nullable: optional');
  t.equal(byName(s, 'note').allowNull, true);
  t.equal(byName(s, 'kind').required, false, 'a default: optional');
  t.equal(byName(s, 'stock').required, false, 'a default of 0: optional');
  t.equal(byName(s, 'createdAt').required, false, 'filled by onCreate: optional');
  t.equal(byName(s, 'id').required, false, 'an autoincrement key: optional');
  t.same(required(s.schemas.request), ['name', 'code'], 'the request schema requires exactly those');
  t.same(required(s.schemas.patch), [], 'a partial update requires nothing');
});

t.test('a required option overrides what the column says', async (t) => {
  class S extends ModelSerializer.for(Widget, { fields: ['name', 'note'], extraKwargs: { name: { required: false }, note: { required: true } } }) {}
  t.same(required(new S().schemas.request), ['note']);
});

t.test('a string may be blank only when its default is the empty string', async (t) => {
  const s = new WidgetSerializer();
  t.notOk('minLength' in byName(s, 'motto').schema, 'default "" allows blank');
  t.equal(byName(s, 'name').schema['minLength'], 1, 'no default: may not be blank');
  t.equal(byName(s, 'secret').schema['minLength'], 1, 'a non-empty default: may not be blank');
  t.notOk('minLength' in byName(s, 'kind').schema, 'choices are not strings to fill in');
  t.notOk('minLength' in byName(s, 'createdAt').schema, 'formatted strings are checked by their format');
  class S extends ModelSerializer.for(Widget, { fields: ['name', 'motto'], extraKwargs: { name: { allowBlank: true }, motto: { allowBlank: false } } }) {}
  const overridden = new S();
  t.notOk('minLength' in byName(overridden, 'name').schema, 'allowBlank: true drops the minimum');
  t.equal(byName(overridden, 'motto').schema['minLength'], 1, 'allowBlank: false adds it');
});

t.test('primary keys and generated columns are read-only, and so are readOnlyFields', async (t) => {
  const s = new WidgetSerializer();
  for (const name of ['id', 'createdAt', 'updatedAt']) {
    t.equal(byName(s, name).readOnly, true, name);
    t.equal(props(s.schemas.response)[name]!['readOnly'], true, `${name} is readOnly in the response schema`);
    t.notOk(name in props(s.schemas.request), `${name} is not in the request schema`);
  }
  t.notOk('readOnly' in props(s.schemas.response)['name']!, 'a writable field carries no readOnly');
  t.notOk('readOnly' in byName(s, 'createdAt').schema, 'the field schema itself has no marker');

  class S extends ModelSerializer.for(Widget, { fields: ['id', 'name', 'code'], readOnlyFields: ['code'] }) {}
  const ro = new S();
  t.equal(props(ro.schemas.response)['code']!['readOnly'], true);
  t.notOk('code' in props(ro.schemas.request));
  t.notOk('code' in props(ro.schemas.patch));
  t.same(required(ro.schemas.request), ['name'], 'a read-only field is never required');
  t.same(ro.writableFields.map((f) => f.name), ['name']);
});

t.test('write-only fields are accepted in requests and never shown', async (t) => {
  const s = new WidgetSerializer();
  t.notOk('secret' in props(s.schemas.response), 'absent from the response schema');
  t.notOk(required(s.schemas.response).includes('secret'));
  t.equal(props(s.schemas.request)['secret']!['writeOnly'], true);
  t.equal(props(s.schemas.patch)['secret']!['writeOnly'], true);
  t.notOk(s.readableFieldNames.includes('secret'));
  const out = s.toRepresentation({ id: 1, name: 'n', secret: 'hidden', createdAt: new Date('2024-01-02T03:04:05Z') }) as Record<string, unknown>;
  t.notOk('secret' in out);
  t.equal(out['createdAt'], '2024-01-02T03:04:05.000Z', 'dates are shown as ISO 8601 strings');
});

t.test('enums become a list of choices, and nullable columns accept null', async (t) => {
  const s = new WidgetSerializer();
  t.same(byName(s, 'kind').schema, { type: 'string', enum: ['small', 'large'], default: 'small' });
  t.same(byName(s, 'size').schema, { type: ['string', 'null'], enum: ['s', 'm', null] }, 'a nullable enum lists null among its choices');
  t.same(byName(s, 'note').schema['type'], ['string', 'null']);
  t.same(byName(s, 'weight').schema, { type: ['number', 'null'] });
  t.same(byName(s, 'name').schema['type'], 'string', 'a not-null column is a plain type');
  t.same(byName(s, 'stock').schema, { type: 'integer', minimum: -2147483648, maximum: 2147483647, default: 0 }, 'an integer column holds what PostgreSQL integer holds');
  t.same(byName(s, 'name').schema['maxLength'], 20, 'the column length is the maximum length');
});

t.test('every mapped ORM type has a JSON Schema', async (t) => {
  const Sample = defineEntity({
    name: 'Sample',
    properties: {
      id: p.uuid().primary(),
      flag: p.boolean(),
      day: p.date(),
      hour: p.time(),
      amount: p.decimal(),
      big: p.bigint(),
      ratio: p.float(),
      small: p.smallint(),
      body: p.text(),
      tags: p.array(),
      data: p.json().nullable(),
    },
  });
  class S extends ModelSerializer.for(Sample, { fields: ['id', 'flag', 'day', 'hour', 'amount', 'big', 'ratio', 'small', 'body', 'tags', 'data'] }) {}
  const s = new S();
  const schema = (name: string) => byName(s, name).schema;
  t.same(schema('id'), { type: 'string', format: 'uuid' });
  t.equal(byName(s, 'id').readOnly, false, 'a uuid key is not generated by the database');
  t.same(schema('flag'), { type: 'boolean' });
  t.same(schema('day'), { type: 'string', format: 'date' });
  t.same(schema('hour'), { type: 'string', format: 'time' });
  t.same(schema('amount'), { type: 'string', pattern: '^-?[0-9]+(\\.[0-9]+)?$', minLength: 1, 'x-trim-whitespace': true });
  t.same(schema('big'), { type: 'string', pattern: '^-?[0-9]+$', minLength: 1, 'x-trim-whitespace': true });
  t.same(schema('ratio'), { type: 'number' });
  t.same(schema('small'), { type: 'integer', minimum: -32768, maximum: 32767 });
  t.same(schema('body'), { type: 'string', minLength: 1, pattern: '^[^\\u0000]*$', 'x-trim-whitespace': true }, 'text is trimmed and says in its pattern that it holds no null character');
  t.same(schema('tags'), { type: 'array', items: { type: 'string' } });
  t.same(schema('data'), {}, 'a nullable JSON column takes any value, null included');
});

t.test('a field the entity does not have is a setup error', async (t) => {
  class S extends ModelSerializer.for(Widget, { fields: ['name', 'colour' as 'name'] }) {}
  const s = new S();
  t.throws(() => s.schemas, { name: 'SetupError', code: 'FASTREST_ERR_SERIALIZER_FIELD', message: /Widget has no property "colour"/ });
  const error = (() => {
    try {
      return s.fields;
    } catch (caught) {
      return caught;
    }
  })();
  t.ok(error instanceof SetupError, 'a SetupError, never an HTTP error');
});

t.test('a property type with no schema mapping is a setup error', async (t) => {
  const Attachment = defineEntity({ name: 'Attachment', properties: { id: p.integer().primary(), content: p.blob() } });
  class S extends ModelSerializer.for(Attachment, { fields: ['id', 'content'] }) {}
  t.throws(() => new S().fields, { code: 'FASTREST_ERR_SERIALIZER_TYPE', message: /Attachment\.content has type "blob"/ });
  const Span = defineEntity({ name: 'Span', properties: { id: p.integer().primary(), length: p.interval() } });
  class T extends ModelSerializer.for(Span, { fields: ['length'] }) {}
  t.throws(() => new T().schemas, { code: 'FASTREST_ERR_SERIALIZER_TYPE' });
});

t.test('labels are the field name in words unless set', async (t) => {
  t.equal(labelOf('createdAt'), 'Created at');
  t.equal(labelOf('isbn'), 'Isbn');
  t.equal(labelOf('first_name'), 'First name');
  t.equal(labelOf('isbn13Code'), 'Isbn13 code');
  const s = new WidgetSerializer();
  t.equal(byName(s, 'updatedAt').label, 'Updated at');
  class S extends ModelSerializer.for(Widget, { fields: ['code'], extraKwargs: { code: { label: 'Stock code' } } }) {}
  t.equal(byName(new S(), 'code').label, 'Stock code');
});

t.test('extraKwargs add their rules, help text and messages to the field schema', async (t) => {
  class S extends ModelSerializer.for(Widget, {
    fields: ['code', 'stock', 'comment'],
    extraKwargs: {
      code: { pattern: '^[A-Z]+$', maxLength: 6, minLength: 2, examples: ['ABC'], description: 'Upper-case letters.', errorMessages: { pattern: 'Letters only.' } },
      stock: { minimum: 0, maximum: 99 },
    },
  }) {}
  const s = new S();
  t.same(byName(s, 'code').schema, {
    type: 'string',
    maxLength: 6,
    minLength: 2,
    pattern: '^[A-Z]+$',
    examples: ['ABC'],
    description: 'Upper-case letters.',
    'x-error-messages': { pattern: 'Letters only.' },
    'x-trim-whitespace': true,
  });
  t.same(byName(s, 'stock').schema, { type: 'integer', minimum: 0, maximum: 99, default: 0 });
  t.equal(byName(s, 'comment').schema['description'], 'Shown under the field.', 'the column comment is the default help text');
});

t.test('schema names and messages derive from the entity name unless set', async (t) => {
  const s = new WidgetSerializer();
  t.same([s.schemas.response.$id, s.schemas.request.$id, s.schemas.patch.$id], ['Widget', 'WidgetRequest', 'PatchedWidgetRequest']);
  t.equal(s.schemas, s.schemas, 'schemas are built once');
  class Named extends ModelSerializer.for(Widget, { name: 'Gadget', fields: ['name'], verboseName: 'gizmo' }) {}
  const named = new Named();
  t.same([named.schemas.response.$id, named.schemas.request.$id, named.schemas.patch.$id], ['Gadget', 'GadgetRequest', 'PatchedGadgetRequest']);
  t.equal(named.uniqueMessage('code'), 'gizmo with this code already exists.');
  const ShopItem = defineEntity({ name: 'ShopItem', properties: { id: p.integer().primary(), sku: p.string().unique() } });
  class Item extends ModelSerializer.for(ShopItem, { fields: ['id', 'sku'] }) {}
  t.equal(new Item().uniqueMessage('sku'), 'shop item with this sku already exists.');
  t.equal(new Item().primaryKey, 'id');
  t.equal(byName(new Item(), 'sku').unique, true);
  t.equal(byName(new Item(), 'id').unique, false, 'a primary key is not checked as a unique field');
});

t.test('validation hooks run against a database', async (t) => {
  const db = await createTestDatabase({ entities: [Widget], migrationsPath, migrate: false });
  t.teardown(() => db.drop());
  await db.orm.schema.create();

  const calls: string[] = [];
  class Checked extends ModelSerializer.for(Widget, { fields: ['id', 'name', 'code', 'stock', 'note'] }) {
    validateName(value: string) {
      calls.push('name');
      if (value.startsWith('x')) throw new ValidationError('Names may not start with x.');
      return value.trim();
    }
    validateCode(value: string) {
      calls.push('code');
      if (value !== value.toUpperCase()) throw new ValidationError(['Use upper case.', 'Codes are shouted.']);
      return value;
    }
    override validate(attrs: Record<string, unknown>, ctx: ValidationContext<object>) {
      calls.push('validate');
      if (attrs['stock'] === 13) throw new ValidationError('Thirteen is unlucky.');
      if (attrs['stock'] === 7) throw new ValidationError({ stock: ['Seven is taken.'] });
      if (attrs['note'] === 'stamp') return { ...attrs, note: ctx.partial ? 'partial' : 'full' };
      return undefined;
    }
  }
  const s = new Checked();
  const em = () => db.orm.em.fork();
  const detailOf = async (data: Record<string, unknown>, ctx: { instance?: any; partial?: boolean } = {}) => {
    try {
      await s.runValidation(data, { em: em(), partial: false, ...ctx });
    } catch (error) {
      if (error instanceof ValidationError) return error.detail;
      throw error;
    }
    return undefined;
  };

  await t.test('a field hook may change the value it returns', async (t) => {
    const data = await s.runValidation({ name: '  Trimmed  ', code: 'AB' }, { em: em(), partial: false });
    t.same(data, { name: 'Trimmed', code: 'AB' });
  });

  await t.test("every field hook's errors are reported together, keyed by field", async (t) => {
    t.same(await detailOf({ name: 'xylophone', code: 'lower' }), {
      name: ['Names may not start with x.'],
      code: ['Use upper case.', 'Codes are shouted.'],
    });
  });

  await t.test('hooks run only for fields that were sent, and the object hook waits for clean fields', async (t) => {
    calls.length = 0;
    await s.runValidation({ stock: 3 }, { em: em(), partial: true });
    t.same(calls, ['validate']);
    calls.length = 0;
    await detailOf({ name: 'xray', stock: 13 });
    t.same(calls, ['name'], 'no object-level validation after a field error');
  });

  await t.test('the object-level hook reports under non_field_errors unless it names fields', async (t) => {
    t.same(await detailOf({ name: 'A', code: 'A', stock: 13 }), { non_field_errors: ['Thirteen is unlucky.'] });
    t.same(await detailOf({ name: 'A', code: 'A', stock: 7 }), { stock: ['Seven is taken.'] });
  });

  await t.test('the object-level hook may return the attributes to save and sees the context', async (t) => {
    const full = await s.runValidation({ name: 'A', code: 'A', note: 'stamp' }, { em: em(), partial: false });
    t.equal((full as Record<string, unknown>)['note'], 'full');
    const partial = await s.runValidation({ note: 'stamp' }, { em: em(), partial: true });
    t.same(partial, { note: 'partial' });
  });

  await t.test('an error that is not a ValidationError is a bug and propagates', async (t) => {
    class Broken extends ModelSerializer.for(Widget, { fields: ['name'] }) {
      validateName(): string {
        throw new TypeError('boom');
      }
    }
    await t.rejects(new Broken().runValidation({ name: 'a' }, { em: em(), partial: false }), TypeError);
  });

  await t.test('unique fields are checked before writing, excluding the object being updated', async (t) => {
    const plain = new WidgetSerializer();
    const saved = await plain.create(em(), { name: 'First', code: 'UNIQ' });
    const out = plain.toRepresentation(saved) as Record<string, unknown>;
    t.match(out, { id: Number, name: 'First', code: 'UNIQ', kind: 'small', motto: '', stock: 0, note: null });
    t.match(out['createdAt'], /Z$/);
    t.notOk('secret' in out);
    t.same(await detailOf({ name: 'Second', code: 'UNIQ' }), { code: ['widget with this code already exists.'] });
    const own = await em().findOneOrFail(Widget, { code: 'UNIQ' });
    t.same(await detailOf({ name: 'First again', code: 'UNIQ' }, { instance: own }), undefined, 'an object keeps its own value');
    const other = await plain.create(em(), { name: 'Other', code: 'OTHER' });
    t.same(await detailOf({ code: 'UNIQ' }, { instance: other, partial: true }), { code: ['widget with this code already exists.'] });
  });

  await t.test('update assigns the validated data and flushes it', async (t) => {
    const plain = new WidgetSerializer();
    const manager = em();
    const widget = await manager.findOneOrFail(Widget, { code: 'UNIQ' });
    await plain.update(manager, widget, { name: 'Renamed' });
    const reloaded = await em().findOneOrFail(Widget, { code: 'UNIQ' });
    t.equal(reloaded.name, 'Renamed');
  });
});

t.test('dates are shown as toISOString shows them, for every year and millisecond', async (t) => {
  const { isoDateTime } = await import('../src/rest/serializers/representation.ts');
  const dates = ['0001-01-01T00:00:00.000Z', '0999-12-31T23:59:59.999Z', '1000-01-01T00:00:00.005Z', '1970-01-01T00:00:00.050Z', '2026-11-22T11:16:26.256Z', '9999-12-31T23:59:59.999Z'].map((s) => new Date(s));
  dates.push(new Date(8.64e15), new Date(-8.64e15), new Date(Date.UTC(2024, 1, 29, 7, 5, 9, 0)));
  for (const date of dates) t.equal(isoDateTime(date), date.toISOString(), date.toISOString());
  t.throws(() => isoDateTime(new Date(Number.NaN)), RangeError, 'an invalid date fails as toISOString fails');
});

t.test('a generated representer keeps every field name as an own key, whatever the name', async (t) => {
  const { compileRepresenter } = await import('../src/rest/serializers/representation.ts');
  const info = (name: string, extra: Record<string, unknown> = {}) =>
    ({ name, schema: { type: 'string' }, readOnly: false, writeOnly: false, required: false, allowNull: false, unique: false, label: name, kind: 'scalar', ...extra }) as never;
  const names = ['__proto__', 'constructor', 'a"b', 'line\nbreak', "it's", '${x}', 'toString'];
  const represent = compileRepresenter(names.map((name) => info(name)));
  const row = Object.fromEntries(names.map((name, i) => [name, `v${i}`]));
  const out = represent(row);
  t.equal(Object.getPrototypeOf(out), Object.prototype, 'the prototype stays');
  t.same(Object.keys(out), names, 'the keys, in the order of the fields');
  t.same(
    names.map((name) => Object.getOwnPropertyDescriptor(out, name)?.value),
    names.map((_, i) => `v${i}`),
  );
  const fallbacks = compileRepresenter([info('kind', { schema: { type: 'string', default: 'small' } }), info('note', { allowNull: true }), info('size')]);
  t.same(fallbacks({}), { kind: 'small', note: null, size: undefined }, 'an unset property shows the default, else null when nullable');
});
