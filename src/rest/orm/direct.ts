/**
 * Direct statements: what the write paths ask of MikroORM on every request (one entity by one
 * property, with or without one related entity; whether a value is taken; one INSERT) as single
 * prepared statements (statements.ts). Entities read are made and merged into the EntityManager
 * as `em.findOne` makes them; an INSERT returns the new row without making an entity. Each runs
 * only when MikroORM would do nothing more: a plain entity (no lifecycle hooks, inheritance,
 * versions, formulas, embeddables, lazy or SQL-converted properties), no event subscribers, no
 * filters, nothing to flush first, no schema of the EntityManager's own. Otherwise the ORM runs
 * it, as before.
 */
export { readsDirectly } from './direct/plain.ts';
export { exists, findOneBy, findOneWithRelated, findRowBy, findRowWithRelated, mergeJoinedRow, mergeRow, rowMetaOf, rowsToEntities } from './direct/reads.ts';
export { canInsertDirectly, insertDirectly } from './direct/insert.ts';
