/**
 * The filter backend seam and the plumbing every backend shares: reading one query parameter as
 * Django's `QueryDict.get` does, and computing the absolute URLs the browsable page links to.
 */
import type { FastifyRequest } from 'fastify';
import type { AnyQueryBuilder } from '../orm.ts';
import type { BasePagination, PaginatedView } from '../pagination/base.ts';
import type { ModelSerializer, SerializerOutput } from '../serializers.ts';
import { origin } from '../urls.ts';


/** Every lookup `FieldFilterBackend` knows, as django-filter names them. */
export const LOOKUPS = [
  'exact',
  'iexact',
  'contains',
  'icontains',
  'startswith',
  'istartswith',
  'endswith',
  'iendswith',
  'in',
  'gt',
  'gte',
  'lt',
  'lte',
  'range',
  'isnull',
] as const;

/** A lookup name: `exact`, `icontains`, `gte`, `in`, `range`, `isnull`... */
export type Lookup = (typeof LOOKUPS)[number];

/** The readable field names of a serializer (any string for an untyped one). */
export type FieldNameOf<S> = [SerializerOutput<S>] extends [never] ? string : keyof SerializerOutput<S> & string;

/** A serializer field or a path across to-one relations from it, e.g. `author__name`. */
export type FieldPathOf<S> = FieldNameOf<S> | `${FieldNameOf<S>}__${string}`;

/** The lookups a view allows per field (django-filter's `filterset_fields` as a dict). */
export type FilterFields<S = ModelSerializer> = { readonly [K in FieldPathOf<S>]?: readonly Lookup[] };

/** The fields a view searches; `^` makes a field match at the start, `=` the whole value. */
export type SearchFields<S = ModelSerializer> = readonly (FieldPathOf<S> | `${'^' | '='}${FieldPathOf<S>}`)[];

/** The fields a client may order by, or `'__all__'` for every readable serializer field. */
export type OrderingFields<S = ModelSerializer> = readonly FieldPathOf<S>[] | '__all__';

/**
 * What a filter backend reads of the view whose list it narrows; `GenericAPIView` has all of it.
 * Filters sit below the generic views (docs/architecture.md) and know them by this shape only.
 */
export interface FilteredView extends PaginatedView {
  /** The view's serializer, and the one of this request (its action's). */
  readonly serializer: ModelSerializer;
  getSerializer(request: FastifyRequest): ModelSerializer;
  /** The view's options the backends read. */
  readonly filterFields: FilterFields | undefined;
  readonly searchFields: SearchFields | undefined;
  readonly orderingFields: OrderingFields | undefined;
  /** The paginator of this request (its parameters are left out of filter forms). */
  getPaginator(request: FastifyRequest): BasePagination | null;
}

/** What a backend shows in the browsable page: a template name and its data. */
export interface FilterHtml {
  template: string;
  context: Record<string, unknown>;
}

/** Base class of filter backends (DRF's `BaseFilterBackend`). */
export abstract class BaseFilterBackend {
  /** Narrows `qb` for this request; must only add parameterised conditions. */
  abstract filterQueryset(request: FastifyRequest, qb: AnyQueryBuilder, view: FilteredView): AnyQueryBuilder;

  /**
   * A key for the query this backend makes of this request: requests with equal keys get the same
   * SQL (values aside), so views compile it once and prepare it on the database. `null` (the
   * default) when the query may depend on anything else of the request, the user for instance.
   */
  queryShape(_request: FastifyRequest, _view: FilteredView): string | null {
    return null;
  }

  /** Query parameters this backend reads, as JSON Schema properties (OpenAPI and validation). */
  getQuerystringProperties(_view: FilteredView): Record<string, Record<string, unknown>> {
    return {};
  }

  /** What the browsable API shows for this backend (a template name and its data), or null. */
  toHtml(_request: FastifyRequest, _view: FilteredView): FilterHtml | null {
    return null;
  }
}

/** The value of one query parameter; the last one wins when it is repeated, as in Django. */
export function queryParam(request: FastifyRequest, name: string): string | undefined {
  const value = (request.query as Record<string, unknown> | undefined)?.[name];
  const last = Array.isArray(value) ? value[value.length - 1] : value;
  return last === undefined || last === null ? undefined : String(last);
}

/**
 * What a GET form needs to reload the list with new values for `own` parameters: the absolute
 * URL of the list without a query, and the other parameters as hidden inputs (the paginator's
 * are dropped, so a new filter starts again at the first page).
 */
export function formTarget(request: FastifyRequest, view: FilteredView, own: Iterable<string>) {
  const url = new URL(request.url, origin(request));
  const drop = new Set([...own, ...Object.keys(view.getPaginator(request)?.getQuerystringProperties(view) ?? {})]);
  const hidden = [...url.searchParams].filter(([name]) => !drop.has(name)).map(([name, value]) => ({ name, value }));
  return { action: `${origin(request)}${url.pathname}`, hidden };
}

/** Escapes LIKE's wildcards (and its escape character) so a value matches literally. */
export function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`);
}
