/**
 * What every direct statement checks first: whether an entity is plain (MikroORM would only map its
 * columns) and whether a read may skip `em.findOne`'s preliminaries.
 */
import { FlushMode, ReferenceKind, type EntityManager, type EntityMetadata, type EntityProperty } from '@mikro-orm/core';
import { requestUnitOfWork } from '../internals.ts';

/** An entity class or schema, as `em.findOne` takes it. */
export type EntityRef = object;
/** An entity or a row, by property. */
export type AnyEntity = Record<string, any>;

const plainEntities = new WeakMap<EntityMetadata, boolean>();

/** Whether a property is a column of the entity's own table: a scalar or an owning to-one. */
export function isColumn(prop: EntityProperty): boolean {
  if (prop.persist === false) return false;
  return prop.kind === ReferenceKind.SCALAR || prop.kind === ReferenceKind.MANY_TO_ONE || (prop.kind === ReferenceKind.ONE_TO_ONE && Boolean(prop.owner));
}

/** Whether the entity's definition leaves MikroORM nothing to do per statement but map its columns. */
export function isPlain(meta: EntityMetadata): boolean {
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
export function directMeta(em: EntityManager, entity: EntityRef): EntityMetadata | null {
  const meta = em.getMetadata().get(entity as never) as EntityMetadata;
  if (!isPlain(meta) || em.getEventManager().getSubscribers().size > 0 || em.schema !== undefined) return null;
  return meta;
}

/** Whether a read of `meta` may skip `em.findOne`'s preliminaries: no flush due first, no filters, the identity map on. */
export async function readsDirectly(em: EntityManager, meta: EntityMetadata): Promise<boolean> {
  const config = em.config;
  if (config.get('disableIdentityMap') || config.get('flushMode') === FlushMode.ALWAYS || requestUnitOfWork(em)?.shouldAutoFlush(meta)) return false;
  const where = {};
  return (await em.applyFilters(meta.class, where, {}, 'read')) === where;
}

/** A value the driver sends as it is. */
export function isPlainValue(value: unknown): value is string | number | boolean | bigint {
  return typeof value === 'string' || typeof value === 'boolean' || typeof value === 'bigint' || (typeof value === 'number' && Number.isFinite(value));
}

/** A scalar column other than the primary key, compared as it is sent (no custom type). */
export function isComparable(meta: EntityMetadata, name: string): boolean {
  const prop = meta.properties[name] as EntityProperty | undefined;
  return Boolean(prop && prop.kind === ReferenceKind.SCALAR && isColumn(prop) && !prop.customType);
}
