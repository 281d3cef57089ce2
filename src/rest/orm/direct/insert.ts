/**
 * The direct INSERT: the row `em.create()` + `em.flush()` would write, as one prepared
 * `INSERT ... RETURNING` (optionally only when no row holds its unique values), without an entity.
 */
import {
  helper,
  isRaw,
  Reference,
  ReferenceKind,
  Utils,
  ValidationError as OrmValidationError,
  validateEntity,
  type EntityManager,
  type EntityMetadata,
  type EntityProperty,
} from '@mikro-orm/core';
import { stickToPrimary } from '../replicas.ts';
import { runStatement } from '../statements.ts';
import { driverInternals, managedBy, requestUnitOfWork } from '../internals.ts';
import { directMeta, isColumn, isPlain, isPlainValue, type AnyEntity, type EntityRef } from './plain.ts';
import { rowMetaOf } from './reads.ts';
import { mapRows } from './rows.ts';

const insertPlans = new WeakMap<object, WeakMap<EntityMetadata, InsertPlan | null>>();

/** How a plain entity is inserted from its data, computed once per entity. */
interface InsertPlan {
  columns: EntityProperty[];
  /** Columns a new entity gets values for when the data has none (`onCreate`, defaults, `initNullableProperties`). */
  initialized: EntityProperty[];
  table: string;
  /** Properties the ORM requires a value of (ChangeSetPersister's `validateRequired`). */
  required: EntityProperty[];
  /** Statements by the columns set (a bit per column) and the unique columns checked. */
  statements: Map<string, string>;
}

/**
 * The insert plan of an entity whose new instances are plain data: a plain entity with columns
 * of types the ORM stores as they are (no custom types, no scalar references), a constructor that
 * sets nothing, and `onCreate` functions that do not read the entity; else `null`.
 */
function insertPlanOf(em: EntityManager, meta: EntityMetadata): InsertPlan | null {
  const driver = driverInternals(em);
  let plans = insertPlans.get(driver);
  if (!plans) insertPlans.set(driver, (plans = new WeakMap()));
  let plan = plans.get(meta);
  if (plan === undefined) {
    plan = null;
    const columns = meta.props.filter(isColumn);
    const stored = columns.every((p) => {
      if (p.customType || p.ref) return false;
      if (p.kind === ReferenceKind.SCALAR) return true;
      const target = p.targetMeta;
      return Boolean(target && target.primaryKeys.length === 1 && !target.properties[target.primaryKeys[0]!]!.customType);
    });
    const initialized = meta.props.filter((p) => p.onCreate || (p.kind === ReferenceKind.SCALAR && (p.default != null || p.nullable)));
    const simple = initialized.every((p) => isColumn(p) && !p.getter && (!p.onCreate || p.onCreate.length === 0));
    if (isPlain(meta) && stored && simple && !meta.constructorParams?.length && constructsEmpty(meta)) {
      plan = { columns, initialized, table: driver.getTableName(meta, {}), required: meta.props.filter(isRequired), statements: new Map() };
    }
    plans.set(meta, plan);
  }
  return plan;
}

/** The key of a to-one value: a managed entity or reference, or a row of `findRowBy`. */
function primaryKeyOf(value: object): unknown {
  const rowMeta = rowMetaOf(value);
  return rowMeta ? (value as AnyEntity)[rowMeta.primaryKeys[0]!] : helper(Reference.unwrapReference(value)).getPrimaryKey();
}

/** Whether `new Entity()` sets no property (no field initializers): MikroORM's `em.create` calls it. */
function constructsEmpty(meta: EntityMetadata): boolean {
  try {
    return Object.keys(new (meta.class as new () => object)()).length === 0;
  } catch {
    return false;
  }
}

/**
 * Whether `em.create(entity, data)` then `em.flush()` would be exactly one INSERT of this row and
 * nothing else: a plain entity whose new instances are plain data (`insertPlanOf`), nothing else
 * pending in `em`, no event subscribers, and `data` holding only columns with values the ORM
 * stores as they are (dates as `Date`, booleans as booleans; to-one values as primary keys or as
 * entities `em` manages, with their keys). Changes to managed entities are not looked for (a
 * flush would write them too): callers use this only where nothing changed them.
 */
export function canInsertDirectly(em: EntityManager, entity: EntityRef, data: Record<string, unknown>): boolean {
  const meta = directMeta(em, entity);
  if (!meta || !insertPlanOf(em, meta)) return false;
  const config = em.config;
  if (config.get('forceUndefined')) return false;
  const uow = requestUnitOfWork(em);
  if (uow && (uow.getPersistStack().size || uow.getRemoveStack().size || uow.getOrphanRemoveStack().size)) return false;
  for (const [name, value] of Object.entries(data)) {
    const prop = meta.properties[name] as EntityProperty | undefined;
    if (!prop || !isColumn(prop) || isRaw(value)) return false;
    if (value === null || value === undefined) continue;
    if (prop.kind === ReferenceKind.SCALAR) {
      if (prop.runtimeType === 'Date' ? !(value instanceof Date) : prop.runtimeType === 'boolean' ? typeof value !== 'boolean' : Utils.isEntity(value, true) || Utils.isCollection(value)) return false;
      continue;
    }
    if (isPlainValue(value)) continue;
    const rowMeta = rowMetaOf(value);
    if (rowMeta) {
      if (rowMeta.class !== prop.targetMeta?.class || !isPlainValue((value as AnyEntity)[rowMeta.primaryKeys[0]!])) return false;
      continue;
    }
    const target = Reference.unwrapReference(value as object) as object;
    if (!Utils.isEntity(target)) return false;
    if (!managedBy(em, target)) return false;
  }
  return true;
}

