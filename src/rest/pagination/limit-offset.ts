/**
 * `LimitOffsetPagination`: `?limit=5&offset=10` answers `{"count", "next", "previous", "results"}`,
 * as DRF's class of the same name. Without a limit and without a default one, the list is not
 * paginated at all: that is how a list endpoint gains pagination without breaking its clients.
 */
import type { FastifyRequest } from 'fastify';
import { type AnyQueryBuilder, type CountMode, countRows, reconcile } from '../orm.ts';
import { settingsOf, type RestSettings } from '../settings.ts';
import { withQuery } from '../urls.ts';
import { BasePagination, type JsonSchema, pageLinks, type PaginationHtml, positiveInt, rawQueryParam, type PaginatedView } from './base.ts';
import { envelopeSchema, pageSizeProperty } from './page-number.ts';

interface WindowState {
  limit: number;
  offset: number;
  count: number | undefined;
  hasNext: boolean;
}

/**
 * Pages by limit and offset (DRF's `LimitOffsetPagination`). An invalid `limit` falls back to
 * the default limit and an invalid `offset` to 0, as in DRF: neither is ever an error.
 * @example
 * class BookViewSet extends ModelViewSet<BookSerializer> {
 *   override pagination = new LimitOffsetPagination(); // plain list unless ?limit= is given
 * }
 */
export class LimitOffsetPagination extends BasePagination {
  /** Rows when the client gives no limit; `undefined` reads the app's `pageSize` setting per request, `null` lists everything. */
  defaultLimit: number | null | undefined = undefined;
  /** The query parameter of the limit. */
  limitQueryParam = 'limit';
  /** The query parameter of the offset. */
  offsetQueryParam = 'offset';
  /** The largest limit a client gets; `undefined` reads the app's `maxPageSize` setting, `null` sets no cap. */
  maxLimit: number | null | undefined = undefined;
  /** How `count` is computed (see `CountMode`); `none` drops it from the envelope. */
  count: CountMode = 'exact';
  /** With `count: 'estimate'`, estimates below this are replaced by an exact count. */
  estimateThreshold = 10_000;
  /** The browsable page's control. */
  template = 'pagination/numbers';

  readonly #windows = new WeakMap<FastifyRequest, WindowState>();

  /** The limit of this request: the client's (capped), else the default, else `null` (not paginated). */
  getLimit(request: FastifyRequest): number | null {
    const settings = settingsOf(request);
    const cutoff = this.maxLimit === undefined ? settings.maxPageSize : this.maxLimit;
    const asked = positiveInt(rawQueryParam(request, this.limitQueryParam), { strict: true, cutoff });
    if (asked !== undefined) return asked;
    return this.defaultLimit === undefined ? settings.pageSize : this.defaultLimit;
  }

  /** The offset of this request; anything but a whole number ≥ 0 is 0. */
  getOffset(request: FastifyRequest): number {
    return positiveInt(rawQueryParam(request, this.offsetQueryParam)) ?? 0;
  }

  /** The count mode of this request. */
  getCountMode(_request: FastifyRequest): CountMode {
    return this.count;
  }

  override paginatesByDefault(settings: Readonly<RestSettings>): boolean {
    return (this.defaultLimit === undefined ? settings.pageSize : this.defaultLimit) !== null;
  }

  async paginate(request: FastifyRequest, qb: AnyQueryBuilder, view: PaginatedView, fields: string[]): Promise<unknown> {
    const limit = this.getLimit(request);
    if (limit === null) return view.fetchRows(request, qb.select(fields));
    const offset = this.getOffset(request);
    const mode = this.getCountMode(request);
    const list = view.listQuery(request, qb, fields);
    const counted = await countRows(request, qb, mode, this.estimateThreshold, () => list.count());

    let state: WindowState;
    let rows: Record<string, unknown>[];
    if (counted?.exact) {
      rows = counted.count === 0 || offset >= counted.count ? [] : await list.window(limit, offset);
      state = { limit, offset, count: counted.count, hasNext: offset + limit < counted.count };
    } else {
      const within = offset + limit < Number.MAX_SAFE_INTEGER;
      const fetched: Record<string, unknown>[] = within ? await list.window(limit + 1, offset) : [];
      const hasNext = fetched.length > limit;
      rows = fetched.slice(0, limit);
      state = { limit, offset, count: counted ? reconcile(counted.count, offset, rows.length, hasNext) : undefined, hasNext };
    }
    this.#windows.set(request, state);
    return {
      ...(mode === 'none' ? {} : { count: state.count }),
      next: state.hasNext ? this.windowUrl(request, limit, offset + limit) : null,
      previous: offset > 0 ? this.windowUrl(request, limit, offset - limit) : null,
      results: rows,
    };
  }

  /** The absolute URL of the rows from `offset`; offset 0 (or less) drops the parameter, as in DRF. */
  windowUrl(request: FastifyRequest, limit: number, offset: number): string {
    return withQuery(request, { [this.limitQueryParam]: limit, [this.offsetQueryParam]: offset > 0 ? offset : null });
  }

  getResponseSchema(itemName: string): JsonSchema & { $id: string } {
    return envelopeSchema(itemName, this.count !== 'none', '?limit=100&offset=400', '?limit=100&offset=200');
  }

  override getQuerystringProperties(_view: PaginatedView): Record<string, JsonSchema> {
    return {
      [this.limitQueryParam]: pageSizeProperty(this.maxLimit),
      [this.offsetQueryParam]: { type: 'integer', minimum: 0, description: 'The initial index from which to return the results.' },
    };
  }

  /** Previous and next links and a window of page links, as DRF's `get_html_context` computes them. */
  override toHtml(request: FastifyRequest, _view: PaginatedView, _body: unknown): PaginationHtml | null {
    const state = this.#windows.get(request);
    if (!state) return null;
    const { limit, offset } = state;
    const before = Math.ceil(offset / limit);
    const after = state.count === undefined ? (state.hasNext ? 2 : 1) : Math.ceil((state.count - offset) / limit);
    const final = Math.max(1, before + after);
    if (final <= 1) return null;
    const current = Math.min(before + 1, final);
    return {
      template: this.template,
      context: {
        previousUrl: offset > 0 ? this.windowUrl(request, limit, offset - limit) : null,
        nextUrl: state.hasNext ? this.windowUrl(request, limit, offset + limit) : null,
        pageLinks: pageLinks(current, final, (page) => this.windowUrl(request, limit, page === 1 ? 0 : offset + (page - current) * limit)),
      },
    };
  }
}
