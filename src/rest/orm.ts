/**
 * The database adapter: everything fastrest asks of MikroORM beyond its public API goes through
 * here. One ORM per app on PostgreSQL or embedded PGlite (`orm/database.ts`), prepared statements
 * (`orm/statements.ts`), the direct fast paths of reads and inserts (`orm/direct/`), row counts
 * (`orm/count.ts`), read replicas (`orm/replicas.ts`). The MikroORM internals these rely on are reached in `orm/internals.ts` only,
 * which test/orm.test.ts checks against the installed MikroORM.
 */
export type { AnyQueryBuilder, Row } from './orm/types.ts';
export {
  atomic,
  databaseAnswers,
  databasePlugin,
  DatabaseUnavailable,
  isDatabaseUnavailable,
  driverOf,
  migrate,
  MIGRATION_LOCK,
  openDatabase,
  readerOf,
  schemaDrifted,
  withAdvisoryLock,
  type DatabaseOptions,
} from './orm/database.ts';
export { CompiledQueries, CompiledQuery, executePrepared, numberedPlaceholders, runStatement, slot, type StatementIntent, type StatementTarget } from './orm/statements.ts';
export { readsFromPrimary, replicaAwareEntityManager, replicaConnections, stickToPrimary } from './orm/replicas.ts';
export {
  canInsertDirectly,
  exists,
  findOneBy,
  findOneWithRelated,
  findRowBy,
  findRowWithRelated,
  insertDirectly,
  mergeJoinedRow,
  mergeRow,
  readsDirectly,
  rowMetaOf,
  rowsToEntities,
} from './orm/direct.ts';
export { checkInternals, driverInternals, internalsProblems, queryBuilderOf, CHECKED_MIKRO_ORM } from './orm/internals.ts';
export { literalKey, mapRows, type MapperMemo, type MappingDriver } from './orm/direct/rows.ts';
export { countQuery, countRows, estimatedCount, exactCount, reconcile, type CountMode, type RowCount } from './orm/count.ts';
