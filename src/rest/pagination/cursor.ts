/**
 * `CursorPagination`: `?cursor=<opaque>` answers `{"next", "previous", "results"}`, as DRF's class
 * of the same name, but with keyset (seek) queries: a cursor holds the ordering values of the row
 * a page starts after, so a page costs an index range scan however deep it is, and rows written
 * between two requests neither repeat nor vanish. Cursors are signed with the app's secret key.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { raw } from '@mikro-orm/core';
import type { FastifyRequest } from 'fastify';
import { NotFound, SetupError } from '../exceptions.ts';
import type { AnyQueryBuilder } from '../orm.ts';
import { settingsOf, type RestSettings } from '../settings.ts';
import { withQuery } from '../urls.ts';
import { BasePagination, type JsonSchema, linkSchema, pageSizeOf, type PaginationHtml, rawQueryParam, type PaginatedView } from './base.ts';
import { pageSizeProperty } from './page-number.ts';

/** One term of a cursor's ordering, resolved to its column. */
export interface CursorOrderingTerm {
  field: string;
  desc: boolean;
  /** The quoted column, e.g. `"b0"."created_at"`. */
  column: string;
  nullable: boolean;
}

/** Where a page starts: the ordering values of a row, the direction, and whether that row is part of the page. */
export interface CursorPosition {
  values: (string | null)[];
  reverse: boolean;
  inclusive: boolean;
}

type PropertyLike = { kind?: string; fieldNames?: string[]; nullable?: boolean; unique?: boolean | string; primary?: boolean };
type MetaLike = { className: string; primaryKeys: string[]; properties: Record<string, PropertyLike | undefined> };
type OrderingSource = { getOrdering(request: FastifyRequest, view: PaginatedView): string[] };

/**
 * Pages through a list in a fixed order with opaque, tamper-proof cursors (DRF's
 * `CursorPagination`); a cursor that was altered, or made for another ordering, is a 404
 * "Invalid cursor". There is no count and no page number, by design.
 * @example
 * class BookViewSet extends ReadOnlyModelViewSet<BookSerializer> {
 *   override pagination = Object.assign(new CursorPagination(), { ordering: ['-createdAt', 'id'], pageSize: 20 });
 * }
 */
export class CursorPagination extends BasePagination {
  /** Rows per page; `undefined` reads the app's `pageSize` setting per request, `null` lists everything unless `page_size` is given. */
  pageSize: number | null | undefined = undefined;
  /** The query parameter carrying the cursor. */
  cursorQueryParam = 'cursor';
  /** The query parameter a client sets the page size with; `null` refuses it (DRF's default). */
  pageSizeQueryParam: string | null = 'page_size';
  /** The largest page size a client gets; `undefined` reads the app's `maxPageSize` setting. */
  maxPageSize: number | undefined = undefined;
  /**
   * The order of the pages, e.g. `['-createdAt', 'id']`: the entity's own columns; the primary key
   * is appended unless a unique, non-null field ends it. An `OrderingFilter` on the view takes
   * precedence (as in DRF); `undefined` falls back to the view's `ordering`, then the primary key.
   */
  ordering: readonly string[] | undefined = undefined;
  /** The browsable page's control. */
  template = 'pagination/previous_and_next';
  /** The 404 detail of a cursor that cannot be used. */
  invalidCursorMessage = 'Invalid cursor';

  /** The page size of this request: the client's (capped), else the default, else `null` (not paginated). */
  getPageSize(request: FastifyRequest): number | null {
    return pageSizeOf(this, request);
  }

  override paginatesByDefault(settings: Readonly<RestSettings>): boolean {
    return (this.pageSize === undefined ? settings.pageSize : this.pageSize) !== null;
  }

