/**
 * Field paths and values of the filter backends: a declared name such as `createdAt` or
 * `author__name` is resolved once against the view's serializer (and, across to-one relations,
 * the related entities), and query string values are parsed to the field's type with the words
 * of Django's form fields, which is what django-filter answers with.
 */
import { SetupError } from '../exceptions.ts';
import { labelOf, typeNameOf, valueSchemaOf, type PropertyMeta } from '../fields.ts';
import type { ModelSerializer } from '../serializers.ts';

/** How a value of a field is read from the query string. */
export type ValueKind =
  | 'string'
  | 'integer'
  | 'bigint'
  | 'number'
  | 'decimal'
  | 'boolean'
  | 'datetime'
  | 'date'
  | 'time'
  | 'uuid'
  | 'choice'
  | 'other';

/** A declared field resolved against the serializer and the entities. */
export interface FieldPath {
  /** The name as declared, e.g. `createdAt` or `author__name`. */
  name: string;
  /** Entity property names from the view's entity to the compared column, e.g. `['author', 'name']`. */
  segments: string[];
  kind: ValueKind;
  label: string;
  /** The allowed values of a choice field. */
  choices?: unknown[];
  /** The range of an integer column (PostgreSQL rejects values outside it). */
  min?: number;
  max?: number;
}

/** A parsed value, or the message explaining why the text is not one. */
export type Parsed = { ok: true; value: unknown } | { ok: false; message: string };

const TO_ONE = new Set(['m:1', '1:1']);
const INT_RANGES: Record<string, [number, number]> = {
  smallint: [-32768, 32767],
  tinyint: [-32768, 32767],
};
const INT4: [number, number] = [-2147483648, 2147483647];
const INT8 = [-(2n ** 63n), 2n ** 63n - 1n] as const;

type EntityLike = { meta: { className?: string; name?: string; properties: Record<string, PropertyMeta & { entity?: unknown }> } };

/** The entity schema a relation property points to. */
function targetOf(prop: PropertyMeta & { entity?: unknown }): EntityLike | undefined {
  let target: unknown = prop.entity;
  for (let i = 0; i < 3 && typeof target === 'function' && !(target as Partial<EntityLike>).meta; i++) target = (target as () => unknown)();
  return target && typeof target === 'object' && 'meta' in target ? (target as EntityLike) : undefined;
}

function primaryOf(entity: EntityLike): [string, PropertyMeta] | undefined {
  return Object.entries(entity.meta.properties).find(([, p]) => p.primary);
}

function kindOf(schema: Record<string, unknown>, prop: PropertyMeta | undefined): ValueKind {
  if (Array.isArray(schema['enum'])) return 'choice';
  const type = Array.isArray(schema['type']) ? schema['type'].find((t) => t !== 'null') : schema['type'];
  const typeName = prop ? typeNameOf(prop) : '';
  if (type === 'integer') return 'integer';
  if (type === 'number') return 'number';
  if (type === 'boolean') return 'boolean';
  if (type !== 'string') return 'other';
  if (typeName === 'bigint' || typeName === 'decimal') return typeName;
  const format = schema['format'];
  if (format === 'date-time') return 'datetime';
  if (format === 'date' || format === 'time' || format === 'uuid') return format;
  return 'string';
}

function describe(name: string, schema: Record<string, unknown>, prop: PropertyMeta | undefined, label: string, segments: string[]): FieldPath {
  const kind = kindOf(schema, prop);
  const path: FieldPath = { name, segments, kind, label };
  if (kind === 'choice') path.choices = (schema['enum'] as unknown[]).filter((v) => v !== null);
  if (kind === 'integer') [path.min, path.max] = INT_RANGES[prop ? typeNameOf(prop) : ''] ?? INT4;
  return path;
}

/** The value schema of a relation's foreign key: its target's primary key. */
function foreignKey(owner: string, name: string, prop: PropertyMeta & { entity?: unknown }): [Record<string, unknown>, PropertyMeta | undefined] {
  const target = targetOf(prop);
  const pk = target && primaryOf(target);
  if (!pk) return [{ type: 'integer' }, undefined];
  return [valueSchemaOf(String(target.meta.className ?? target.meta.name ?? owner), pk[0], pk[1]), pk[1]];
}

