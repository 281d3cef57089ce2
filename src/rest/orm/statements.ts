/**
 * Prepared statements: SQL compiled once and run again with new values. On PostgreSQL a statement
 * runs as a named statement of the ORM's own `pg` pool (parsed and planned once per connection), a
 * read on a replica's pool when the ORM has replicas (`replicas.ts`); elsewhere (PGlite), or when
 * the ORM logs queries or shapes its connections (session context, connection hooks), it runs
 * through the ORM's connection as any query does. Rows come back with the values
 * MikroORM's result mapper gives (`direct/rows.ts`), without building entities.
 */
import { mapRows, type MapperMemo } from './direct/rows.ts';
import { configOf, driverInternals, queryBuilderOf, type ConnectionInternals, type DriverInternals, type NativePool, type OrmTarget } from './internals.ts';
import { readsFromPrimary } from './replicas.ts';
import type { AnyQueryBuilder, Row } from './types.ts';

/** A result row, keyed by property name once mapped. */
export type { Row } from './types.ts';

/** How one ORM runs statements: on each connection's `pg` pool when statements may be named there, else through the connection. */
interface Executor {
  driver: DriverInternals;
  /** Whether statements may run on the connections' pools (nothing the ORM does per query would be skipped). */
  direct: boolean;
  /** The pool of each connection (primary and replicas), once looked up; `null` when it has none. */
  pools: WeakMap<ConnectionInternals, NativePool | null>;
  /** A date as the ORM inlines it into SQL (the platform's `formatDate`), or `null` when the platform has none. */
  formatDate: ((date: Date) => string) | null;
  /** The ORM's `onQuery` hook, applied to the SQL as the ORM applies it. */
  onQuery: (sql: string, params: readonly unknown[]) => string;
}

/** Where statements run: the app's ORM, or any EntityManager of it. */
export type StatementTarget = OrmTarget;

/** What a statement does: a read may go to a replica (`orm/replicas.ts`), a write goes to the primary. */
export type StatementIntent = 'read' | 'write';

const executors = new WeakMap<object, Promise<Executor>>();

/** The native `pg` pool of a connection, or `null` (PGlite's native client has `query` too, but no pool and no named statements). */
async function poolOf(connection: ConnectionInternals): Promise<NativePool | null> {
  if (typeof connection.getNativeClient !== 'function') return null;
  // Throws when the client belongs to a Kysely instance passed in `driverOptions`: then the ORM runs everything.
  const native = (await connection.getNativeClient().catch(() => null)) as Partial<NativePool> | null;
  return typeof native?.query === 'function' && typeof native.totalCount === 'number' ? (native as NativePool) : null;
}

/** Whether statements of this ORM may run on its `pg` pools directly: nothing the ORM does per query would be skipped. */
async function openExecutor(target: StatementTarget): Promise<Executor> {
  const driver = driverInternals(target);
  const config = configOf(target);
  const primary = driver.getConnection('write');
  const direct =
    !config.getLogger().isEnabled('query') &&
    config.get('sessionContext') !== 'connection' &&
    !config.get('onCreateConnection') &&
    !config.get('onReserveConnection');
  const pools = new WeakMap<ConnectionInternals, NativePool | null>();
  if (direct) pools.set(primary, await poolOf(primary));
  const onQuery = (config.get('onQuery') as Executor['onQuery'] | undefined) ?? ((sql: string) => sql);
  const platform = driver.getPlatform();
  // The last date formatted is remembered: a row's timestamps are often the same instant.
  let last = Number.NaN;
  let text = '';
  const formatDate =
    typeof platform.formatDate === 'function'
      ? (date: Date) => (date.getTime() === last ? text : ((last = date.getTime()), (text = platform.formatDate!(date))))
      : null;
  return { driver, direct, pools, formatDate, onQuery };
}

/** Executors once open, so a statement awaits only the database. */
const openExecutors = new WeakMap<object, Executor>();

