/**
 * MikroORM's internals, in one place: the members of its driver, connection, platform, query
 * builder, unit of work and wrapped entities that the adapter's fast paths use and that MikroORM's
 * public types do not declare (or declare private). Every other module reaches them through the
 * accessors below; `internalsProblems()` checks each against the installed MikroORM, so an upgrade
 * that changes one fails at start-up (FASTREST_ERR_ORM_INTERNALS) and in test/orm.test.ts, naming
 * the version, instead of misbehaving later.
 */
import { helper, Utils, type EntityManager, type EntityMetadata, type EntityProperty, type MikroORM } from '@mikro-orm/core';
import { SetupError } from '../exceptions.ts';
import type { SqlEntityManager } from '@mikro-orm/sql';
import type { AnyQueryBuilder, Row } from './types.ts';

/** The MikroORM versions these internals were read from. */
export const CHECKED_MIKRO_ORM = '7.2.1';

/** The `pg` pool behind MikroORM's PostgreSQL connection (its native client). */
export interface NativePool {
  query(config: { name?: string; text: string; values: unknown[] }): Promise<{ rows: Row[]; rowCount: number | null }>;
  totalCount?: unknown;
  /** The options the pool makes its clients with (`pg.ClientConfig` and the pool's own). */
  options?: Record<string, unknown>;
}

/** A driver connection: `execute` as the ORM runs every query; the native client where the driver has one. */
export interface ConnectionInternals {
  execute(sql: string, params: unknown[], method: 'all' | 'run', ctx?: unknown): Promise<unknown>;
  getNativeClient?(): Promise<unknown>;
}

/** The platform's SQL and value rules. */
export interface PlatformInternals {
  quoteIdentifier(id: string): string;
  usesDefaultKeyword(): boolean;
  formatDate?(date: Date): string;
  parseDate(value: string | number): unknown;
  getTimezone(): string | undefined;
  isNumericProperty(prop: EntityProperty): boolean;
}

/** The driver: connections, exception conversion, table names and the ORM's own result mapper. */
export interface DriverInternals {
  getConnection(type?: 'read' | 'write'): ConnectionInternals;
  convertException(error: Error): Error;
  getPlatform(): PlatformInternals;
  getTableName(meta: EntityMetadata, options: { schema?: string }): string;
  getSchemaName(meta: EntityMetadata, options: { schema?: string }): string | undefined;
  mapResult(row: Row, meta: EntityMetadata, populate?: unknown[], qb?: unknown): Row | null;
}

/** The configuration keys and logger the statements consult before bypassing the ORM's connection. */
export interface ConfigInternals {
  get(key: 'replicas' | 'preferReadReplicas' | 'sessionContext' | 'onCreateConnection' | 'onReserveConnection' | 'onQuery'): unknown;
  getLogger(): { isEnabled(namespace: string): boolean };
}

/** What counting and the cursor paginator read of a query builder (as its own `getCount()` does). */
export interface QueryBuilderInternals {
  alias: string;
  mainAlias: { meta: EntityMetadata };
  /** The transaction the builder runs in, if any. */
  context?: unknown;
  processPopulateHint(): void;
  hasToManyJoins(): boolean;
  getCount(): Promise<number>;
}

/** The unit of work's stacks a direct INSERT must find empty. */
export interface UnitOfWorkInternals {
  getPersistStack(): Set<object>;
  getRemoveStack(): Set<object>;
  getOrphanRemoveStack(): Set<object>;
  shouldAutoFlush(meta: EntityMetadata): boolean;
}

/** Where statements run: the app's ORM, or any EntityManager of it. */
export type OrmTarget = MikroORM | EntityManager;

/** The driver of an ORM or EntityManager. */
export function driverInternals(target: OrmTarget): DriverInternals {
  return ('getDriver' in target ? target.getDriver() : target.driver) as unknown as DriverInternals;
}

/** The configuration of an ORM or EntityManager, with the keys the statements read. */
export function configOf(target: OrmTarget): ConfigInternals {
  return target.config as unknown as ConfigInternals;
}