/**
 * Resolves a declared field for a view: the first segment must be a readable field of the
 * serializer, later ones properties across to-one relations (`author__name`).
 * `where` names the option in the setup error, e.g. `BookViewSet.filterFields`.
 */
export function resolvePath(serializer: ModelSerializer, name: string, where: string): FieldPath {
  const fail = (why: string): never => {
    throw new SetupError('FASTREST_ERR_FILTER_CONFIG', `${where} names "${name}": ${why}`);
  };
  const [first, ...rest] = name.split('__') as [string, ...string[]];
  const field = serializer.fields.find((f) => f.name === first);
  if (!field) return fail(`${serializer.name} has no field "${first}"`);
  if (field.writeOnly) return fail(`"${first}" is write-only`);
  // A field may read another property (`source`); the query compares that property.
  const source = field.source ?? field.name;
  let entity = serializer.entity as unknown as EntityLike;
  let prop = source === '*' ? undefined : entity.meta.properties[source];
  if (!prop) return fail(`"${first}" has no entity property of its own`);
  const segments = [source];
  for (const segment of rest) {
    const target = TO_ONE.has(String(prop.kind)) ? targetOf(prop) : undefined;
    if (!target) return fail(`"${segments[segments.length - 1]}" is not a to-one relation`);
    entity = target;
    prop = entity.meta.properties[segment];
    if (!prop) return fail(`${entity.meta.className ?? entity.meta.name} has no property "${segment}"`);
    segments.push(segment);
  }
  const last = segments[segments.length - 1]!;
  const label = rest.length ? `${field.label} ${labelOf(rest.join(' ')).toLowerCase()}` : field.label;
  const entityName = String(entity.meta.className ?? entity.meta.name);
  if (TO_ONE.has(String(prop.kind))) return describe(name, ...foreignKey(entityName, last, prop), label, segments);
  if (prop.kind && prop.kind !== 'scalar') return fail(`"${last}" is not a column (a ${prop.kind} relation or an embeddable)`);
  // A plain serializer field's schema carries its overrides; any other column is read from the entity.
  const schema = !rest.length && field.kind === 'scalar' ? field.schema : valueSchemaOf(entityName, last, prop);
  return describe(name, schema, prop, label, segments);
}

/** Wraps a condition in the nesting of a path: `['author', 'name']` gives `{author: {name: cond}}`. */
export function nest(segments: readonly string[], condition: unknown): Record<string, unknown> {
  return segments.reduceRight<unknown>((acc, segment) => ({ [segment]: acc }), condition) as Record<string, unknown>;
}

const ok = (value: unknown): Parsed => ({ ok: true, value });
const bad = (message: string): Parsed => ({ ok: false, message });

