/**
 * `PageNumberPagination`: `?page=2&page_size=10` answers
 * `{"count", "next", "previous", "results"}`, as DRF's class of the same name.
 */
import type { FastifyRequest } from 'fastify';
import { NotFound } from '../exceptions.ts';
import { type AnyQueryBuilder, type CountMode, countRows, reconcile } from '../orm.ts';
import type { RestSettings } from '../settings.ts';
import { withQuery } from '../urls.ts';
import {
  BasePagination,
  linkSchema,
  pageLinks,
  pageSizeOf,
  positiveInt,
  rawQueryParam,
  type JsonSchema,
  type PaginationHtml,
  type PaginatedView,
} from './base.ts';

interface PageState {
  page: number;
  pageSize: number;
  count: number | undefined;
  hasNext: boolean;
}

/**
 * Pages by number (DRF's `PageNumberPagination`); `page=last` is the last page, a page that
 * is not a whole number ≥ 1 or lies beyond the last one is a 404 "Invalid page.".
 * @example
 * class BookViewSet extends ModelViewSet<BookSerializer> {
 *   override pagination = Object.assign(new PageNumberPagination(), { pageSize: 20 });
 * }
 */
export class PageNumberPagination extends BasePagination {
  /** Rows per page; `undefined` reads the app's `pageSize` setting per request, `null` lists everything unless `page_size` is given. */
  pageSize: number | null | undefined = undefined;
  /** The query parameter naming the page. */
  pageQueryParam = 'page';
  /** The query parameter a client sets the page size with; `null` refuses it (DRF's default). */
  pageSizeQueryParam: string | null = 'page_size';
  /** The largest page size a client gets; `undefined` reads the app's `maxPageSize` setting. */
  maxPageSize: number | undefined = undefined;
  /** Values of `page` meaning the last page. */
  lastPageStrings: readonly string[] = ['last'];
  /** How `count` is computed (see `CountMode`); `none` drops it from the envelope. */
  count: CountMode = 'exact';
  /** With `count: 'estimate'`, estimates below this are replaced by an exact count. */
  estimateThreshold = 10_000;
  /** The browsable page's control. */
  template = 'pagination/numbers';
  /** The 404 detail of a page that does not exist. */
  invalidPageMessage = 'Invalid page.';

  readonly #pages = new WeakMap<FastifyRequest, PageState>();

  /** The page size of this request: the client's (capped), else the default, else `null` (not paginated). */
  getPageSize(request: FastifyRequest): number | null {
    return pageSizeOf(this, request);
  }

  /** The count mode of this request. */
  getCountMode(_request: FastifyRequest): CountMode {
    return this.count;
  }

  override paginatesByDefault(settings: Readonly<RestSettings>): boolean {
    return (this.pageSize === undefined ? settings.pageSize : this.pageSize) !== null;
  }

  async paginate(request: FastifyRequest, qb: AnyQueryBuilder, view: PaginatedView, fields: string[]): Promise<unknown> {
    const pageSize = this.getPageSize(request);
    if (pageSize === null) return view.fetchRows(request, qb.select(fields));
    const raw = rawQueryParam(request, this.pageQueryParam) || '1';
    const last = this.lastPageStrings.includes(raw);
    const asked = last ? undefined : positiveInt(raw, { strict: true });
    if (!last && asked === undefined) throw this.invalidPage();
    const mode = this.getCountMode(request);
    const list = view.listQuery(request, qb, fields);
    const counted = await countRows(request, qb, last ? 'exact' : mode, this.estimateThreshold, () => list.count());

    let state: PageState;
    let rows: Record<string, unknown>[];
    if (counted?.exact) {
      const numPages = Math.max(1, Math.ceil(counted.count / pageSize));
      const page = last ? numPages : asked!;
      if (page > numPages) throw this.invalidPage();
      rows = await list.window(pageSize, (page - 1) * pageSize);
      state = { page, pageSize, count: mode === 'none' ? undefined : counted.count, hasNext: page < numPages };
    } else {
      const page = asked!;
      const offset = (page - 1) * pageSize;
      if (offset > Number.MAX_SAFE_INTEGER) throw this.invalidPage();
      const fetched: Record<string, unknown>[] = await list.window(pageSize + 1, offset);
      const hasNext = fetched.length > pageSize;
      rows = fetched.slice(0, pageSize);
      if (page > 1 && rows.length === 0) throw this.invalidPage();
      state = { page, pageSize, count: counted ? reconcile(counted.count, offset, rows.length, hasNext) : undefined, hasNext };
    }
    this.#pages.set(request, state);
    return {
      ...(state.count === undefined ? {} : { count: state.count }),
      next: state.hasNext ? this.pageUrl(request, state.page + 1) : null,
      previous: state.page > 1 ? this.pageUrl(request, state.page - 1) : null,
      results: rows,
    };
  }

