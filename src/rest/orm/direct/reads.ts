/**
 * Direct reads: one entity by one property, with or without one related entity, and whether a
 * value is taken, each as one prepared statement; entities are made and merged into the
 * EntityManager as `em.findOne` makes them.
 */
import { helper, ReferenceKind, Utils, type EntityManager, type EntityMetadata, type EntityProperty } from '@mikro-orm/core';
import type { AnyQueryBuilder } from '../types.ts';
import { CompiledQueries, type CompiledQuery, runStatement, slot, type Row } from '../statements.ts';
import { driverInternals, sqlManager, type DriverInternals } from '../internals.ts';
import { directMeta, isColumn, isComparable, isPlainValue, readsDirectly, type AnyEntity, type EntityRef } from './plain.ts';
import { mapRows, type MapperMemo } from './rows.ts';

const compiled = new WeakMap<object, CompiledQueries>();
/** Compiled statements per ORM; past this many, the ORM runs the rest. */
const MAX_COMPILED = 200;

/** The statement of `key` for this ORM, compiled from `build()` the first time; `undefined` when there is no room. */
function compiledFor(em: EntityManager, key: string, build: () => AnyQueryBuilder, slots: number): CompiledQuery | null | undefined {
  const driver = driverInternals(em);
  let queries = compiled.get(driver);
  if (!queries) compiled.set(driver, (queries = new CompiledQueries(MAX_COMPILED)));
  return queries.get(key, build, slots);
}

/**
 * The shape of a condition this module runs (`{ prop: value }` and `{ prop: { $ne: value } }` on
 * comparable columns) with its values in order, or `null` for anything else.
 */
function conditionShape(meta: EntityMetadata, where: Record<string, unknown>, allowPrimaryKey: boolean): { key: string; values: unknown[]; build: () => Record<string, unknown> } | null {
  let key = '';
  const values: unknown[] = [];
  const parts: [string, boolean][] = [];
  for (const [name, condition] of Object.entries(where)) {
    const primary = meta.primaryKeys.includes(name);
    if (primary ? !allowPrimaryKey || meta.properties[name]!.customType : !isComparable(meta, name)) return null;
    if (isPlainValue(condition)) {
      parts.push([name, false]);
      values.push(condition);
    } else if (Utils.isPlainObject(condition) && Object.keys(condition).length === 1 && isPlainValue((condition as { $ne?: unknown }).$ne)) {
      parts.push([name, true]);
      values.push((condition as { $ne: unknown }).$ne);
    } else {
      return null;
    }
    key += `\u0000${name}${parts.at(-1)![1] ? '!=' : '='}`;
  }
  if (!parts.length) return null;
  const build = () => Object.fromEntries(parts.map(([name, ne], i) => [name, ne ? { $ne: slot(i) } : slot(i)]));
  return { key, values, build };
}

/** The column properties `em.findOne` reads of a plain entity. */
function columnNames(meta: EntityMetadata): string[] {
  return meta.props.filter(isColumn).map((p) => p.name);
}

/**
 * The one-row statement (`kind`: what it is for) selecting `columns` of the rows matching `where`,
 * compiled once per condition shape, with this call's values; `null` when the ORM must run it.
 */
async function directLookup(
  em: EntityManager,
  entity: EntityRef,
  where: Record<string, unknown>,
  kind: 'findOne' | 'exists',
  columns: (meta: EntityMetadata) => string[],
): Promise<{ query: CompiledQuery; values: unknown[]; meta: EntityMetadata } | null> {
  const meta = directMeta(em, entity);
  const shape = meta && conditionShape(meta, where, kind === 'exists');
  if (!meta || !shape || !(await readsDirectly(em, meta))) return null;
  const build = () => sqlManager(em).createQueryBuilder(meta.class).select(columns(meta)).where(shape.build()).limit(1);
  const query = compiledFor(em, `${kind}\u0000${meta.className}${shape.key}`, build, shape.values.length);
  return query ? { query, values: shape.values, meta } : null;
}

/**
 * `em.findOne(entity, where)` for equality on columns other than the primary key: one prepared
 * statement, the entity merged into `em` as `findOne` merges it. Anything else goes to `em.findOne`.
 */
