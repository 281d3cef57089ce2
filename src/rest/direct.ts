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
import {
  FlushMode,
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
import type { AnyQueryBuilder } from './filters.ts';
import { CompiledQueries, type CompiledQuery, runStatement, slot, type Row } from './statements.ts';

/** An entity class or schema, as `em.findOne` takes it. */
type EntityRef = object;
type AnyEntity = Record<string, any>;

interface Internals {
  getDriver(): {
    getPlatform(): { quoteIdentifier(id: string): string; usesDefaultKeyword(): boolean };
    getTableName(meta: EntityMetadata, options: { schema?: string }): string;
    getSchemaName(meta: EntityMetadata, options: { schema?: string }): string | undefined;
    mapResult(row: Row, meta: EntityMetadata): AnyEntity | null;
  };
  createQueryBuilder(entity: unknown, alias?: string): AnyQueryBuilder;
}

const plainEntities = new WeakMap<EntityMetadata, boolean>();

function isColumn(prop: EntityProperty): boolean {
  if (prop.persist === false) return false;
  return prop.kind === ReferenceKind.SCALAR || prop.kind === ReferenceKind.MANY_TO_ONE || (prop.kind === ReferenceKind.ONE_TO_ONE && Boolean(prop.owner));
}

/** Whether the entity's definition leaves MikroORM nothing to do per statement but map its columns. */
function isPlain(meta: EntityMetadata): boolean {
  let plain = plainEntities.get(meta);
  if (plain === undefined) {
    const hooks = Object.values(meta.hooks ?? {}).some((list) => (list as unknown[] | undefined)?.length);
    const m = meta as EntityMetadata & { inheritanceType?: string; discriminatorColumn?: string; embeddable?: boolean; virtual?: boolean; readonly?: boolean };
    plain =
      !hooks &&
      !m.virtual &&
      !m.readonly &&
      !m.embeddable &&
      m.root === meta &&
      !m.inheritanceType &&
      !m.discriminatorColumn &&
      !meta.versionProperty &&
      meta.primaryKeys.length === 1 &&
      meta.props.every((prop) => {
        const p = prop as EntityProperty & { polymorphic?: boolean; targetKey?: string; generated?: unknown };
        if (p.formula || p.embedded || p.kind === ReferenceKind.EMBEDDED || p.lazy || p.version || p.concurrencyCheck) return false;
        if (!isColumn(p)) return true;
        const type = p.customType as { convertToDatabaseValueSQL?: unknown; convertToJSValueSQL?: unknown } | undefined;
        return p.fieldNames?.length === 1 && !type?.convertToDatabaseValueSQL && !type?.convertToJSValueSQL && !p.polymorphic && !p.targetKey;
      });
    plainEntities.set(meta, plain);
  }
  return plain;
}

/** The metadata of a plain entity, when MikroORM runs no subscribers and the EntityManager has no schema of its own; else `null`. */
function directMeta(em: EntityManager, entity: EntityRef): EntityMetadata | null {
  const meta = em.getMetadata().get(entity as never) as EntityMetadata;
  if (!isPlain(meta) || em.getEventManager().getSubscribers().size > 0 || em.schema !== undefined) return null;
  return meta;
}

/** Whether a read of `meta` may skip `em.findOne`'s preliminaries: no flush due first, no filters, the identity map on. */
export async function readsDirectly(em: EntityManager, meta: EntityMetadata): Promise<boolean> {
  const config = em.config;
  if (config.get('disableIdentityMap') || config.get('flushMode') === FlushMode.ALWAYS || em.getUnitOfWork().shouldAutoFlush(meta)) return false;
  const where = {};
  return (await em.applyFilters(meta.class, where, {}, 'read')) === where;
}

function isPlainValue(value: unknown): value is string | number | boolean | bigint {
  return typeof value === 'string' || typeof value === 'boolean' || typeof value === 'bigint' || (typeof value === 'number' && Number.isFinite(value));
}

/** A scalar column other than the primary key, compared as it is sent (no custom type). */
function isComparable(meta: EntityMetadata, name: string): boolean {
  const prop = meta.properties[name] as EntityProperty | undefined;
  return Boolean(prop && prop.kind === ReferenceKind.SCALAR && isColumn(prop) && !prop.customType);
}

const compiled = new WeakMap<object, CompiledQueries>();
/** Compiled statements per ORM; past this many, the ORM runs the rest. */
const MAX_COMPILED = 200;

/** The statement of `key` for this ORM, compiled from `build()` the first time; `undefined` when there is no room. */
function compiledFor(em: EntityManager, key: string, build: () => AnyQueryBuilder, slots: number): CompiledQuery | null | undefined {
  const driver = (em as unknown as Internals).getDriver();
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
 * `em.findOne(entity, where)` for equality on columns other than the primary key: one prepared
 * statement, the entity merged into `em` as `findOne` merges it. Anything else goes to `em.findOne`.
 */
export async function findOneBy<T extends object = AnyEntity>(em: EntityManager, entity: EntityRef, where: Record<string, unknown>): Promise<T | null> {
  const meta = directMeta(em, entity);
  const shape = meta && conditionShape(meta, where, false);
  if (meta && shape && (await readsDirectly(em, meta))) {
    const build = () => (em as unknown as Internals).createQueryBuilder(meta.class).select(columnNames(meta)).where(shape.build()).limit(1);
    const query = compiledFor(em, `findOne\u0000${meta.className}${shape.key}`, build, shape.values.length);
    if (query) {
      const [data] = await query.run(em, shape.values);
      if (!data) return null;
      return em.getEntityFactory().create(meta.class, data as never, { merge: true, convertCustomTypes: true }) as T;
    }
  }
  return (await em.findOne(entity as never, where as never)) as T | null;
}

/** Whether a row matches `where` (equality or `$ne` on columns), as `em.count(entity, where) > 0`, as one prepared statement when it can. */
export async function exists(em: EntityManager, entity: EntityRef, where: Record<string, unknown>): Promise<boolean> {
  const meta = directMeta(em, entity);
  const shape = meta && conditionShape(meta, where, true);
  if (meta && shape && (await readsDirectly(em, meta))) {
    const build = () => (em as unknown as Internals).createQueryBuilder(meta.class).select(meta.primaryKeys).where(shape.build()).limit(1);
    const query = compiledFor(em, `exists\u0000${meta.className}${shape.key}`, build, shape.values.length);
    if (query) return (await query.run(em, shape.values)).length > 0;
  }
  return (await em.count(entity as never, where as never)) > 0;
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
  const meta = directMeta(em, entity);
  const prop = meta?.properties[relation] as EntityProperty | undefined;
  const target = prop && isColumn(prop) && prop.kind !== ReferenceKind.SCALAR ? directMeta(em, prop.targetMeta!.class) : null;
  const shape = meta && target && conditionShape(meta, where, false);
  if (meta && prop && target && shape && (await readsDirectly(em, meta)) && (await readsDirectly(em, target))) {
    const driver = (em as unknown as Internals).getDriver();
    const plan = joinedPlan(driver, meta, prop, target, shape.key);
    const [row] = await runStatement(em, plan.sql, shape.values);
    if (!row) return null;
    const own: Row = {};
    for (const [alias, field] of plan.own) own[field] = row[alias];
    const factory = em.getEntityFactory();
    let loaded: object | null = null;
    if (row[plan.relatedKey] != null) {
      const related: Row = {};
      for (const [alias, field] of plan.related) related[field] = row[alias];
      loaded = factory.create(target.class, driver.mapResult(related, target) as never, { merge: true, convertCustomTypes: true }) as object;
      helper(loaded).populated();
    }
    const data = driver.mapResult(own, meta)!;
    if (options.row) return (loaded ? Object.assign(data, { [relation]: loaded }) : data) as T;
    return factory.create(meta.class, data as never, { merge: true, convertCustomTypes: true }) as T;
  }
  return (await em.findOne(entity as never, where as never, { populate: [relation] as never })) as T | null;
}

/** The joined select of `findOneWithRelated`: its SQL, and which aliased column of a row is which column of each entity. */
interface JoinedPlan {
  sql: string;
  own: [alias: string, field: string][];
  related: [alias: string, field: string][];
  /** The alias of the related primary key (null when there is no related row). */
  relatedKey: string;
}

const joinedPlans = new WeakMap<object, Map<string, JoinedPlan>>();

/** `select own columns, related columns from own left join related where ... limit 1`, columns aliased `o0`, `o1`..., `r0`...; once per ORM and shape. */
function joinedPlan(driver: ReturnType<Internals['getDriver']>, meta: EntityMetadata, prop: EntityProperty, target: EntityMetadata, shapeKey: string): JoinedPlan {
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
    plan = { sql, own, related, relatedKey: related.find(([, field]) => field === targetPk)![0] };
    if (byKey.size < MAX_COMPILED) byKey.set(key, plan);
  }
  return plan;
}

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
  const driver = (em as unknown as Internals).getDriver();
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
  const uow = em.getUnitOfWork() as ReturnType<EntityManager['getUnitOfWork']> & { getOrphanRemoveStack(): Set<object> };
  if (uow.getPersistStack().size || uow.getRemoveStack().size || uow.getOrphanRemoveStack().size) return false;
  for (const [name, value] of Object.entries(data)) {
    const prop = meta.properties[name] as EntityProperty | undefined;
    if (!prop || !isColumn(prop) || isRaw(value)) return false;
    if (value === null || value === undefined) continue;
    if (prop.kind === ReferenceKind.SCALAR) {
      if (prop.runtimeType === 'Date' ? !(value instanceof Date) : prop.runtimeType === 'boolean' ? typeof value !== 'boolean' : Utils.isEntity(value, true) || Utils.isCollection(value)) return false;
      continue;
    }
    if (isPlainValue(value)) continue;
    const target = Reference.unwrapReference(value as object) as object;
    if (!Utils.isEntity(target)) return false;
    const wrapped = helper(target);
    if (!wrapped.__managed || !wrapped.hasPrimaryKey() || wrapped.__em !== em) return false;
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
    params.push(prop.kind === ReferenceKind.SCALAR || value === null || isPlainValue(value) ? value : helper(Reference.unwrapReference(value as object)).getPrimaryKey());
  }
  for (const name of unique) params.push(row[name]);
  const key = unique.length ? `${set}\u0000${unique.join('\u0000')}` : String(set);
  let sql = plan.statements.get(key);
  if (sql === undefined) {
    sql = insertStatement(em, meta, plan, row, unique);
    if (plan.statements.size < 64) plan.statements.set(key, sql);
  }
  const rows = await runStatement(em, sql, params);
  if (!rows.length) return unique.length ? null : row;
  const returned = rows[0]!;
  if (Object.keys(returned).length) Object.assign(row, em.getComparator().mapResult(meta, returned));
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
  const platform = (em as unknown as Internals).getDriver().getPlatform();
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
