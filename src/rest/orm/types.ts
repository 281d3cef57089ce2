/**
 * The types the database adapter speaks in: a query builder over any entity and a result row.
 */
import type { QueryBuilder } from '@mikro-orm/sql';

/** A query builder over any entity. */
export type AnyQueryBuilder = QueryBuilder<any, any, any, any>;

/** A result row, by column or property name. */
export type Row = Record<string, unknown>;