export async function findOneBy<T extends object = AnyEntity>(em: EntityManager, entity: EntityRef, where: Record<string, unknown>): Promise<T | null> {
  const direct = await directLookup(em, entity, where, 'findOne', columnNames);
  if (direct) {
    const [data] = await direct.query.run(em, direct.values);
    return data ? mergeRow<T>(em, direct.meta, data) : null;
  }
  return (await em.findOne(entity as never, where as never)) as T | null;
}

/** The entity a row of `findRowBy` is of (a hidden property of the row). */
const ROW_META = Symbol('fastrest.rowMeta');

/**
 * `findOneBy` without the entity: the row by property as the ORM maps it, marked with its entity
 * (`rowMetaOf`), or `null`; `undefined` when the read cannot be direct. `em` may be the app's.
 */
export async function findRowBy(em: EntityManager, entity: EntityRef, where: Record<string, unknown>): Promise<Row | null | undefined> {
  const direct = await directLookup(em, entity, where, 'findOne', columnNames);
  if (!direct) return undefined;
  const [data] = await direct.query.run(em, direct.values);
  return data ? Object.defineProperty(data, ROW_META, { value: direct.meta }) : null;
}

/** The entity metadata of a row `findRowBy` answered, else `undefined`. */
export function rowMetaOf(value: unknown): EntityMetadata | undefined {
  return value !== null && typeof value === 'object' ? (value as { [ROW_META]?: EntityMetadata })[ROW_META] : undefined;
}

/** `data` with every row `findRowBy` answered replaced by its entity, merged into `em` (when the write is not direct after all). */
export function rowsToEntities<T extends Record<string, unknown>>(em: EntityManager, data: T): T {
  for (const [name, value] of Object.entries(data)) {
    const meta = rowMetaOf(value);
    if (meta) (data as Record<string, unknown>)[name] = mergeRow(em, meta, value as Row);
  }
  return data;
}

/** Whether a row matches `where` (equality or `$ne` on columns), as `em.count(entity, where) > 0`, as one prepared statement when it can. */
export async function exists(em: EntityManager, entity: EntityRef, where: Record<string, unknown>): Promise<boolean> {
  const direct = await directLookup(em, entity, where, 'exists', (meta) => meta.primaryKeys);
  if (direct) return (await direct.query.run(em, direct.values)).length > 0;
  return (await em.count(entity as never, where as never)) > 0;
}

/**
 * The row of `entity` matching `where` (equality or `$ne` on columns) with the row of its to-one
 * `relation` joined, both by property as the ORM maps them, as one prepared statement and without
 * making entities (`related` is `null` when the relation is); `undefined` when the read cannot be
 * direct (the caller then asks the ORM).
 */
export async function findRowWithRelated(
  em: EntityManager,
  entity: EntityRef,
  where: Record<string, unknown>,
  relation: string,
): Promise<{ own: Row; related: Row | null; meta: EntityMetadata; target: EntityMetadata } | null | undefined> {
  const meta = directMeta(em, entity);
  const prop = meta?.properties[relation] as EntityProperty | undefined;
  const target = prop && isColumn(prop) && prop.kind !== ReferenceKind.SCALAR ? directMeta(em, prop.targetMeta!.class) : null;
  const shape = meta && target && conditionShape(meta, where, false);
  if (!meta || !prop || !target || !shape || !(await readsDirectly(em, meta)) || !(await readsDirectly(em, target))) return undefined;
  const driver = driverInternals(em);
  const plan = joinedPlan(driver, meta, prop, target, shape.key);
  const [row] = await runStatement(em, plan.sql, shape.values, 'read');
  if (!row) return null;
  const own: Row = {};
  for (const [alias, field] of plan.own) own[field] = row[alias];
  let related: Row | null = null;
  if (row[plan.relatedKey] != null) {
    related = {};
    for (const [alias, field] of plan.related) related[field] = row[alias];
    [related] = mapRows(driver, target, [related], undefined, plan.mappers.related);
  }
  return { own: mapRows(driver, meta, [own], undefined, plan.mappers.own)[0]!, related, meta, target };
}

