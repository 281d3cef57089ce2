/**
 * How rows become response bodies: each readable field's value, related fields through their
 * field, columns as JSON (dates as ISO 8601 strings), one row at a time or a batch whose related
 * fields load what they show for all rows at once.
 */
import type { FieldInfo } from '../fields.ts';
import { Field, type SerializerContext } from './field.ts';

/** The response body of one entity or row; related fields use what is loaded. */
export function representRow(readable: readonly FieldInfo[], row: Record<string, unknown>, ctx?: SerializerContext): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of readable) out[field.name] = fieldValue(field, row, ctx);
  return out;
}

/** One field's value in a response body: a related field's representation of what is loaded, or the column's JSON value. */
function fieldValue(field: FieldInfo, row: Record<string, unknown>, ctx?: SerializerContext): unknown {
  if (!field.field) return scalarValue(field, row[field.name]);
  const value = field.field.getAttribute(row);
  return value === null || value === undefined ? null : field.field.toRepresentation(value, ctx);
}

/** The response bodies of many rows, each related field that batches (`representMany`) loading for all of them in one query. */
export async function representRows(readable: readonly FieldInfo[], rows: ReadonlyArray<Record<string, unknown>>, ctx?: SerializerContext): Promise<Record<string, unknown>[]> {
  // Fields that load what they show (related fields) do it for all rows at once; the others show each value as it is.
  const batches: (unknown[] | undefined)[] = [];
  for (const f of readable) {
    const batched = f.field && f.field.representMany !== Field.prototype.representMany;
    batches.push(batched ? await f.field!.representMany(rows.map((row) => f.field!.getAttribute(row)), ctx) : undefined);
  }
  return rows.map((row, j) => {
    const out: Record<string, unknown> = {};
    for (let i = 0; i < readable.length; i++) {
      const field = readable[i]!;
      const batch = batches[i];
      out[field.name] = batch ? batch[j] : fieldValue(field, row, ctx);
    }
    return out;
  });
}

/**
 * The JSON value of a column: dates as ISO strings; a property a new entity left unset shows what
 * the database stored (the column's default, or null).
 */
function scalarValue(field: FieldInfo, value: unknown): unknown {
  if (value instanceof Date) return isoDateTime(value);
  if (value !== undefined) return value;
  if ('default' in field.schema) return field.schema['default'];
  return field.allowNull ? null : undefined;
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