/** The EntityManager of a SQL driver, which builds queries. */
export function sqlManager(em: EntityManager): SqlEntityManager {
  return em as SqlEntityManager;
}

/** The internals of a query builder. */
export function queryBuilderOf(qb: AnyQueryBuilder): QueryBuilderInternals {
  return qb as unknown as QueryBuilderInternals;
}

/** The unit of work of `em`'s request context; `null` for the global context (which holds no request's changes). */
export function requestUnitOfWork(em: EntityManager): UnitOfWorkInternals | null {
  const context = em.getContext(false);
  return context.global ? null : (context.getUnitOfWork(false) as unknown as UnitOfWorkInternals);
}

/**
 * The `pg` pool of the ORM's primary (write) connection, or `null` when the driver has none (PGlite):
 * what needs a session of its own for a while (an advisory lock) connects with its options.
 */
export async function primaryPool(target: OrmTarget): Promise<NativePool | null> {
  const connection = driverInternals(target).getConnection('write');
  if (typeof connection.getNativeClient !== 'function') return null;
  const native = (await connection.getNativeClient().catch(() => null)) as Partial<NativePool> | null;
  return typeof native?.query === 'function' && typeof native.options === 'object' && typeof native.totalCount === 'number' ? (native as NativePool) : null;
}

/** What `releaseBrokenClients` reads of a pg-pool pool and its clients (pg-pool 3, pg 8). */
interface PoolClientsInternals {
  _clients?: Array<{ _queryable?: boolean; _ending?: boolean; release?: (error?: Error) => void }>;
  _idle?: Array<{ client: unknown }>;
}

/**
 * Gives back to the primary pool the checked-out clients whose connection broke. Kysely keeps a
 * transaction's connection when its COMMIT or ROLLBACK fails (the connection was cut mid-way), so
 * without this each such transaction takes a pool slot for good and the pool's end() never returns.
 * The released client gets a release that does nothing, in case its holder releases it after all.
 */
export async function releaseBrokenClients(target: OrmTarget, error: Error): Promise<number> {
  const pool = (await primaryPool(target)) as (NativePool & PoolClientsInternals) | null;
  if (!pool || !Array.isArray(pool._clients) || !Array.isArray(pool._idle)) return 0;
  const idle = new Set(pool._idle.map((item) => item.client));
  let released = 0;
  for (const client of [...pool._clients]) {
    if (idle.has(client) || (client._queryable !== false && !client._ending) || typeof client.release !== 'function') continue;
    const release = client.release;
    client.release = () => {};
    release.call(client, error);
    released++;
  }
  return released;
}

/** Whether `entity` is managed by `em` itself and has its key (so a row may refer to it). */
export function managedBy(em: EntityManager, entity: object): boolean {
  const wrapped = helper(entity);
  return Boolean(wrapped.__managed) && wrapped.hasPrimaryKey() && wrapped.__em === em;
}

/** `em.execute` on the request's connection (or transaction), typed as the count estimate uses it; `read` may run on a replica. */
export function executeOn(em: EntityManager, sql: string, params: readonly unknown[], connectionType: 'read' | 'write' = 'write'): Promise<Row[]> {
  type Execute = (sql: string, params: readonly unknown[], options: { method: 'all'; connectionType: 'read' | 'write' }) => Promise<Row[]>;
  return (em as unknown as { execute: Execute }).execute(sql, params, { method: 'all', connectionType });
}

const FUNCTIONS = {
  driver: ['getConnection', 'convertException', 'getPlatform', 'getTableName', 'getSchemaName', 'mapResult'],
  connection: ['execute'],
  platform: ['quoteIdentifier', 'usesDefaultKeyword', 'parseDate', 'getTimezone', 'isNumericProperty'],
  config: ['get', 'getLogger'],
  queryBuilder: ['processPopulateHint', 'hasToManyJoins', 'getCount', 'clone', 'toQuery'],
  unitOfWork: ['getPersistStack', 'getRemoveStack', 'getOrphanRemoveStack', 'shouldAutoFlush'],
  entityManager: ['execute', 'getEntityFactory', 'getEventManager', 'getContext', 'applyFilters'],
} as const;