/** The entity of a row a direct read mapped, merged into `em` as `em.findOne` merges what it loads. */
export function mergeRow<T extends object = AnyEntity>(em: EntityManager, meta: EntityMetadata, data: Row): T {
  return em.getEntityFactory().create(meta.class, data as never, { merge: true, convertCustomTypes: true }) as T;
}

/** `mergeRow` for the related row of `findRowWithRelated`, marked populated as `populate` marks it. */
export function mergeJoinedRow<T extends object = AnyEntity>(em: EntityManager, meta: EntityMetadata, data: Row): T {
  const entity = mergeRow<T>(em, meta, data);
  helper(entity).populated();
  return entity;
}

/**
 * `em.findOne(entity, where, { populate: [relation] })` for equality on columns and one to-one
 * relation: one prepared statement joining the related row, both entities merged into `em`. With
 * `row`, the entity itself is not made: its row by property comes back, `relation` holding the
 * related entity (the ORM's entity when the read is not direct).
 */
export async function findOneWithRelated<T extends object = AnyEntity>(
  em: EntityManager,
  entity: EntityRef,
  where: Record<string, unknown>,
  relation: string,
  options: { row?: boolean } = {},
): Promise<T | null> {
  const found = await findRowWithRelated(em, entity, where, relation);
  if (found === undefined) return (await em.findOne(entity as never, where as never, { populate: [relation] as never })) as T | null;
  if (found === null) return null;
  const loaded = found.related && mergeJoinedRow(em, found.target, found.related);
  if (options.row) return (loaded ? Object.assign(found.own, { [relation]: loaded }) : found.own) as T;
  return mergeRow<T>(em, found.meta, found.own);
}

/** The joined select of `findOneWithRelated`: its SQL, and which aliased column of a row is which column of each entity. */
interface JoinedPlan {
  sql: string;
  own: [alias: string, field: string][];
  related: [alias: string, field: string][];
  /** The alias of the related primary key (null when there is no related row). */
  relatedKey: string;
  /** The mappers of the two rows, found on first use. */
  mappers: { own: MapperMemo; related: MapperMemo };
}

const joinedPlans = new WeakMap<object, Map<string, JoinedPlan>>();

/** `select own columns, related columns from own left join related where ... limit 1`, columns aliased `o0`, `o1`..., `r0`...; once per ORM and shape. */
function joinedPlan(driver: DriverInternals, meta: EntityMetadata, prop: EntityProperty, target: EntityMetadata, shapeKey: string): JoinedPlan {
  let byKey = joinedPlans.get(driver);
  if (!byKey) joinedPlans.set(driver, (byKey = new Map()));
  const key = `${meta.className}\u0000${prop.name}${shapeKey}`;
  let plan = byKey.get(key);
  if (plan === undefined) {
    const platform = driver.getPlatform();
    const q = (id: string) => platform.quoteIdentifier(id);
    const fields = (m: EntityMetadata, alias: string) => m.props.filter(isColumn).map((p, i) => [`${alias}${i}`, p.fieldNames[0]!] as [string, string]);
    const own = fields(meta, 'o');
    const related = fields(target, 'r');
    const select = [...own.map(([alias, field]) => `o.${q(field)} as ${q(alias)}`), ...related.map(([alias, field]) => `r.${q(field)} as ${q(alias)}`)];
    const targetPk = target.properties[target.primaryKeys[0]!]!.fieldNames[0]!;
    const conditions = shapeKey
      .split('\u0000')
      .slice(1)
      .map((part) => {
        const ne = part.endsWith('!=');
        const name = part.slice(0, ne ? -2 : -1);
        return `o.${q(meta.properties[name]!.fieldNames[0]!)} ${ne ? '<>' : '='} ?`;
      });
    const sql =
      `select ${select.join(', ')} from ${driver.getTableName(meta, {})} as o` +
      ` left join ${driver.getTableName(target, {})} as r on r.${q(targetPk)} = o.${q(prop.fieldNames[0]!)} where ${conditions.join(' and ')} limit 1`;
    plan = { sql, own, related, relatedKey: related.find(([, field]) => field === targetPk)![0], mappers: { own: {}, related: {} } };
    if (byKey.size < MAX_COMPILED) byKey.set(key, plan);
  }
  return plan;
}
