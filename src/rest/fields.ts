/**
 * Serializer fields: how one MikroORM property becomes a JSON Schema (TypeBox-compatible) field,
 * with the rules its column carries (length, nullability, enum, defaults, read-only generation).
 */
import { types } from '@mikro-orm/core';
import { SetupError } from './exceptions.ts';
import { ERROR_MESSAGES_KEYWORD, TEXT_PATTERN, TRIM_WHITESPACE_KEYWORD } from './validation.ts';

/** Per-field overrides a serializer may declare (DRF's `extra_kwargs`). */
export interface FieldOptions {
  /** Label shown in forms and OPTIONS; defaults to the property name in words. */
  label?: string;
  /** Help text: OpenAPI `description`, form help, OPTIONS `help_text`. */
  description?: string;
  readOnly?: boolean;
  writeOnly?: boolean;
  /** Whether the field must be sent on create and full update. */
  required?: boolean;
  /** Whether an empty string is accepted (strings only). */
  allowBlank?: boolean;
  /** Whether leading and trailing whitespace is removed before validation (text only; DRF's `trim_whitespace`, default true). */
  trimWhitespace?: boolean;
  allowNull?: boolean;
  maxLength?: number;
  minLength?: number;
  minimum?: number;
  maximum?: number;
  pattern?: string;
  examples?: unknown[];
  /** Messages replacing DRF's default wording, by JSON Schema keyword (`pattern`, `maxLength`...). */
  errorMessages?: Record<string, string>;
}

/**
 * What the framework knows about one serializer field once it is resolved; a declared field adds
 * itself (`FieldInfo` in serializers/field.ts).
 */
export interface ColumnInfo {
  name: string;
  /** JSON Schema of the value, without read/write-only markers. */
  schema: Record<string, unknown>;
  readOnly: boolean;
  writeOnly: boolean;
  required: boolean;
  allowNull: boolean;
  unique: boolean;
  label: string;
  /** The property's kind in MikroORM (`scalar`, `m:1`...); `declared` for a declared field with no property of its own. */
  kind: string;
  /** The entity property the field reads and writes (`*` for the whole object); defaults to `name`. */
  source?: string;
  /** Schemas of the value in a create/full-update body and in a partial body, when they differ from `schema` (nested writes). */
  requestSchema?: Record<string, unknown>;
  patchSchema?: Record<string, unknown>;
}

/** MikroORM entity property options as read from an entity schema's metadata. */
export interface PropertyMeta {
  name?: string;
  kind?: string;
  type?: unknown;
  length?: number;
  nullable?: boolean;
  default?: unknown;
  defaultRaw?: string;
  unique?: boolean | string;
  primary?: boolean;
  autoincrement?: boolean;
  onCreate?: unknown;
  onUpdate?: unknown;
  persist?: boolean;
  hidden?: boolean;
  items?: readonly unknown[] | (() => Record<string, unknown>);
  comment?: string;
  precision?: number;
  scale?: number;
}

const typeNames = new Map<unknown, string>(Object.entries(types).map(([name, ctor]) => [ctor, name]));

/** The MikroORM type name (`string`, `integer`, `datetime`...) of a property, before or after discovery. */
export function typeNameOf(prop: PropertyMeta): string {
  const t = prop.type;
  if (typeof t === 'function') {
    const known = typeNames.get(t);
    if (known) return known;
    if (t === String) return 'string';
    if (t === Number) return 'double';
    if (t === Boolean) return 'boolean';
    if (t === Date) return 'datetime';
  }
  if (typeof t === 'string') return t.toLowerCase();
  // `p.decimal()`, `p.bigint()` and `p.array()` hold a Type instance rather than its class.
  if (t && typeof t === 'object') {
    const known = typeNames.get(t.constructor);
    if (known) return known;
  }
  if (prop.items) return 'enum';
  return 'unknown';
}

const STRING_TYPES = new Set(['string', 'text', 'character', 'varchar', 'char']);
const INTEGER_TYPES = new Set(['integer', 'int', 'smallint', 'tinyint', 'mediumint', 'number']);
/** The values PostgreSQL's integer columns hold (Django gives its IntegerFields these bounds, and DRF takes them). */
const INTEGER_RANGES: Record<string, [number, number]> = { smallint: [-32768, 32767], tinyint: [-32768, 32767] };
const INT4_RANGE: [number, number] = [-2147483648, 2147483647];

/** Whether a value schema is text as DRF's `CharField` reads it: a string with no format or choices. */
export function isTextSchema(schema: Record<string, unknown>): boolean {
  const types = Array.isArray(schema['type']) ? schema['type'] : [schema['type']];
  return types.includes('string') && !schema['format'] && !schema['enum'] && !schema['const'];
}

/**
 * Marks a text schema as DRF's `CharField` reads it: whitespace trimmed first (unless `trim` is
 * false), null characters and lone surrogates refused (`TRIM_WHITESPACE_KEYWORD`); a schema with
 * no pattern of its own gets one that says so in OpenAPI (`TEXT_PATTERN`).
 */
