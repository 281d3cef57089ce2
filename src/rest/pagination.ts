/**
 * Pagination: a paginator cuts a list query into a page and wraps the rows in an envelope
 * with absolute links; it also names its query parameters and its envelope schema for OpenAPI.
 */
import type { FastifyRequest } from 'fastify';
import type { AnyQueryBuilder } from './filters.ts';
import type { GenericAPIView } from './generics.ts';

/** Base class of paginators (DRF's `BasePagination`). */
export abstract class BasePagination {
  /** Runs the query for one page and returns the response body (the envelope with the rows). */
  abstract paginate(request: FastifyRequest, qb: AnyQueryBuilder, view: GenericAPIView, fields: string[]): Promise<unknown>;

  /** The envelope's JSON Schema around a list of `itemRef` (e.g. `Book#`), with an `$id` such as `PaginatedBookList`. */
  abstract getResponseSchema(itemName: string): Record<string, unknown> & { $id: string };

  /** Query parameters this paginator reads, as JSON Schema properties. */
  getQuerystringProperties(_view: GenericAPIView): Record<string, Record<string, unknown>> {
    return {};
  }

  /** What the browsable API shows for this paginator (a template name and its data), or null. */
  toHtml(_request: FastifyRequest, _view: GenericAPIView, _body: unknown): { template: string; context: Record<string, unknown> } | null {
    return null;
  }
}
