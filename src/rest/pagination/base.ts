/**
 * The pagination seam (DRF's `BasePagination`) and the plumbing every paginator shares: reading
 * its query parameters as Django does, absolute links that keep the other parameters, the
 * envelope schemas, and the window of page links the browsable page shows.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fastJson from 'fast-json-stringify';
import type { AnyQueryBuilder, Row } from '../orm.ts';
import { settingsOf, type RestSettings } from '../settings.ts';

/** A JSON Schema, as plain data. */
export type JsonSchema = Record<string, unknown>;

/** What a paginator shows in the browsable page: a template name and its data. */
export interface PaginationHtml {
  template: string;
  context: Record<string, unknown>;
}

/** One entry of the page-number control; a break (`…`) has neither URL nor number. */
export interface PageLink {
  url: string | null;
  number: number | null;
  isActive: boolean;
  isBreak: boolean;
}

/** A list as paginators read it: how many rows match, and `limit` rows from `offset`. */
export interface ListQuery {
  count(): Promise<number>;
  window(limit: number, offset: number): Promise<Row[]>;
}

/**
 * What a paginator reads of the view whose list it pages; `GenericAPIView` has all of it.
 * Pagination sits below the generic views (docs/architecture.md) and knows them by this shape only.
 */
export interface PaginatedView {
  /** The view's default ordering. */
  readonly ordering: Readonly<Record<string, 'asc' | 'desc'>> | undefined;
  /** The filter backends of the request (a cursor takes its ordering from the one that orders). */
  getFilterBackends(request: FastifyRequest): readonly object[];
  /** The count and the windows of rows of the request's (filtered) list. */
  listQuery(request: FastifyRequest, qb: AnyQueryBuilder, fields: string[]): ListQuery;
  /** Runs a query that selects the serializer's readable columns, related rows joined in. */
  fetchRows(request: FastifyRequest, qb: AnyQueryBuilder): Promise<Row[]>;
}

/** Base class of paginators (DRF's `BasePagination`). */
export abstract class BasePagination {
  /**
   * Runs the query for one page and returns the response body: the envelope with the rows, or
   * the plain list of rows when this request is not paginated (no page size, as in DRF).
   */
  abstract paginate(request: FastifyRequest, qb: AnyQueryBuilder, view: PaginatedView, fields: string[]): Promise<unknown>;

  /** The envelope's JSON Schema around a list of `itemName` (e.g. `Book`), with an `$id` such as `PaginatedBookList`. */
  abstract getResponseSchema(itemName: string): JsonSchema & { $id: string };

  /**
   * Whether a request naming none of the paginator's parameters gets a page; when it does not
   * (no default page size), the list operation answers either shape.
   */
  paginatesByDefault(_settings: Readonly<RestSettings>): boolean {
    return true;
  }

  /** The list operation's 200 response schema: the envelope, or the plain list or the envelope. */
  getListResponseSchema(itemName: string, settings: Readonly<RestSettings>): JsonSchema {
    const envelope = { $ref: `${this.getResponseSchema(itemName).$id}#` };
    if (this.paginatesByDefault(settings)) return envelope;
    return {
      description: 'The plain list unless a page is asked for, then one page of it.',
      anyOf: [{ type: 'array', items: { $ref: `${itemName}#` } }, envelope],
    };
  }

  /**
   * Query parameters this paginator reads, as JSON Schema properties. They document valid values;
   * invalid ones get the paginator's own answers (DRF's 404 "Invalid page." or a fallback), not a 400.
   */
  getQuerystringProperties(_view: PaginatedView): Record<string, JsonSchema> {
    return {};
  }

  /** What the browsable API shows for this paginator after `paginate` (a template name and its data), or null. */
  toHtml(_request: FastifyRequest, _view: PaginatedView, _body: unknown): PaginationHtml | null {
    return null;
  }
}

declare module '../settings.ts' {
  interface RestSettings {
    /**
     * The paginator of list endpoints whose view sets no `pagination` (DRF's DEFAULT_PAGINATION_CLASS);
     * `null` leaves such lists unpaginated. A view opts out on its own with `pagination = null`.
     */
    defaultPaginationClass: BasePagination | null;
  }
}

/** A query parameter exactly as the client sent it; the last one wins when it is repeated, as in Django. */
export function rawQueryParam(request: FastifyRequest, name: string): string | undefined {
  const start = request.url.indexOf('?');
  if (start < 0) return undefined;
  return new URLSearchParams(request.url.slice(start + 1)).getAll(name).at(-1);
}