  /** The ordering of this request, ending in a unique column (DRF's `get_ordering`). */
  getOrdering(request: FastifyRequest, view: PaginatedView, qb: AnyQueryBuilder): CursorOrderingTerm[] {
    const meta = qb.mainAlias.meta as unknown as MetaLike;
    const filter = view.getFilterBackends(request).find((b) => typeof (b as Partial<OrderingSource>).getOrdering === 'function') as OrderingSource | undefined;
    const fromFilter = filter?.getOrdering(request, view) ?? [];
    const fromView = Object.entries(view.ordering ?? {}).map(([field, direction]) => (direction === 'desc' ? `-${field}` : field));
    const terms = fromFilter.length ? fromFilter : (this.ordering ?? fromView);
    const resolved: CursorOrderingTerm[] = [];
    const column = (field: string, prop: PropertyLike, desc: boolean): CursorOrderingTerm => ({
      field,
      desc,
      column: `${quote(qb.alias)}.${quote(prop.fieldNames![0]!)}`,
      nullable: Boolean(prop.nullable) && !prop.primary,
    });
    for (const term of terms) {
      const desc = term.startsWith('-');
      const field = desc ? term.slice(1) : term;
      const prop = meta.properties[field];
      if (!prop || prop.kind !== 'scalar' || !prop.fieldNames?.length) {
        if (terms === this.ordering) throw new SetupError('FASTREST_ERR_PAGINATION', `${meta.className} has no column "${field}" to order cursor pages by`);
        continue;
      }
      if (resolved.some((r) => r.field === field)) continue;
      resolved.push(column(field, prop, desc));
      if (prop.primary || (prop.unique && !prop.nullable)) return resolved;
    }
    for (const pk of meta.primaryKeys) {
      if (!resolved.some((r) => r.field === pk)) resolved.push(column(pk, meta.properties[pk]!, false));
    }
    return resolved;
  }

  async paginate(request: FastifyRequest, qb: AnyQueryBuilder, view: PaginatedView, fields: string[]): Promise<unknown> {
    const pageSize = this.getPageSize(request);
    if (pageSize === null) return view.fetchRows(request, qb.select(fields));
    const terms = this.getOrdering(request, view, qb);
    const context = `${(qb.mainAlias.meta as unknown as MetaLike).className}:${terms.map((t) => (t.desc ? '-' : '') + t.field).join(',')}`;
    const position = this.decodeCursor(request, context, terms.length);
    const backward = position?.reverse ?? false;
    const scan = terms.map((t) => ({ ...t, desc: t.desc !== backward }));

    let query = qb
      .select(fields)
      .addSelect(terms.map((t, i) => raw(`${t.column}::text as "__cursor${i}"`)))
      .orderBy(scan.map((t) => ({ [t.field]: t.desc ? 'desc' : 'asc' })) as never);
    if (position) {
      const condition = keysetCondition(scan, position.values, position.inclusive);
      query = query.andWhere(condition.sql, condition.params);
    }
    const fetched: Record<string, unknown>[] = await view.fetchRows(request, query.limit(pageSize + 1));
    const hasMore = fetched.length > pageSize;
    const rows = fetched.slice(0, pageSize);
    if (backward) rows.reverse();
    const positions = rows.map((row) =>
      terms.map((_, i) => {
        const value = row[`__cursor${i}`];
        delete row[`__cursor${i}`];
        return value === null || value === undefined ? null : String(value);
      }),
    );

    const link = (at: CursorPosition) => withQuery(request, { [this.cursorQueryParam]: this.encodeCursor(request, context, at) });
    const hasNext = backward || hasMore;
    const hasPrevious = backward ? hasMore : position !== null;
    const first = positions[0];
    const last = positions.at(-1);
    return {
      next: !hasNext ? null : last ? link({ values: last, reverse: false, inclusive: false }) : position ? link({ ...position, reverse: false, inclusive: true }) : null,
      previous: !hasPrevious ? null : first ? link({ values: first, reverse: true, inclusive: false }) : position ? link({ ...position, reverse: true, inclusive: true }) : null,
      results: rows,
    };
  }

  /** The opaque cursor of a position: its JSON in base64url, a dot, and an HMAC-SHA256 of it bound to the ordering. */
  encodeCursor(request: FastifyRequest, context: string, position: CursorPosition): string {
    const data = { p: position.values, ...(position.reverse ? { r: 1 } : {}), ...(position.inclusive ? { i: 1 } : {}) };
    const payload = Buffer.from(JSON.stringify(data)).toString('base64url');
    return `${payload}.${sign(settingsOf(request), context, payload).toString('base64url')}`;
  }