export function textSchema(schema: Record<string, unknown>, trim = true): Record<string, unknown> {
  if (!isTextSchema(schema)) return schema;
  const out: Record<string, unknown> = { ...schema, [TRIM_WHITESPACE_KEYWORD]: trim };
  out['pattern'] ??= TEXT_PATTERN;
  return out;
}

function enumValues(prop: PropertyMeta): unknown[] {
  const items = typeof prop.items === 'function' ? Object.values(prop.items()) : (prop.items ?? []);
  return [...items];
}

/** The JSON Schema of a scalar property's value; relations are handled by the serializer. */
export function valueSchemaOf(entityName: string, name: string, prop: PropertyMeta): Record<string, unknown> {
  const typeName = typeNameOf(prop);
  if (STRING_TYPES.has(typeName)) return prop.length ? { type: 'string', maxLength: prop.length } : { type: 'string' };
  if (INTEGER_TYPES.has(typeName)) {
    const [minimum, maximum] = INTEGER_RANGES[typeName] ?? INT4_RANGE;
    return { type: 'integer', minimum, maximum };
  }
  if (typeName === 'bigint') return { type: 'string', pattern: '^-?[0-9]+$' };
  if (typeName === 'float' || typeName === 'double') return { type: 'number' };
  if (typeName === 'decimal') return { type: 'string', pattern: '^-?[0-9]+(\\.[0-9]+)?$' };
  if (typeName === 'boolean') return { type: 'boolean' };
  if (typeName === 'datetime') return { type: 'string', format: 'date-time' };
  if (typeName === 'date') return { type: 'string', format: 'date' };
  if (typeName === 'time') return { type: 'string', format: 'time' };
  if (typeName === 'uuid') return { type: 'string', format: 'uuid' };
  if (typeName === 'enum') return { type: 'string', enum: enumValues(prop) };
  if (typeName === 'json') return {};
  if (typeName === 'array') return { type: 'array', items: { type: 'string' } };
  throw new SetupError('FASTREST_ERR_SERIALIZER_TYPE', `${entityName}.${name} has type "${typeName}", which has no schema mapping`);
}

/** "createdAt" -> "Created at", as DRF derives labels from field names. */
export function labelOf(name: string): string {
  const words = name
    .replace(/_/g, ' ')
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** Whether the database or the ORM fills the property in, so a client never sends it. */
export function isGenerated(prop: PropertyMeta): boolean {
  return Boolean((prop.primary && prop.autoincrement !== false && INTEGER_TYPES.has(typeNameOf(prop))) || prop.onCreate || prop.onUpdate);
}

/** Resolves one property and the serializer's overrides into a `FieldInfo`. */
export function resolveField(entityName: string, name: string, prop: PropertyMeta, options: FieldOptions = {}): ColumnInfo {
  const generated = isGenerated(prop);
  const readOnly = options.readOnly ?? generated;
  const hasDefault = prop.default !== undefined || prop.defaultRaw !== undefined;
  const allowNull = options.allowNull ?? Boolean(prop.nullable);
  const schema: Record<string, unknown> = { ...valueSchemaOf(entityName, name, prop) };
  if (schema['type'] === 'string' && !schema['format'] && !schema['enum']) {
    const allowBlank = options.allowBlank ?? prop.default === '';
    if (!allowBlank) schema['minLength'] = 1;
  }
  for (const key of ['maxLength', 'minLength', 'minimum', 'maximum', 'pattern', 'examples'] as const) {
    if (options[key] !== undefined) schema[key] = options[key];
  }
  Object.assign(schema, textSchema(schema, options.trimWhitespace ?? true));
  // A generated key is never sent, so it shows no input range (DRF gives an AutoField none).
  if (generated && schema['type'] === 'integer' && options.minimum === undefined && options.maximum === undefined) {
    delete schema['minimum'];
    delete schema['maximum'];
  }
  const description = options.description ?? prop.comment;
  if (description) schema['description'] = description;
  if (hasDefault && prop.default !== undefined && typeof prop.default !== 'function') schema['default'] = prop.default;
  if (options.errorMessages) schema[ERROR_MESSAGES_KEYWORD] = options.errorMessages;
  // A JSON property has no `type` and takes null already; a nullable enum lists null among its choices.
  if (allowNull && schema['type'] !== undefined) schema['type'] = [schema['type'], 'null'];
  if (allowNull && Array.isArray(schema['enum'])) schema['enum'] = [...schema['enum'], null];
  return {
    name,
    schema,
    readOnly,
    writeOnly: options.writeOnly ?? false,
    required: options.required ?? (!readOnly && !hasDefault && !allowNull),
    allowNull,
    unique: Boolean(prop.unique) && !prop.primary,
    label: options.label ?? labelOf(name),
    kind: prop.kind ?? 'scalar',
  };
}