/**
 * Inserts the row `em.create(entity, data)` and `em.flush()` would insert (property initializers
 * applied as the change set computer applies them, the same type checks), with one prepared
 * `INSERT ... RETURNING` and no transaction of its own; only when `canInsertDirectly`. Returns the
 * row by property as the new entity would hold it, without making an entity (the identity map is
 * left as it was). Database errors come back as the ORM's exceptions. With `unique` (scalar
 * columns), the statement inserts only when no row holds the same value in any of them, and
 * answers `null` when one does (`insert ... select ... where not exists`: no sequence value used).
 */
export async function insertDirectly(em: EntityManager, entity: EntityRef, data: Record<string, unknown>, unique: readonly string[] = []): Promise<AnyEntity | null> {
  const meta = em.getMetadata().get(entity as never) as EntityMetadata;
  const plan = insertPlanOf(em, meta)!;
  const row: AnyEntity = { ...data };
  // What `em.create` (`processOnCreateHooksEarly`) and the change set computer give a new entity.
  const nullable = em.config.get('processOnCreateHooksEarly') && em.config.get('initNullableProperties');
  for (const prop of plan.initialized) {
    if (prop.onCreate) {
      if (row[prop.name] == null) row[prop.name] = prop.onCreate(row as never, em);
    } else if (row[prop.name] === undefined) {
      if (prop.default != null && !isRaw(prop.default)) row[prop.name] = prop.default;
      else if (nullable && prop.default == null && !prop.defaultRaw) row[prop.name] = null;
    }
  }
  validateEntity(row, meta);
  if (em.config.get('validateRequired')) {
    for (const prop of plan.required) if (row[prop.name] == null) throw OrmValidationError.propertyRequired(row, prop);
  }
  let set = 0;
  const params: unknown[] = [];
  for (let i = 0; i < plan.columns.length; i++) {
    const prop = plan.columns[i]!;
    const value = row[prop.name];
    if (value === undefined) continue;
    set += 2 ** i;
    params.push(prop.kind === ReferenceKind.SCALAR || value === null || isPlainValue(value) ? value : primaryKeyOf(value as object));
  }
  for (const name of unique) params.push(row[name]);
  const key = unique.length ? `${set}\u0000${unique.join('\u0000')}` : String(set);
  let sql = plan.statements.get(key);
  if (sql === undefined) {
    sql = insertStatement(em, meta, plan, row, unique);
    if (plan.statements.size < 64) plan.statements.set(key, sql);
  }
  stickToPrimary(em);
  const rows = await runStatement(em, sql, params);
  if (!rows.length) return unique.length ? null : row;
  const returned = rows[0]!;
  if (Object.keys(returned).length) Object.assign(row, mapRows(driverInternals(em), meta, [returned])[0]);
  return row;
}

/** ChangeSetPersister's `validateRequired` condition: a property the ORM refuses to insert empty. */
function isRequired(prop: EntityProperty): boolean {
  const p = prop as EntityProperty & { generated?: unknown };
  return (
    !p.nullable &&
    !p.autoincrement &&
    !p.default &&
    !p.defaultRaw &&
    !p.onCreate &&
    !p.generated &&
    !p.embedded &&
    p.kind !== ReferenceKind.ONE_TO_MANY &&
    p.kind !== ReferenceKind.MANY_TO_MANY &&
    p.kind !== ReferenceKind.EMBEDDED &&
    p.type !== 'ObjectId' &&
    p.persist !== false
  );
}

/**
 * The driver's one-row `insert ... returning` of the columns `row` sets, as `nativeInsertMany`
 * writes it; with `unique`, `insert ... select ... where not exists (...)`, returning at least the key.
 */
function insertStatement(em: EntityManager, meta: EntityMetadata, plan: InsertPlan, row: AnyEntity, unique: readonly string[]): string {
  const platform = driverInternals(em).getPlatform();
  const q = (id: string) => platform.quoteIdentifier(id);
  const set = plan.columns.filter((p) => row[p.name] !== undefined);
  const pk = meta.properties[meta.primaryKeys[0]!]!;
  const fields = set.length ? set.map((p) => q(p.fieldNames[0]!)) : pk.fieldNames.map(q);
  const placeholders = set.map(() => '?').join(', ');
  let sql = `insert into ${plan.table} (${fields.join(', ')}) `;
  if (unique.length) {
    const taken = unique.map((name) => `not exists (select 1 from ${plan.table} where ${q(meta.properties[name]!.fieldNames[0]!)} = ?)`);
    sql += `select ${placeholders} where ${taken.join(' and ')}`;
  } else {
    sql += `values (${placeholders || 'default'})`;
  }
  const returning = meta.props.filter((p) => {
    const prop = p as EntityProperty & { returning?: boolean; generated?: unknown };
    return prop.returning || (((prop.persist !== false && prop.defaultRaw) || prop.autoincrement || prop.generated) && row[prop.name] === undefined) || (unique.length > 0 && prop.primary);
  });
  if (returning.length) sql += ` returning ${returning.flatMap((p) => p.fieldNames).map(q).join(', ')}`;
  return sql;
}
