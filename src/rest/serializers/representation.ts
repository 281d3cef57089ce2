/**
 * How rows become response bodies: each readable field's value, related fields through their
 * field, columns as JSON (dates as ISO 8601 strings), one row at a time or a batch whose related
 * fields load what they show for all rows at once.
 */
import { literalKey } from '../orm.ts';
import type { FieldInfo } from './field.ts';
import { Field, type SerializerContext } from './field.ts';

/**
 * The response body of one row. With `batches` (from `representRows`), a related field whose entry
 * is set shows `batches[i][j]`, what it loaded for row `j` of the batch; otherwise what is loaded.
 */
export type RowRepresenter = (row: Record<string, unknown>, ctx?: SerializerContext, batches?: ReadonlyArray<unknown[] | undefined>, j?: number) => Record<string, unknown>;

/**
 * The representer of these fields, generated once per serializer: one object literal of a fixed
 * shape, which V8 builds several times faster than an object filled key by key. A related field
 * shows its field's representation of what `getAttribute` reads (null for none); a column its
 * JSON value: a date as an ISO string, a property a new entity left unset what the database
 * stored (the column's default, or null). Names enter the source as JSON, values through closures.
 */
export function compileRepresenter(readable: readonly FieldInfo[]): RowRepresenter {
  const related = readable.map((f) => f.field);
  const fallbacks = readable.map((f) => ('default' in f.schema ? f.schema['default'] : f.allowNull ? null : undefined));
  const entries = readable.map((f, i) => {
    const value = f.field
      ? `batches !== undefined && batches[${i}] !== undefined ? batches[${i}][j] : (v = related[${i}].getAttribute(row)) === null || v === undefined ? null : related[${i}].toRepresentation(v, ctx)`
      : `(v = row[${JSON.stringify(f.name)}]) === undefined ? fallbacks[${i}] : v instanceof Date ? isoDateTime(v) : v`;
    return `${literalKey(f.name)}: ${value}`;
  });
  const source = `return function representRow(row, ctx, batches, j) {\n  let v;\n  return {\n    ${entries.join(',\n    ')}\n  };\n};`;
  return new Function('related', 'fallbacks', 'isoDateTime', source)(related, fallbacks, isoDateTime) as RowRepresenter;
}

/** The response bodies of many rows, each related field that batches (`representMany`) loading for all of them in one query. */
export async function representRows(readable: readonly FieldInfo[], represent: RowRepresenter, rows: ReadonlyArray<Record<string, unknown>>, ctx?: SerializerContext): Promise<Record<string, unknown>[]> {
  // Fields that load what they show (related fields) do it for all rows at once; the others show each value as it is.
  const batches: (unknown[] | undefined)[] = [];
  for (const f of readable) {
    const batched = f.field && f.field.representMany !== Field.prototype.representMany;
    batches.push(batched ? await f.field!.representMany(rows.map((row) => f.field!.getAttribute(row)), ctx) : undefined);
  }
  return rows.map((row, j) => represent(row, ctx, batches, j));
}

const TWO_DIGITS = Array.from({ length: 100 }, (_, n) => String(n).padStart(2, '0'));

/**
 * `date.toISOString()`, built in JavaScript: V8's own formats through a C++ printf, which showed
 * as a microsecond of every response with two dates. Years outside 0-9999 take the slow path.
 */
export function isoDateTime(date: Date): string {
  const year = date.getUTCFullYear();
  if (!(year >= 1000 && year <= 9999)) return date.toISOString();
  const ms = date.getUTCMilliseconds();
  return `${year}-${TWO_DIGITS[date.getUTCMonth() + 1]}-${TWO_DIGITS[date.getUTCDate()]}T${TWO_DIGITS[date.getUTCHours()]}:${TWO_DIGITS[date.getUTCMinutes()]}:${TWO_DIGITS[date.getUTCSeconds()]}.${ms < 10 ? '00' : ms < 100 ? '0' : ''}${ms}Z`;
}
