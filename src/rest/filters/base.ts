/**
 * The filter backend seam and the plumbing every backend shares: reading one query parameter as
 * Django's `QueryDict.get` does, and computing the absolute URLs the browsable page links to.
 */
import type { QueryBuilder } from '@mikro-orm/sql';
import type { FastifyRequest } from 'fastify';
import type { GenericAPIView } from '../generics.ts';
import { origin } from '../urls.ts';

/** A query builder over any entity. */
export type AnyQueryBuilder = QueryBuilder<any, any, any, any>;

/** What a backend shows in the browsable page: a template name and its data. */
export interface FilterHtml {
  template: string;
  context: Record<string, unknown>;
}

/** Base class of filter backends (DRF's `BaseFilterBackend`). */
export abstract class BaseFilterBackend {
  /** Narrows `qb` for this request; must only add parameterised conditions. */
  abstract filterQueryset(request: FastifyRequest, qb: AnyQueryBuilder, view: GenericAPIView): AnyQueryBuilder;

  /**
   * A key for the query this backend makes of this request: requests with equal keys get the same
   * SQL (values aside), so views compile it once and prepare it on the database. `null` (the
   * default) when the query may depend on anything else of the request, the user for instance.
   */
  queryShape(_request: FastifyRequest, _view: GenericAPIView): string | null {
    return null;
  }

  /** Query parameters this backend reads, as JSON Schema properties (OpenAPI and validation). */
  getQuerystringProperties(_view: GenericAPIView): Record<string, Record<string, unknown>> {
    return {};
  }

  /** What the browsable API shows for this backend (a template name and its data), or null. */
  toHtml(_request: FastifyRequest, _view: GenericAPIView): FilterHtml | null {
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
export function formTarget(request: FastifyRequest, view: GenericAPIView, own: Iterable<string>) {
  const url = new URL(request.url, origin(request));
  const drop = new Set([...own, ...Object.keys(view.getPaginator(request)?.getQuerystringProperties(view) ?? {})]);
  const hidden = [...url.searchParams].filter(([name]) => !drop.has(name)).map(([name, value]) => ({ name, value }));
  return { action: `${origin(request)}${url.pathname}`, hidden };
}

/** Escapes LIKE's wildcards (and its escape character) so a value matches literally. */
export function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`);
}