/** The page size a paginator with these options gives a request: the client's (capped), else its default, else the app's. */
export function pageSizeOf(
  options: { pageSize?: number | null; pageSizeQueryParam?: string | null; maxPageSize?: number | null },
  request: FastifyRequest,
): number | null {
  const settings = settingsOf(request);
  if (options.pageSizeQueryParam) {
    const asked = positiveInt(rawQueryParam(request, options.pageSizeQueryParam), { strict: true, cutoff: options.maxPageSize ?? settings.maxPageSize });
    if (asked !== undefined) return asked;
  }
  return options.pageSize === undefined ? settings.pageSize : options.pageSize;
}

/**
 * Django's `_positive_int`: a whole number, > 0 when `strict`, at most `cutoff`; `undefined`
 * when the text is not one. Numbers beyond what JavaScript counts exactly are capped there.
 */
export function positiveInt(raw: string | undefined, options: { strict?: boolean; cutoff?: number | null } = {}): number | undefined {
  if (raw === undefined || !/^\s*[+-]?\d+\s*$/.test(raw)) return undefined;
  const value = Math.min(Number(raw.trim()), Number.MAX_SAFE_INTEGER);
  if (value < 0 || (value === 0 && options.strict)) return undefined;
  return options.cutoff ? Math.min(value, options.cutoff) : value;
}

/** DRF's window of page numbers: first, last, and two either side of the current one, with `null` for a break. */
export function displayedPageNumbers(current: number, final: number): (number | null)[] {
  if (final <= 5) return Array.from({ length: final }, (_, i) => i + 1);
  const included = new Set([1, current - 1, current, current + 1, final]);
  if (current <= 4) [2, 3].forEach((n) => included.add(n));
  if (current >= final - 3) [final - 1, final - 2].forEach((n) => included.add(n));
  const numbers: (number | null)[] = [...included].filter((n) => n > 0 && n <= final).sort((a, b) => a - b);
  if (current > 4) numbers.splice(1, 0, null);
  if (current < final - 3) numbers.splice(numbers.length - 1, 0, null);
  return numbers;
}

/** The page-number control's entries, each with its URL and the current page marked. */
export function pageLinks(current: number, final: number, urlFor: (page: number) => string): PageLink[] {
  return displayedPageNumbers(current, final).map((number) =>
    number === null
      ? { url: null, number: null, isActive: false, isBreak: true }
      : { url: urlFor(number), number, isActive: number === current, isBreak: false },
  );
}

/** The schema of a `next`/`previous` link. */
export function linkSchema(example: string): JsonSchema {
  return { type: ['string', 'null'], format: 'uri', examples: [example] };
}

type SchemaErrorLike = { instancePath?: string; params?: { missingProperty?: unknown } };

/**
 * What is left of a query-string validation error once the errors on `keys` (a paginator's own
 * parameters, which it answers itself) are set aside; `null` when nothing is left.
 */
export function queryErrorsBeyond(error: Error & { validation?: unknown; validationContext?: string }, keys: readonly string[]): Error | null {
  if (error.validationContext !== 'querystring' || !Array.isArray(error.validation)) return error;
  const owned = new Set(keys);
  const remaining = (error.validation as SchemaErrorLike[]).filter((e) => {
    const name = e.instancePath ? e.instancePath.split('/')[1] : e.params?.missingProperty;
    return !(typeof name === 'string' && owned.has(name));
  });
  if (!remaining.length) return null;
  return Object.assign(new Error(error.message), { validation: remaining, validationContext: error.validationContext, statusCode: 400 });
}

type Serialize = (data: unknown) => string;

/**
 * A route's serializer compiler for a list that answers either shape (`getListResponseSchema`
 * with `anyOf`): each body is serialized with the branch of its shape, an array or an envelope.
 * fast-json-stringify alone would pick the branch by validating the whole body against it, a
 * cost on every row and a 500 for a stored row that breaks a documented constraint.
 */
export function eitherShapeSerializerCompiler(app: FastifyInstance) {
  return ({ schema }: { schema: JsonSchema }): Serialize => {
    let compiled: Serialize | undefined;
    // Compiled on first use, when every shared schema of the app is registered.
    const compile = (target: JsonSchema): Serialize => fastJson(target as never, { schema: app.getSchemas() as never }) as Serialize;
    const branches = schema['anyOf'] as JsonSchema[] | undefined;
    const list = branches?.find((b) => b['type'] === 'array');
    const page = branches?.find((b) => b !== list);
    if (!list || !page || branches!.length !== 2) return (data) => (compiled ??= compile(schema))(data);
    let serializeList: Serialize | undefined;
    let serializePage: Serialize | undefined;
    return (data) => (Array.isArray(data) ? (serializeList ??= compile(list))(data) : (serializePage ??= compile(page))(data));
  };
}