const DATETIME = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,6}))?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?)?$/i;
const TIME = /^(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?$/;
const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

function validDate(y: number, m: number, d: number): boolean {
  if (y < 1 || m < 1 || m > 12 || d < 1) return false;
  const probe = new Date(0);
  probe.setUTCFullYear(y, m - 1, d);
  return probe.getUTCDate() === d;
}

/** An ISO 8601 date/time (a date alone means midnight; no offset means UTC), or null. */
export function parseDateTime(text: string): Date | null {
  const m = DATETIME.exec(text);
  if (!m) return null;
  const [y, mo, d, h = 0, mi = 0, s = 0] = m.slice(1, 7).map((v) => (v === undefined ? undefined : Number(v))) as number[];
  if (!validDate(y!, mo!, d!) || h > 23 || mi > 59 || s > 59) return null;
  let offset = 0;
  const zone = m[8];
  if (zone && zone.toUpperCase() !== 'Z') {
    const digits = zone.replace(':', '');
    const oh = Number(digits.slice(1, 3));
    const om = Number(digits.slice(3, 5) || 0);
    if (oh > 23 || om > 59) return null;
    offset = (zone[0] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const date = new Date(0);
  date.setUTCFullYear(y!, mo! - 1, d!);
  date.setUTCHours(h, mi - offset, s, Math.floor(Number(`0.${m[7] ?? 0}`) * 1000));
  return date;
}

function parseInteger(text: string, min: number, max: number): Parsed {
  if (!/^[+-]?\d+$/.test(text)) return bad('Enter a whole number.');
  const n = Number(text);
  if (n > max) return bad(`Ensure this value is less than or equal to ${max}.`);
  if (n < min) return bad(`Ensure this value is greater than or equal to ${min}.`);
  return ok(n);
}

/** A boolean as django-filter's `BooleanWidget` reads it, or null. */
export function parseBoolean(text: string): boolean | null {
  const lower = text.toLowerCase();
  return lower === 'true' || lower === '1' ? true : lower === 'false' || lower === '0' ? false : null;
}

/** Parses one query string value for a field; the message is Django's for that form field. */
export function parseValue(path: Pick<FieldPath, 'kind' | 'choices' | 'min' | 'max'>, raw: string): Parsed {
  if (raw.includes('\u0000')) return bad('Null characters are not allowed.');
  const text = path.kind === 'string' ? raw : raw.trim();
  switch (path.kind) {
    case 'string':
      return ok(text);
    case 'integer':
      return parseInteger(text, path.min ?? INT4[0], path.max ?? INT4[1]);
    case 'bigint': {
      if (!/^[+-]?\d+$/.test(text)) return bad('Enter a whole number.');
      const n = BigInt(text);
      if (n > INT8[1]) return bad(`Ensure this value is less than or equal to ${INT8[1]}.`);
      if (n < INT8[0]) return bad(`Ensure this value is greater than or equal to ${INT8[0]}.`);
      return ok(n.toString());
    }
    case 'number':
      return /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(text) && Number.isFinite(Number(text)) ? ok(Number(text)) : bad('Enter a number.');
    case 'decimal':
      return /^[+-]?(\d+\.?\d*|\.\d+)$/.test(text) ? ok(text) : bad('Enter a number.');
    case 'boolean': {
      const value = parseBoolean(text);
      return value === null ? bad(`Select a valid choice. ${text} is not one of the available choices.`) : ok(value);
    }
    case 'datetime': {
      const value = parseDateTime(text);
      return value ? ok(value) : bad('Enter a valid date/time.');
    }
    case 'date': {
      const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
      return m && validDate(Number(m[1]), Number(m[2]), Number(m[3])) ? ok(text) : bad('Enter a valid date.');
    }
    case 'time': {
      const m = TIME.exec(text);
      return m && Number(m[1]) < 24 && Number(m[2]) < 60 && Number(m[3] ?? 0) < 60 ? ok(text) : bad('Enter a valid time.');
    }
    case 'uuid':
      return UUID.test(text) ? ok(text.toLowerCase()) : bad('Enter a valid UUID.');
    case 'choice': {
      const choice = path.choices?.find((c) => String(c) === text);
      return choice === undefined ? bad(`Select a valid choice. ${text} is not one of the available choices.`) : ok(choice);
    }
    default:
      return bad('Enter a valid value.');
  }
}

/** "a datetime field", "an integer field". */
export function kindName(kind: ValueKind): string {
  return `${/^[aeiou]/.test(kind) ? 'an' : 'a'} ${kind} field`;
}

/** What a value of this kind looks like, for descriptions and form inputs. */
export function valueHint(kind: ValueKind): string {
  switch (kind) {
    case 'integer':
    case 'bigint':
      return 'a whole number';
    case 'number':
    case 'decimal':
      return 'a number';
    case 'boolean':
      return 'true or false';
    case 'datetime':
      return 'an ISO 8601 date/time, e.g. 2024-01-31T12:00:00Z';
    case 'date':
      return 'a date, e.g. 2024-01-31';
    case 'time':
      return 'a time, e.g. 12:00';
    case 'uuid':
      return 'a UUID';
    case 'choice':
      return 'one of the choices';
    default:
      return 'text';
  }
}