  /** The position of this request's cursor, `null` without one; a 404 "Invalid cursor" unless it is intact and made for this ordering. */
  decodeCursor(request: FastifyRequest, context: string, size: number): CursorPosition | null {
    const token = rawQueryParam(request, this.cursorQueryParam);
    if (!token) return null;
    const invalid = new NotFound(this.invalidCursorMessage);
    const [payload, signature, ...rest] = token.split('.');
    if (!payload || !signature || rest.length) throw invalid;
    const expected = sign(settingsOf(request), context, payload);
    const given = Buffer.from(signature, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalid;
    let data: unknown;
    try {
      data = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    } catch {
      throw invalid;
    }
    const { p, r, i } = (data ?? {}) as { p?: unknown; r?: unknown; i?: unknown };
    if (!Array.isArray(p) || p.length !== size || !p.every((v) => v === null || typeof v === 'string')) throw invalid;
    return { values: p as (string | null)[], reverse: r === 1, inclusive: i === 1 };
  }

  getResponseSchema(itemName: string): JsonSchema & { $id: string } {
    const base = `http://api.example.org/${itemName.toLowerCase()}s/`;
    return {
      $id: `CursorPaginated${itemName}List`,
      type: 'object',
      description: `One page of ${itemName} objects, with opaque cursor links to the pages around it.`,
      properties: {
        next: linkSchema(`${base}?cursor=eyJwIjpbIjQyIl19.ZXhhbXBsZQ`),
        previous: linkSchema(`${base}?cursor=eyJwIjpbIjIxIl0sInIiOjF9.ZXhhbXBsZQ`),
        results: { type: 'array', items: { $ref: `${itemName}#` } },
      },
      required: ['next', 'previous', 'results'],
    };
  }

  override getQuerystringProperties(_view: PaginatedView): Record<string, JsonSchema> {
    return {
      [this.cursorQueryParam]: { type: 'string', description: 'The pagination cursor value, taken from a `next` or `previous` link.' },
      ...(this.pageSizeQueryParam ? { [this.pageSizeQueryParam]: pageSizeProperty(this.maxPageSize) } : {}),
    };
  }

  /** Previous and next links, when there is a page either side. */
  override toHtml(_request: FastifyRequest, _view: PaginatedView, body: unknown): PaginationHtml | null {
    const { next, previous } = (body ?? {}) as { next?: string | null; previous?: string | null };
    if (!next && !previous) return null;
    return { template: this.template, context: { previousUrl: previous ?? null, nextUrl: next ?? null } };
  }
}

/**
 * SQL (with `?` placeholders) selecting the rows after `values` in the scan order `terms`, or from
 * them on when `inclusive`. A row comparison, which an index serves, when every term runs the
 * same way over non-null columns; otherwise the expanded form, NULLs placed as PostgreSQL
 * sorts them (last ascending, first descending).
 */
export function keysetCondition(terms: readonly CursorOrderingTerm[], values: readonly (string | null)[], inclusive: boolean): { sql: string; params: unknown[] } {
  const uniform = terms.every((t) => t.desc === terms[0]!.desc && !t.nullable) && values.every((v) => v !== null);
  if (uniform) {
    const op = (terms[0]!.desc ? '<' : '>') + (inclusive ? '=' : '');
    return { sql: `(${terms.map((t) => t.column).join(', ')}) ${op} (${terms.map(() => '?').join(', ')})`, params: [...values] };
  }
  const params: unknown[] = [];
  const equal = (t: CursorOrderingTerm, v: string | null) => (v === null ? `${t.column} is null` : (params.push(v), `${t.column} = ?`));
  const beyond = (t: CursorOrderingTerm, v: string | null): string | null => {
    const nullsAfter = !t.desc;
    if (v === null) return nullsAfter ? null : `${t.column} is not null`;
    params.push(v);
    return `${t.column} ${t.desc ? '<' : '>'} ?${t.nullable && nullsAfter ? ` or ${t.column} is null` : ''}`;
  };
  const clauses: string[] = [];
  for (let k = 0; k < terms.length; k++) {
    const mark = params.length;
    const head = terms.slice(0, k).map((t, j) => equal(t, values[j]!));
    const tail = beyond(terms[k]!, values[k]!);
    if (tail === null) {
      params.length = mark;
      continue;
    }
    clauses.push([...head, `(${tail})`].join(' and '));
  }
  if (inclusive) clauses.push(terms.map((t, j) => equal(t, values[j]!)).join(' and '));
  return { sql: clauses.length ? clauses.map((c) => `(${c})`).join(' or ') : 'false', params };
}

function quote(identifier: string): string {
  return `"${identifier.replace(/"/g, '""')}"`;
}

let processSecret: string | undefined;
const signingKeys = new Map<string, Buffer>();

/** HMAC-SHA256 of a cursor payload under a key derived from the app's secret (random per process when unset). */
function sign(settings: Readonly<RestSettings>, context: string, payload: string): Buffer {
  const secret = settings.secretKey ?? (processSecret ??= randomBytes(32).toString('base64url'));
  let key = signingKeys.get(secret);
  if (!key) {
    key = createHmac('sha256', secret).update('fastrest.pagination.CursorPagination').digest();
    signingKeys.set(secret, key);
  }
  return createHmac('sha256', key).update(context).update('\n').update(payload).digest();
}
