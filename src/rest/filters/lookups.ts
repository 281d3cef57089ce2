/**
 * `FieldFilterBackend` (django-filter's role): a view declares, per field, the lookups clients
 * may use (`filterFields = { title: ['exact', 'icontains'] }`); each becomes a query parameter
 * named as in django-filter (`title`, `title__icontains`) whose value is parsed to the field's
 * type and compared through the query builder's parameters.
 */
import type { FastifyRequest } from 'fastify';
import { SetupError, ValidationError } from '../exceptions.ts';
import type { ModelSerializer } from '../serializers.ts';
import { withQuery } from '../urls.ts';
import type { AnyQueryBuilder } from '../orm.ts';
import { BaseFilterBackend, escapeLike, formTarget, LOOKUPS, queryParam, type FilteredView, type FilterHtml, type Lookup } from './base.ts';
import { type FieldPath, kindName, nest, parseValue, resolvePath, valueHint, type ValueKind } from './values.ts';

const TEXT: ReadonlySet<ValueKind> = new Set(['string']);
const ORDERED: ReadonlySet<ValueKind> = new Set(['string', 'integer', 'bigint', 'number', 'decimal', 'datetime', 'date', 'time']);
const TEXT_LOOKUPS = new Set<Lookup>(['iexact', 'contains', 'icontains', 'startswith', 'istartswith', 'endswith', 'iendswith']);
const ORDERED_LOOKUPS = new Set<Lookup>(['gt', 'gte', 'lt', 'lte', 'range']);

/** django-filter's words for lookups in labels ("Created at is greater than or equal to"). */
const VERBOSE: Record<Lookup, string> = {
  exact: '',
  iexact: 'is (any case)',
  contains: 'contains (case-sensitive)',
  icontains: 'contains',
  startswith: 'starts with (case-sensitive)',
  istartswith: 'starts with',
  endswith: 'ends with (case-sensitive)',
  iendswith: 'ends with',
  in: 'is in',
  gt: 'is greater than',
  gte: 'is greater than or equal to',
  lt: 'is less than',
  lte: 'is less than or equal to',
  range: 'is in range',
  isnull: 'is null',
};

/** Whether a lookup makes sense for a kind of value. */
export function lookupFits(lookup: Lookup, kind: ValueKind): boolean {
  if (lookup === 'isnull') return true;
  if (kind === 'other') return false;
  if (TEXT_LOOKUPS.has(lookup)) return TEXT.has(kind);
  if (ORDERED_LOOKUPS.has(lookup)) return ORDERED.has(kind);
  return lookup === 'exact' || lookup === 'in';
}

/** One query parameter of a field filter. */
export interface FilterParam {
  /** The query parameter, e.g. `createdAt__gte`. */
  param: string;
  lookup: Lookup;
  field: FieldPath;
  label: string;
}

/** The condition of a lookup on already-parsed values (`values` has two items for `range`, any for `in`). */
export function lookupCondition(lookup: Lookup, values: unknown[]): unknown {
  const [value] = values;
  const text = () => escapeLike(String(value));
  switch (lookup) {
    case 'exact':
      return { $eq: value };
    case 'iexact':
      return { $ilike: text() };
    case 'contains':
      return { $like: `%${text()}%` };
    case 'icontains':
      return { $ilike: `%${text()}%` };
    case 'startswith':
      return { $like: `${text()}%` };
    case 'istartswith':
      return { $ilike: `${text()}%` };
    case 'endswith':
      return { $like: `%${text()}` };
    case 'iendswith':
      return { $ilike: `%${text()}` };
    case 'in':
      return { $in: values };
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte':
      return { [`$${lookup}`]: value };
    case 'range':
      return { $gte: values[0], $lte: values[1] };
    case 'isnull':
      return value ? { $eq: null } : { $ne: null };
  }
}

const compiled = new WeakMap<FilteredView, { serializer: ModelSerializer; params: FilterParam[] }>();

/**
 * Filters by the view's `filterFields` (DRF with django-filter's `DjangoFilterBackend`).
 * A value that is not of the field's type is a 400 keyed by the parameter; unknown parameters
 * and empty values are ignored.
 */
export class FieldFilterBackend extends BaseFilterBackend {
  /** The query parameters of a view, checked against its serializer (a `SetupError` when a field or lookup does not fit). */
  getFilterParams(view: FilteredView, serializer: ModelSerializer = view.serializer): FilterParam[] {
    const cached = compiled.get(view);
    if (cached?.serializer === serializer) return cached.params;
    const where = `${view.constructor.name}.filterFields`;
    const params: FilterParam[] = [];
    for (const [name, lookups] of Object.entries((view.filterFields ?? {}) as Record<string, readonly Lookup[]>)) {
      const field = resolvePath(serializer, name, where);
      for (const lookup of lookups) {
        if (!LOOKUPS.includes(lookup)) throw new SetupError('FASTREST_ERR_FILTER_CONFIG', `${where} names an unknown lookup "${lookup}" for "${name}"`);
        if (!lookupFits(lookup, field.kind)) {
          throw new SetupError('FASTREST_ERR_FILTER_CONFIG', `${where} names "${name}" with lookup "${lookup}", which does not fit ${kindName(field.kind)}`);
        }
        const verbose = VERBOSE[lookup];
        params.push({ param: lookup === 'exact' ? name : `${name}__${lookup}`, lookup, field, label: verbose ? `${field.label} ${verbose}` : field.label });
      }
    }
    compiled.set(view, { serializer, params });
    return params;
  }

