/**
 * Related rows read by a join (Django's `select_related`, chosen from the serializer's fields): a
 * to-one relation that a field shows more of than its primary key (a slug, a nested summary) is
 * left-joined into the query of the parent rows, so a page or an item costs one query instead of
 * one per relation. Fields then find the related row already on the parent row.
 */
import type { EntityManager, EntityMetadata, EntityProperty } from '@mikro-orm/core';
import { type AnyQueryBuilder, driverInternals, type MapperMemo, mapRows, queryBuilderOf } from '../orm.ts';
import type { ModelSerializer } from './model.ts';
import { RelatedField } from './relations.ts';

/** One joined relation: the parent's property, the SQL alias of the join and the target's columns it reads. */
export interface JoinedRelation {
  source: string;
  alias: string;
  meta: EntityMetadata;
  /** Column (field) names of the target, each selected as `alias__column`. */
  columns: string[];
  /** The selected names, `alias__column`, in the order of `columns`. */
  keys: string[];
  /** The column of the target's primary key, whose null means "no related row". */
  pkColumn: string;
  /** The related rows' mapper, found on first use. */
  mapper: MapperMemo;
}

const cache = new WeakMap<object, WeakMap<ModelSerializer, JoinedRelation[]>>();

/** The to-one relations of a serializer worth joining (those whose readable fields need more than the key), from the ORM's metadata. */
export function joinedRelations(serializer: ModelSerializer, em: EntityManager): JoinedRelation[] {
  const metadata = em.getMetadata();
  let bySerializer = cache.get(metadata);
  if (!bySerializer) cache.set(metadata, (bySerializer = new WeakMap()));
  let joins = bySerializer.get(serializer);
  if (joins) return joins;
  const metaOf = (entity: unknown) => em.getMetadata(entity as never) as EntityMetadata;
  const wanted = new Map<string, { meta: EntityMetadata; props: Set<string> }>();
  const properties = metaOf(serializer.entity).properties as Record<string, EntityProperty>;
  for (const info of serializer.fields) {
    const field = info.field;
    if (info.writeOnly || !(field instanceof RelatedField) || field.many || field.source === '*') continue;
    const columns = field.joinColumns;
    const prop = properties[field.source];
    // Only the owning side holds the foreign key the join goes through.
    if (!columns.length || !prop || !(prop.kind === 'm:1' || (prop.kind === '1:1' && prop.owner))) continue;
    const meta = metaOf(field.target);
    const entry = wanted.get(field.source) ?? { meta, props: new Set(meta.primaryKeys) };
    columns.forEach((c) => entry.props.add(c));
    wanted.set(field.source, entry);
  }
  joins = [];
  for (const [source, { meta, props }] of wanted) {
    const columns: string[] = [];
    for (const name of props) {
      const prop = (meta.properties as Record<string, EntityProperty>)[name];
      // A column the join cannot read as is (a relation, a formula, several columns) leaves the relation to its own query.
      if (!prop || prop.kind !== 'scalar' || prop.persist === false || prop.formula || prop.fieldNames?.length !== 1) {
        columns.length = 0;
        break;
      }
      columns.push(prop.fieldNames[0]!);
    }
    if (columns.length && meta.primaryKeys.length === 1) {
      const pk = (meta.properties as Record<string, EntityProperty>)[meta.primaryKeys[0]!]!;
      const alias = `fr_${source}`;
      joins.push({ source, alias, meta, columns, keys: columns.map((column) => `${alias}__${column}`), pkColumn: pk.fieldNames[0]!, mapper: {} });
    }
  }
  bySerializer.set(serializer, joins);
  return joins;
}

/** Adds the serializer's joined relations to a query that selects the parent's columns (after its `select`). */
export function selectJoined(qb: AnyQueryBuilder, serializer: ModelSerializer, em: EntityManager): AnyQueryBuilder {
  const joins = joinedRelations(serializer, em);
  if (!joins.length) return qb;
  const main = queryBuilderOf(qb).alias;
  for (const join of joins) {
    qb.leftJoin(`${main}.${join.source}`, join.alias);
    qb.addSelect(join.columns.map((column, i) => `${join.alias}.${column} as ${join.keys[i]}`));
  }
  return qb;
}

/**
 * Moves the joined columns of each row onto the relation property: `author: 7` becomes the
 * author's row (properties typed by the ORM's result mapper), or stays null without a related row.
 */
export function foldJoined(rows: Record<string, unknown>[], serializer: ModelSerializer, em: EntityManager): Record<string, unknown>[] {
  const joins = joinedRelations(serializer, em);
  if (!joins.length) return rows;
  const driver = driverInternals(em);
  for (const join of joins) {
    for (const row of rows) {
      const related: Record<string, unknown> = {};
      // The aliased columns stay on the row (deleting keys would slow every later read of it).
      for (let i = 0; i < join.columns.length; i++) related[join.columns[i]!] = row[join.keys[i]!];
      if (related[join.pkColumn] !== null && related[join.pkColumn] !== undefined) row[join.source] = mapRows(driver, join.meta, [related], undefined, join.mapper)[0];
    }
  }
  return rows;
}
