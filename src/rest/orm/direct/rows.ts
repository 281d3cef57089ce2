/**
 * Result rows mapped to property names without MikroORM's generic mapper: one function generated
 * per entity and set of selected columns, giving the same values (dates parsed as the platform
 * parses them, booleans coerced, columns of no property kept as they are) by fixed keys, where the
 * ORM's mapper walks every key of every row. Entities the generator does not cover keep the ORM's.
 */
import { ReferenceKind, type EntityMetadata, type EntityProperty } from '@mikro-orm/core';
import type { DriverInternals, PlatformInternals } from '../internals.ts';
import type { Row } from '../types.ts';

/** One row of a result, columns to properties. */
export type RowMapper = (row: Row) => Row;

/** What the mapper needs of a driver: the ORM's own mapper (the fallback) and its platform's date rules. */
export type MappingDriver = Pick<DriverInternals, 'mapResult' | 'getPlatform'>;

const generated = new WeakMap<object, WeakMap<EntityMetadata, Map<string, RowMapper | null>>>();

/** The generated mapper of rows of `meta` holding exactly the columns `keys` (made once), or `null` where the ORM's must run. */
export function rowMapper(driver: MappingDriver, meta: EntityMetadata, keys: readonly string[]): RowMapper | null {
  let byMeta = generated.get(driver);
  if (!byMeta) generated.set(driver, (byMeta = new WeakMap()));
  let byKeys = byMeta.get(meta);
  if (!byKeys) byMeta.set(meta, (byKeys = new Map()));
  const id = keys.join('\u0000');
  let mapper = byKeys.get(id);
  if (mapper === undefined) {
    mapper = compileRowMapper(driver.getPlatform(), meta, keys);
    // Statements are few; queries with ever-new column sets must not grow this without end.
    if (byKeys.size < 64) byKeys.set(id, mapper);
  }
  return mapper;
}

/** Where a statement whose columns never change keeps its mapper, found once instead of per result. */
export interface MapperMemo {
  driver?: MappingDriver;
  map?: RowMapper | null;
}

/** Maps the rows of one result (every row has the same columns) in place, as `driver.mapResult(row, meta, [], qb)` would. */
export function mapRows(driver: MappingDriver, meta: EntityMetadata, rows: Row[], qb?: unknown, memo?: MapperMemo): Row[] {
  if (!rows.length) return rows;
  let map: RowMapper | null;
  if (memo?.driver === driver) map = memo.map!;
  else {
    map = rowMapper(driver, meta, Object.keys(rows[0]!));
    if (memo) {
      memo.driver = driver;
      memo.map = map;
    }
  }
  for (let i = 0; i < rows.length; i++) rows[i] = map ? map(rows[i]!) : (driver.mapResult(rows[i]!, meta, [], qb) ?? rows[i]!);
  return rows;
}

/** Whether the ORM's mapper does more for this entity than rename, parse dates and coerce booleans. */
function needsOrmMapper(meta: EntityMetadata): boolean {
  const m = meta as EntityMetadata & { inheritanceType?: string; polymorphs?: unknown[]; embeddable?: boolean };
  if (m.inheritanceType === 'tpt' || m.polymorphs?.length || m.embeddable) return true;
  return meta.props.some((prop) => prop.fieldNames && (prop.fieldNames.length !== 1 || prop.polymorphic || prop.embedded || prop.kind === ReferenceKind.EMBEDDED));
}

/**
 * The source text of an object literal's key for `name`, as generated code writes it: JSON, and
 * `__proto__` as a computed key, which defines an own property where a literal key would not.
 */
export const literalKey = (name: string): string => (name === '__proto__' ? '["__proto__"]' : JSON.stringify(name));

/** The generated mapper, or `null` where the ORM's must run. Names enter the source as JSON. */
function compileRowMapper(platform: PlatformInternals, meta: EntityMetadata, keys: readonly string[]): RowMapper | null {
  if (needsOrmMapper(meta)) return null;
  const present = new Set(keys);
  const consumed = new Set<string>();
  const assigned = new Set<string>();
  const entries: string[] = [];
  for (const prop of meta.props) {
    const column = prop.fieldNames?.[0];
    if (column === undefined || !present.has(column)) continue;
    const read = `row[${JSON.stringify(column)}]`;
    let value = read;
    if (prop.runtimeType === 'boolean') value = `(v = ${read}) == null ? v : !!v`;
    else if (prop.runtimeType === 'Date' && !platform.isNumericProperty(prop)) value = `toDate(${read})`;
    entries.push(`${literalKey(prop.name)}: ${value}`);
    consumed.add(column);
    assigned.add(prop.name);
  }
  // Columns of no property (extra selections, joined columns) pass as they are, unless a property took the name.
  for (const key of keys) if (!consumed.has(key) && !assigned.has(key)) entries.push(`${literalKey(key)}: row[${JSON.stringify(key)}]`);
  const source = `return function mapRow(row) {\n  let v;\n  return {\n    ${entries.join(',\n    ')}\n  };\n};`;
  return new Function('toDate', source)(dateParser(platform)) as RowMapper;
}

/** A column's value as the ORM reads a date: a Date as it is, a string or number parsed (a timestamp without zone in the configured one). */
function dateParser(platform: PlatformInternals): (value: unknown) => unknown {
  const tz = platform.getTimezone();
  const local = !tz || tz === 'local';
  return (value) => {
    if (value === null || value === undefined || value instanceof Date) return value;
    if (typeof value === 'bigint') return platform.parseDate(Number(value));
    if (local || typeof value === 'number') return platform.parseDate(value as string | number);
    const text = String(value);
    const zoned = text.includes('+') || text.lastIndexOf('-') > 10 || text.endsWith('Z');
    return platform.parseDate(zoned ? text : text + tz);
  };
}