function missing(where: string, object: unknown, names: readonly string[]): string[] {
  const target = object as Record<string, unknown> | null | undefined;
  return names.filter((name) => typeof target?.[name] !== 'function').map((name) => `${where}.${name}() is gone`);
}

/**
 * What of the internals above the installed MikroORM lacks, as sentences (empty when all is there):
 * each member is looked up on a live ORM, a fork of its EntityManager and a query builder of one
 * of its entities.
 */
export function internalsProblems(orm: MikroORM): string[] {
  const driver = driverInternals(orm) as unknown;
  const problems = missing('driver', driver, FUNCTIONS.driver);
  if (problems.length) return problems;
  const d = driver as DriverInternals;
  problems.push(...missing('connection', d.getConnection('write'), FUNCTIONS.connection));
  problems.push(...missing('platform', d.getPlatform(), FUNCTIONS.platform));
  problems.push(...missing('config', orm.config, FUNCTIONS.config));
  const em = orm.em.fork();
  problems.push(...missing('em', em, FUNCTIONS.entityManager));
  if (!problems.some((p) => p.startsWith('em.getContext'))) {
    const context = em.getContext(false) as { global?: unknown; getUnitOfWork?: (useContext: boolean) => unknown };
    if (typeof context.global !== 'boolean') problems.push('em.getContext(false).global is not a boolean');
    if (typeof context.getUnitOfWork !== 'function') problems.push('em.getContext(false).getUnitOfWork() is gone');
    else problems.push(...missing('unitOfWork', context.getUnitOfWork(false), FUNCTIONS.unitOfWork));
  }
  const subscribers = (em.getEventManager() as { getSubscribers?: () => { size?: unknown } }).getSubscribers?.();
  if (typeof subscribers?.size !== 'number') problems.push('eventManager.getSubscribers() gives no collection with a size');
  const meta = [...orm.getMetadata()].find((m) => !m.embeddable && !m.virtual && m.primaryKeys.length === 1);
  if (meta) {
    const qb = sqlManager(em).createQueryBuilder(meta.class as never) as AnyQueryBuilder;
    problems.push(...missing('queryBuilder', qb, FUNCTIONS.queryBuilder));
    const inner = queryBuilderOf(qb);
    if (typeof inner.alias !== 'string') problems.push('queryBuilder.alias is not a string');
    if (inner.mainAlias?.meta !== meta) problems.push('queryBuilder.mainAlias.meta is not the entity metadata');
    const pk = meta.primaryKeys.length === 1 ? meta.properties[meta.primaryKeys[0]!] : undefined;
    if (pk && !pk.customType) {
      // As `mergeRow` makes an entity of a row: it must come back managed by this EntityManager.
      const id = pk.runtimeType === 'string' ? 'fastrest-probe' : 1;
      const entity = em.getEntityFactory().create(meta.class as never, { [pk.name]: id } as never, { merge: true, convertCustomTypes: true }) as object;
      const wrapped = helper(entity) as unknown as Record<string, unknown>;
      if (wrapped['__managed'] !== true || wrapped['__em'] !== em) problems.push('an entity the factory merges has no __managed flag or __em of its EntityManager');
      if (typeof wrapped['hasPrimaryKey'] !== 'function' || typeof wrapped['populated'] !== 'function') problems.push('helper(entity).hasPrimaryKey() or populated() is gone');
      em.clear();
    }
  }
  return problems;
}

/** Throws FASTREST_ERR_ORM_INTERNALS, naming the installed MikroORM, when `internalsProblems` finds any. */
export function checkInternals(orm: MikroORM): void {
  const problems = internalsProblems(orm);
  if (problems.length) {
    throw new SetupError(
      'FASTREST_ERR_ORM_INTERNALS',
      `MikroORM ${Utils.getORMVersion()} internals changed (fastrest was checked against ${CHECKED_MIKRO_ORM}): ${problems.join('; ')}`,
    );
  }
}