/** One executor per driver, so an app's ORM and its EntityManagers share statements. */
function executorOf(target: StatementTarget): Promise<Executor> {
  const key = driverInternals(target);
  let executor = executors.get(key);
  if (!executor) {
    executors.set(key, (executor = openExecutor(target)));
    executor.then((open) => openExecutors.set(key, open), () => executors.delete(key));
  }
  return executor;
}

const names = new Map<string, string>();
/** Statements named per process; past this many distinct texts, statements run unnamed (parsed each time). */
const MAX_NAMED = 500;
const unpreparable = new Set<string>();

function nameOf(text: string): string | undefined {
  let name = names.get(text);
  if (name === undefined && names.size < MAX_NAMED) names.set(text, (name = `fastrest_${names.size + 1}`));
  return name;
}

/** `?` placeholders (MikroORM's) as `$1`, `$2`...; `null` when the SQL has `??` or `$` outside quotes. */
export function numberedPlaceholders(sql: string): string | null {
  let out = '';
  let n = 0;
  let quote: string | null = null;
  for (let i = 0; i < sql.length; i++) {
    const c = sql[i]!;
    if (quote) {
      if (c === quote) quote = null;
      out += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      out += c;
    } else if (c === '?') {
      if (sql[i + 1] === '?') return null;
      out += `$${++n}`;
    } else if (c === '$') {
      return null;
    } else {
      out += c;
    }
  }
  return quote ? null : out;
}

const texts = new Map<string, string | null>();

/** `numberedPlaceholders`, remembered for the statements that have names. */
function textOf(sql: string): string | null {
  let text = texts.get(sql);
  if (text === undefined) {
    text = numberedPlaceholders(sql);
    if (texts.size < MAX_NAMED) texts.set(sql, text);
  }
  return text;
}

/** A value `pg` sends as MikroORM would inline it, or `undefined` when it cannot tell. */
function wireValue(value: unknown, formatDate: Executor['formatDate']): unknown {
  if (value === null || typeof value === 'string' || typeof value === 'boolean' || typeof value === 'bigint') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (value instanceof Date && formatDate) return Number.isNaN(value.getTime()) ? undefined : formatDate(value);
  return undefined;
}

/**
 * Runs `sql` (with `?` placeholders) and returns its raw rows: as a named statement on PostgreSQL's
 * pool when it can, else through the ORM's connection. A `read` runs on a replica when the ORM has
 * some and `orm` reads from them (`orm/replicas.ts`); a `write` (the default) on the primary.
 * Errors come back as the ORM's exceptions.
 */
export function runStatement(orm: StatementTarget, sql: string, params: readonly unknown[], intent: StatementIntent = 'write'): Promise<Row[]> {
  const open = openExecutors.get(driverInternals(orm));
  return open ? runWith(open, orm, sql, params, intent) : executorOf(orm).then((executor) => runWith(executor, orm, sql, params, intent));
}

async function runWith(executor: Executor, orm: StatementTarget, sql: string, params: readonly unknown[], intent: StatementIntent): Promise<Row[]> {
  const { driver } = executor;
  // Inside a transaction, statements run on its connection, as the ORM runs them.
  const transaction = 'isInTransaction' in orm && orm.isInTransaction() ? orm.getTransactionContext() : undefined;
  const toPrimary = intent === 'write' || transaction !== undefined || ('isInTransaction' in orm ? readsFromPrimary(orm) : configOf(orm).get('preferReadReplicas') === false);
  // The primary when there are no replicas; else one at random, as the ORM picks one per query.
  const connection = driver.getConnection(toPrimary ? 'write' : 'read');
  let pool = executor.direct && !transaction ? executor.pools.get(connection) : null;
  if (pool === undefined) executor.pools.set(connection, (pool = await poolOf(connection)));
  if (pool && !unpreparable.has(sql)) {
    const text = textOf(executor.onQuery(sql, params));
    const values = params.map((p) => wireValue(p, executor.formatDate));
    if (text !== null && !values.includes(undefined)) {
      try {
        return (await pool.query({ name: nameOf(text), text, values })).rows;
      } catch (error) {
        // 42P18: a parameter whose type PostgreSQL cannot infer; the ORM inlines it instead.
        if ((error as { code?: string }).code !== '42P18') throw driver.convertException(error as Error);
        unpreparable.add(sql);
      }
    }
  }
  try {
    return (await connection.execute(sql, [...params], 'all', transaction)) as Row[];
  } catch (error) {
    throw driver.convertException(error as Error);
  }
}

