/**
 * Counting the rows of a list. `count(*)` reads every matching row, which is what makes the
 * first page of a large table slow; the planner's estimate costs a plan, not a scan.
 */
import type { FastifyRequest } from 'fastify';
import { readerOf } from './database.ts';
import { executeOn, queryBuilderOf } from './internals.ts';
import { readsFromPrimary } from './replicas.ts';
import type { AnyQueryBuilder } from './types.ts';
import { runStatement } from './statements.ts';

/**
 * How a paginator counts: `exact` runs `count(*)` (DRF's way); `estimate` reports PostgreSQL's
 * planner estimate, and counts exactly when the estimate is below a threshold; `none` omits `count`.
 */
export type CountMode = 'exact' | 'estimate' | 'none';

/** A count and whether it is exact. */
export interface RowCount {
  count: number;
  exact: boolean;
}

/** The `count(*)` query of a filtered query (its ordering, limit and offset dropped), as `getCount()` builds it. */
export function countQuery(qb: AnyQueryBuilder): AnyQueryBuilder {
  const counting = qb.clone();
  const inner = queryBuilderOf(counting);
  inner.processPopulateHint();
  counting.count(undefined, inner.hasToManyJoins()).limit(undefined as never).offset(undefined as never).orderBy([]);
  return counting;
}

/** `count(*)` of the filtered query, run as a prepared statement (through the ORM inside a transaction). */
export async function exactCount(request: FastifyRequest, qb: AnyQueryBuilder): Promise<number> {
  if (queryBuilderOf(qb).context) return queryBuilderOf(qb.clone()).getCount();
  const { sql, params } = countQuery(qb).toQuery();
  const [row] = await runStatement(readerOf(request), sql, params, 'read');
  return row ? Number(row['count']) : 0;
}

/**
 * The planner's estimate of how many rows the filtered query returns: `EXPLAIN (FORMAT JSON)` of
 * the same parameterised query, planned but not run. Unfiltered, the planner scales
 * `pg_class.reltuples` to the table's current size, so it stays close between ANALYZE runs.
 */
export async function estimatedCount(request: FastifyRequest, qb: AnyQueryBuilder): Promise<number | null> {
  const { sql, params } = qb.clone().orderBy([]).toQuery();
  const rows = await executeOn(request.em, `explain (format json) ${sql}`, params, readsFromPrimary(request.em) ? 'write' : 'read');
  const cell = rows[0]?.['QUERY PLAN'];
  const plan = (typeof cell === 'string' ? JSON.parse(cell) : cell) as { Plan?: { 'Plan Rows'?: unknown } }[] | undefined;
  const estimate = plan?.[0]?.Plan?.['Plan Rows'];
  return typeof estimate === 'number' && Number.isFinite(estimate) ? Math.max(0, Math.round(estimate)) : null;
}

/** The count of the filtered query under `mode`, or `null` with `none`; `exact` counts exactly (by default `exactCount`). */
export async function countRows(
  request: FastifyRequest,
  qb: AnyQueryBuilder,
  mode: CountMode,
  threshold: number,
  exact: () => Promise<number> = () => exactCount(request, qb),
): Promise<RowCount | null> {
  if (mode === 'none') return null;
  if (mode === 'estimate') {
    const estimate = await estimatedCount(request, qb);
    if (estimate !== null && estimate >= threshold) return { count: estimate, exact: false };
  }
  return { count: await exact(), exact: true };
}

/**
 * Makes an estimate agree with the page just read: exact when the page is the last one, never
 * less than the rows seen so far, never more than an empty page's offset.
 */
export function reconcile(estimate: number, offset: number, seen: number, hasNext: boolean): number {
  if (!hasNext) return seen > 0 || offset === 0 ? offset + seen : Math.min(estimate, offset);
  return Math.max(estimate, offset + seen + 1);
}