  /** The absolute URL of a page of this list; the first page's drops the page parameter, as in DRF. */
  pageUrl(request: FastifyRequest, page: number): string {
    return withQuery(request, { [this.pageQueryParam]: page === 1 ? null : page });
  }

  getResponseSchema(itemName: string): JsonSchema & { $id: string } {
    return envelopeSchema(itemName, this.count !== 'none', '?page=4', '?page=2');
  }

  override getQuerystringProperties(_view: PaginatedView): Record<string, JsonSchema> {
    return {
      [this.pageQueryParam]: {
        anyOf: [{ type: 'integer', minimum: 1 }, { type: 'string', enum: [...this.lastPageStrings] }],
        description: `A page number within the paginated result set, or ${this.lastPageStrings.map((s) => `"${s}"`).join(' or ')} for the last page.`,
      },
      ...(this.pageSizeQueryParam ? { [this.pageSizeQueryParam]: pageSizeProperty(this.maxPageSize) } : {}),
    };
  }

  /** Previous and next links and a window of page links, when the list has more than one page. */
  override toHtml(request: FastifyRequest, _view: PaginatedView, _body: unknown): PaginationHtml | null {
    const state = this.#pages.get(request);
    if (!state) return null;
    const final = state.count === undefined ? state.page + (state.hasNext ? 1 : 0) : Math.max(1, Math.ceil(state.count / state.pageSize));
    if (final <= 1) return null;
    const current = Math.min(state.page, final);
    return {
      template: this.template,
      context: {
        previousUrl: state.page > 1 ? this.pageUrl(request, state.page - 1) : null,
        nextUrl: state.hasNext ? this.pageUrl(request, state.page + 1) : null,
        pageLinks: pageLinks(current, final, (page) => this.pageUrl(request, page)),
      },
    };
  }

  protected invalidPage(): NotFound {
    return new NotFound(this.invalidPageMessage);
  }
}

/** `PaginatedBookList`: count (unless uncounted), next, previous and results. */
export function envelopeSchema(itemName: string, counted: boolean, nextQuery: string, previousQuery: string): JsonSchema & { $id: string } {
  const base = `http://api.example.org/${itemName.toLowerCase()}s/`;
  return {
    $id: `${counted ? '' : 'Uncounted'}Paginated${itemName}List`,
    type: 'object',
    description: `One page of ${itemName} objects, with absolute links to the pages around it.`,
    properties: {
      ...(counted ? { count: { type: 'integer', minimum: 0, description: 'How many objects the whole list holds.', examples: [123] } } : {}),
      next: linkSchema(`${base}${nextQuery}`),
      previous: linkSchema(`${base}${previousQuery}`),
      results: { type: 'array', items: { $ref: `${itemName}#` } },
    },
    required: [...(counted ? ['count'] : []), 'next', 'previous', 'results'],
  };
}

/** The `page_size` parameter. */
export function pageSizeProperty(max: number | null | undefined): JsonSchema {
  const cap = max === null ? '' : `; larger values are capped at ${max ?? 'the maximum page size'}`;
  return { type: 'integer', minimum: 1, description: `Number of results to return per page${cap}.` };
}