/** Runs a SELECT query builder as a prepared statement and maps its rows as `qb.execute()` does. */
export async function executePrepared(orm: StatementTarget, qb: AnyQueryBuilder): Promise<Row[]> {
  // A query builder of a transaction runs in it.
  if (queryBuilderOf(qb).context) return (await qb.execute('all')) as Row[];
  const { sql, params } = qb.toQuery();
  return runMapped(orm, sql, params, qb);
}

/** Runs `sql` as `runStatement` does and maps its rows as the ORM maps the results of `qb` (column names to properties, types converted). */
async function runMapped(orm: StatementTarget, sql: string, params: readonly unknown[], qb: AnyQueryBuilder, memo?: MapperMemo): Promise<Row[]> {
  const executor = openExecutors.get(driverInternals(orm)) ?? (await executorOf(orm));
  const meta = queryBuilderOf(qb).mainAlias.meta;
  return mapRows(executor.driver, meta, await runWith(executor, orm, sql, params, 'read'), qb, memo);
}

/** A value standing in for a parameter while a query is compiled; replaced on every run. */
export const slot = (index: number): string => `\u0000fastrest-slot-${index}\u0000`;

/**
 * A SELECT compiled once from a query builder whose varying values were `slot(0)`, `slot(1)`...:
 * `run(orm, values)` runs the same SQL with those values as a prepared statement.
 */
export class CompiledQuery {
  readonly sql: string;
  readonly #params: readonly unknown[];
  readonly #positions: readonly number[];
  readonly #qb: AnyQueryBuilder;
  readonly #mapper: MapperMemo = {};

  private constructor(qb: AnyQueryBuilder, sql: string, params: readonly unknown[], positions: number[]) {
    this.sql = sql;
    this.#params = params;
    this.#positions = positions;
    this.#qb = qb;
  }

  /** Compiles `qb`, which holds `slots` of the slot values; `null` when a slot is not a parameter exactly once (the ORM changed it). */
  static compile(qb: AnyQueryBuilder, slots: number): CompiledQuery | null {
    const { sql, params } = qb.toQuery();
    const positions: number[] = [];
    for (let i = 0; i < slots; i++) {
      const at = params.indexOf(slot(i));
      if (at < 0 || params.indexOf(slot(i), at + 1) >= 0) return null;
      positions.push(at);
    }
    return new CompiledQuery(qb, sql, params, positions);
  }

  /** The rows for these slot values, mapped to property names. */
  run(orm: StatementTarget, values: readonly unknown[]): Promise<Row[]> {
    const params = [...this.#params];
    this.#positions.forEach((at, i) => (params[at] = values[i]));
    return runMapped(orm, this.sql, params, this.#qb, this.#mapper);
  }
}

/**
 * Queries compiled once per key from the query builder `build()` makes the first time, at most
 * `max` of them (past that, `get` answers `undefined` and callers build per request).
 */
export class CompiledQueries {
  readonly #queries = new Map<string, CompiledQuery | null>();
  readonly #max: number;

  constructor(max: number) {
    this.#max = max;
  }

  /** The query of `key` (`null` when it does not compile), or `undefined` when there is no room for it. */
  get(key: string, build: () => AnyQueryBuilder, slots: number): CompiledQuery | null | undefined {
    let query = this.#queries.get(key);
    if (query === undefined) {
      if (this.#queries.size >= this.#max) return undefined;
      this.#queries.set(key, (query = CompiledQuery.compile(build(), slots)));
    }
    return query;
  }
}