  /** Parses one parameter's text into the values its lookup compares with, or a message. */
  parseParam(param: FilterParam, raw: string): { values: unknown[] } | { message: string } {
    if (param.lookup === 'isnull') {
      const parsed = parseValue({ kind: 'boolean' }, raw);
      return parsed.ok ? { values: [parsed.value] } : { message: parsed.message };
    }
    const parts = param.lookup === 'in' || param.lookup === 'range' ? raw.split(',') : [raw];
    const items = param.lookup === 'in' ? parts.filter((p) => p !== '') : parts;
    if (param.lookup === 'range' && (items.length !== 2 || items.some((p) => p.trim() === ''))) return { message: 'Range query expects two values.' };
    const values: unknown[] = [];
    for (const item of items) {
      const parsed = parseValue(param.field, item);
      if (!parsed.ok) return { message: parsed.message };
      values.push(parsed.value);
    }
    return { values };
  }

  /** Unfiltered requests (no parameter with a value) share one query. */
  override queryShape(request: FastifyRequest, view: FilteredView): string | null {
    const params = this.getFilterParams(view, view.getSerializer(request));
    return params.every((p) => (queryParam(request, p.param) ?? '') === '') ? '' : null;
  }

  filterQueryset(request: FastifyRequest, qb: AnyQueryBuilder, view: FilteredView): AnyQueryBuilder {
    const errors: Record<string, string[]> = {};
    const conditions: unknown[] = [];
    for (const param of this.getFilterParams(view, view.getSerializer(request))) {
      const raw = queryParam(request, param.param);
      if (raw === undefined || raw === '') continue;
      const parsed = this.parseParam(param, raw);
      if ('message' in parsed) errors[param.param] = [parsed.message];
      else if (parsed.values.length) conditions.push(nest(param.field.segments, lookupCondition(param.lookup, parsed.values)));
    }
    if (Object.keys(errors).length) throw new ValidationError(errors);
    for (const condition of conditions) qb.andWhere(condition as never);
    return qb;
  }

  override getQuerystringProperties(view: FilteredView): Record<string, Record<string, unknown>> {
    return Object.fromEntries(this.getFilterParams(view).map((p) => [p.param, { type: 'string', description: describeParam(p) }]));
  }

  /** The Filters dialog's form: one input per parameter with its current value. */
  override toHtml(request: FastifyRequest, view: FilteredView): FilterHtml | null {
    const params = this.getFilterParams(view, view.getSerializer(request));
    if (!params.length) return null;
    const fields = params.map((p) => {
      const boolean = p.lookup === 'isnull' || (p.field.kind === 'boolean' && p.lookup === 'exact');
      const choices = boolean
        ? [{ value: 'true', label: 'Yes' }, { value: 'false', label: 'No' }]
        : p.field.kind === 'choice' && p.lookup === 'exact'
          ? p.field.choices!.map((c) => ({ value: String(c), label: String(c) }))
          : undefined;
      return {
        name: p.param,
        label: p.label,
        input: choices ? 'select' : inputType(p),
        value: queryParam(request, p.param) ?? '',
        ...(choices ? { choices } : {}),
        help: formHelp(p),
      };
    });
    const target = formTarget(request, view, params.map((p) => p.param));
    const reset = withQuery(request, Object.fromEntries(params.map((p) => [p.param, null])));
    return { template: 'filters/fields', context: { ...target, fields, resetUrl: reset } };
  }
}

function inputType(p: FilterParam): string {
  if (p.lookup === 'in' || p.lookup === 'range') return 'text';
  switch (p.field.kind) {
    case 'integer':
    case 'number':
      return 'number';
    case 'datetime':
      return 'datetime-local';
    case 'date':
    case 'time':
      return p.field.kind;
    default:
      return 'text';
  }
}

/**
 * The Filters panel's help of a parameter, only where the input does not say it already: how to
 * write a list or a range. A plain value needs none (the label and the input's type tell).
 */
function formHelp(p: FilterParam): string | undefined {
  const each = p.field.kind === 'string' || p.field.kind === 'other' ? '' : `, each ${valueHint(p.field.kind)}`;
  if (p.lookup === 'in') return `Several values, separated by commas${each}.`;
  if (p.lookup === 'range') return `From and to, separated by a comma${each}.`;
  return undefined;
}

function describeParam(p: FilterParam): string {
  const hint = valueHint(p.field.kind);
  if (p.lookup === 'isnull') return `${p.field.label} is null: true or false.`;
  if (p.lookup === 'in') return `${p.label}: comma-separated values, each ${hint}.`;
  if (p.lookup === 'range') return `${p.label}: two comma-separated values (from,to), each ${hint}.`;
  return `${p.label}: ${hint}.`;
}
