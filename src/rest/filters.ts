/**
 * Filter backends: each narrows a list (and item lookups) from the query string, through
 * parameterised SQL only, and describes the query parameters it reads for OpenAPI.
 */
import type { QueryBuilder } from '@mikro-orm/sql';
import type { FastifyRequest } from 'fastify';
import type { GenericAPIView } from './generics.ts';

/** A query builder over any entity. */
export type AnyQueryBuilder = QueryBuilder<any, any, any, any>;

/** Base class of filter backends (DRF's `BaseFilterBackend`). */
export abstract class BaseFilterBackend {
  /** Narrows `qb` for this request; must only add parameterised conditions. */
  abstract filterQueryset(request: FastifyRequest, qb: AnyQueryBuilder, view: GenericAPIView): AnyQueryBuilder;

  /** Query parameters this backend reads, as JSON Schema properties (OpenAPI and validation). */
  getQuerystringProperties(_view: GenericAPIView): Record<string, Record<string, unknown>> {
    return {};
  }

  /** What the browsable API shows for this backend (a template name and its data), or null. */
  toHtml(_request: FastifyRequest, _view: GenericAPIView): { template: string; context: Record<string, unknown> } | null {
    return null;
  }
}
