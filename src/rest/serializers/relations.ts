/**
 * Related fields, as DRF's `relations.py`: the base class, and a relation shown and written as the
 * related object's primary key (`PrimaryKeyRelatedField`) or one of its unique fields
 * (`SlugRelatedField`); URLs are in `hyperlinks.ts`.
 * Reading loads every related object of a page in one query; writing checks that the object
 * exists before anything is written, with DRF's messages.
 */
import type { EntityManager, InferEntity, Primary } from '@mikro-orm/core';
import type { QueryBuilder } from '@mikro-orm/sql';
import { executePrepared, exists, findOneBy, findRowBy } from '../orm.ts';
import { SetupError, ValidationError } from '../exceptions.ts';
import { type PropertyMeta, textSchema, valueSchemaOf } from '../fields.ts';
import { ERROR_MESSAGES_KEYWORD, pythonTypeName } from '../validation.ts';
import { type AnyEntitySchema, contextEm, type DeclaredFieldOptions, Field, PendingCreate, type SerializerContext, type ValidationContext } from './field.ts';
import type { Wire } from './types.ts';

const primaryKeys = new WeakMap<object, string>();

/** The primary key property name of an entity schema. */
export function primaryKeyOf(entity: AnyEntitySchema): string {
  let pk = primaryKeys.get(entity);
  if (pk === undefined) {
    const entry = Object.entries(entity.meta.properties as Record<string, PropertyMeta>).find(([, p]) => p.primary);
    primaryKeys.set(entity, (pk = entry?.[0] ?? 'id'));
  }
  return pk;
}

/** The primary key of a related value: the value itself, or the key of an entity or reference. */
export function pkValueOf(value: unknown, pk: string): unknown {
  return value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[pk] : value;
}

/** A query builder over `entity` from a request's EntityManager. */
export function queryBuilder(em: EntityManager, entity: AnyEntitySchema): QueryBuilder<any, any, any, any> {
  return (em as EntityManager & { createQueryBuilder(entity: unknown): QueryBuilder<any, any, any, any> }).createQueryBuilder(entity);
}

/** The entity a relation property points to. */
export function targetOf(prop: PropertyMeta | undefined): AnyEntitySchema | undefined {
  const entity = (prop as { entity?: unknown } | undefined)?.entity;
  return typeof entity === 'function' ? (entity as () => AnyEntitySchema)() : undefined;
}

const TO_ONE = new Set(['m:1', '1:1']);
const TO_MANY = new Set(['1:m', 'm:n']);

/** Options of every related field. */
export interface RelatedFieldOptions<T extends AnyEntitySchema = AnyEntitySchema, RO extends boolean = boolean, M extends boolean = boolean>
  extends Omit<DeclaredFieldOptions, 'readOnly'> {
  /** The related entity (DRF's `queryset`); must be the target of the source property when there is one. */
  entity: T;
  readOnly?: RO;
  /** A to-many relation (a one-to-many property as source): a list, always read-only. */
  many?: M;
}

/** Base class of related fields: finds the target, batches reads, checks writes. */
export abstract class RelatedField<Out = unknown, In = Out, RO extends boolean = boolean, Req extends boolean | undefined = undefined> extends Field<
  Out,
  In,
  RO,
  Req
> {
  declare readonly options: RelatedFieldOptions;

  constructor(options: RelatedFieldOptions) {
    super(options);
  }

  /** The related entity. */
  get target(): AnyEntitySchema {
    return this.options.entity;
  }

  get targetPk(): string {
    return primaryKeyOf(this.target);
  }

  get many(): boolean {
    return this.options.many ?? false;
  }

  override get readOnly(): boolean {
    return this.many || (this.options.readOnly ?? false);
  }

  override info() {
    const info = super.info();
    const prop = this.property;
    if (prop && this.source !== '*') {
      const kind = prop.kind ?? 'scalar';
      if (this.many ? !TO_MANY.has(kind) : !TO_ONE.has(kind)) {
        const expected = this.many ? 'a to-many relation' : 'a to-one relation';
        throw new SetupError('FASTREST_ERR_SERIALIZER_FIELD', `${this.parent!.name}.${this.source} is not ${expected} (field "${this.fieldName}")`);
      }
      const declared = targetOf(prop);
      if (declared && declared.meta.className !== this.target.meta.className) {
        throw new SetupError(
          'FASTREST_ERR_SERIALIZER_FIELD',
          `${this.parent!.name}.${this.source} points to ${declared.meta.className}, not ${this.target.meta.className} (field "${this.fieldName}")`,
        );
      }
    }
    return { ...info, unique: false };
  }

  /** Schema of one related value (the list's item for `many`). */
  abstract itemSchema(): Record<string, unknown>;

  override valueSchema(): Record<string, unknown> {
    return this.many ? { type: 'array', items: this.itemSchema() } : this.itemSchema();
  }

  override get allowNull(): boolean {
    return !this.many && super.allowNull;
  }

  /** For `many`, the parent's primary key: the related rows are found by their foreign key. */
  override getAttribute(item: Record<string, unknown>): unknown {
    return this.many ? item[this.parent!.primaryKey] : super.getAttribute(item);
  }

  override get columns(): string[] {
    return this.many ? [this.parent!.primaryKey] : super.columns;
  }

  /** Columns of the related rows `toRepresentation` reads (none when the primary key is enough). */
  protected get targetColumns(): string[] {
    return [];
  }

  /** Columns of the related row a read query may join in for this field (none for a list, or when the key is enough). */
  get joinColumns(): string[] {
    return this.many ? [] : this.targetColumns;
  }

  /** The representation of one related row or entity. */
  protected abstract represent(related: Record<string, unknown>, ctx?: SerializerContext): unknown;

  override toRepresentation(value: unknown, ctx?: SerializerContext): unknown {
    if (value === null || value === undefined) return null;
    const items = typeof (value as { getItems?: unknown }).getItems === 'function' ? (value as { getItems(): unknown[] }).getItems() : undefined;
    if (items) return items.map((item) => this.represent(asRow(item, this.targetPk), ctx));
    return this.represent(asRow(value, this.targetPk), ctx);
  }

  /** A related value is loaded when it is null or already carries the columns shown (a joined row, a loaded entity). */
  override isLoaded(value: unknown): boolean {
    if (this.many) return false;
    if (value === null || value === undefined) return true;
    const columns = this.targetColumns;
    return !columns.length || carries(value, this.targetPk, columns);
  }

  override async representMany(values: unknown[], ctx?: SerializerContext): Promise<unknown[]> {
    if (this.many) return this.representToMany(values, ctx);
    const columns = this.targetColumns;
    if (!columns.length) return values.map((value) => (value === null || value === undefined ? null : this.represent(asRow(value, this.targetPk), ctx)));
    const rows = await this.relatedRows(values, columns, ctx);
    return rows.map((row) => (row ? this.represent(row, ctx) : null));
  }

  /**
   * The related row of each value with `columns`: a value that already carries them (a joined row,
   * a loaded entity) as it is, the others loaded in one query; `undefined` for none.
   */
  protected async relatedRows(values: unknown[], columns: string[], ctx?: SerializerContext): Promise<(Record<string, unknown> | undefined)[]> {
    const pk = this.targetPk;
    const missing = values.filter((value) => value !== null && value !== undefined && !carries(value, pk, columns));
    const loaded = missing.length ? await this.loadRows(missing.map((v) => pkValueOf(v, pk)), columns, ctx) : new Map<string, Record<string, unknown>>();
    return values.map((value) => {
      if (value === null || value === undefined) return undefined;
      return carries(value, pk, columns) ? (value as Record<string, unknown>) : loaded.get(String(pkValueOf(value, pk)));
    });
  }

  /** Rows of the target by primary key, with `columns`, in one query. */
  protected async loadRows(keys: unknown[], columns: string[], ctx?: SerializerContext): Promise<Map<string, Record<string, unknown>>> {
    const wanted = [...new Map(keys.filter((k) => k !== null && k !== undefined).map((k) => [String(k), k])).values()];
    if (!wanted.length) return new Map();
    const pk = this.targetPk;
    const em = requireEm(this, ctx);
    const select = [...new Set([pk, ...columns])];
    // Two fields of one representation reading the same rows (a slug and a nested summary) share one query.
    const memo = loadedRows.get(ctx!) ?? new Map<string, Promise<Record<string, unknown>[]>>();
    loadedRows.set(ctx!, memo);
    const key = JSON.stringify([this.target.meta.className, select, wanted]);
    let rows = memo.get(key);
    if (!rows) memo.set(key, (rows = executePrepared(em, queryBuilder(em, this.target).select(select).where({ [pk]: { $in: wanted } }))));
    return new Map((await rows).map((row) => [String(row[pk]), row]));
  }

  /** The related rows of each parent key, with `columns`, through the relation's foreign key, in one query. */
  protected async loadToMany(parentKeys: unknown[], columns: string[], ctx?: SerializerContext): Promise<Record<string, unknown>[][]> {
    const mappedBy = (this.property as { mappedBy?: string } | undefined)?.mappedBy;
    if (!mappedBy) throw new SetupError('FASTREST_ERR_SERIALIZER_FIELD', `${this.parent!.name}.${this.source} has no mappedBy, so it cannot be listed`);
    const wanted = [...new Set(parentKeys.filter((k) => k !== null && k !== undefined))];
    const groups = new Map<string, Record<string, unknown>[]>();
    if (wanted.length) {
      const pk = this.targetPk;
      const rows = (await queryBuilder(requireEm(this, ctx), this.target)
        .select([...new Set([pk, mappedBy, ...columns])])
        .where({ [mappedBy]: { $in: wanted } })
        .orderBy({ [pk]: 'asc' })
        .execute('all')) as Record<string, unknown>[];
      for (const row of rows) {
        const key = String(pkValueOf(row[mappedBy], this.parent!.primaryKey));
        groups.set(key, [...(groups.get(key) ?? []), row]);
      }
    }
    return parentKeys.map((key) => groups.get(String(key)) ?? []);
  }

  protected async representToMany(parentKeys: unknown[], ctx?: SerializerContext): Promise<unknown[]> {
    const groups = await this.loadToMany(parentKeys, this.targetColumns, ctx);
    return groups.map((rows) => rows.map((row) => this.represent(row, ctx)));
  }
}

/** Whether a related value is an object holding the key and every one of `columns`. */
function carries(value: unknown, pk: string, columns: readonly string[]): boolean {
  if (typeof value !== 'object' || value === null || (value as Record<string, unknown>)[pk] === undefined) return false;
  for (const column of columns) if ((value as Record<string, unknown>)[column] === undefined) return false;
  return true;
}

const loadedRows = new WeakMap<SerializerContext, Map<string, Promise<Record<string, unknown>[]>>>();

function asRow(value: unknown, pk: string): Record<string, unknown> {
  return value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : { [pk]: value };
}

function requireEm(field: Field, ctx?: SerializerContext): EntityManager {
  const em = contextEm(ctx);
  if (!em) throw new Error(`${field.constructor.name} "${field.fieldName}" needs an EntityManager in the serializer context to load related objects`);
  return em;
}

/** The primary key's JSON type of an entity. */
type PkOf<T extends AnyEntitySchema> = Wire<Primary<InferEntity<T>>>;
/** A list of `T` for a to-many field. */
export type ListIf<M, T> = M extends true ? T[] : T;

/** A relation as the related object's primary key, e.g. `"author": 3` (DRF's `PrimaryKeyRelatedField`). */
export class PrimaryKeyRelatedField<
  const T extends AnyEntitySchema,
  const RO extends boolean = false,
  const M extends boolean = false,
  const Req extends boolean | undefined = undefined,
> extends RelatedField<ListIf<M, PkOf<T>>, PkOf<T>, M extends true ? true : RO, Req> {
  constructor(options: RelatedFieldOptions<T, RO, M> & { required?: Req }) {
    super(options);
  }

  override itemSchema(): Record<string, unknown> {
    const prop = (this.target.meta.properties as Record<string, PropertyMeta>)[this.targetPk]!;
    const schema = valueSchemaOf(String(this.target.meta.className), this.targetPk, { ...prop, nullable: false });
    return { ...schema, [ERROR_MESSAGES_KEYWORD]: { type: 'Incorrect type. Expected pk value, received {data_type}.' } };
  }

  protected override represent(related: Record<string, unknown>): unknown {
    return related[this.targetPk];
  }

  /** The related object as a reference, once it is known to exist (`Invalid pk "99" - object does not exist.`). */
  override async toInternalValue(data: unknown, ctx: ValidationContext): Promise<unknown> {
    if (data === null) return null;
    if (typeof data === 'boolean' || typeof data === 'object') throw new ValidationError(`Incorrect type. Expected pk value, received ${pythonTypeName(data)}.`);
    const em = requireEm(this, ctx);
    if (!(await exists(em, this.target, { [this.targetPk]: data }))) throw new ValidationError(`Invalid pk "${String(data)}" - object does not exist.`);
    return em.getReference(this.target, data as never);
  }
}

/** Options of a slug-related field. */
export interface SlugRelatedFieldOptions<T extends AnyEntitySchema, SF extends string, RO extends boolean, M extends boolean> extends RelatedFieldOptions<T, RO, M> {
  /** The target's unique property that stands for it, e.g. `name`. */
  slugField: SF;
  /**
   * Create the related object (with only the slug set) when none has the value, instead of
   * answering 400. It is created when the parent is saved, in the same transaction.
   */
  createIfMissing?: boolean;
}

/** A relation as one unique field of the related object, e.g. `"author": "Ann Smith"` (DRF's `SlugRelatedField`). */
export class SlugRelatedField<
  const T extends AnyEntitySchema,
  const SF extends keyof InferEntity<T> & string,
  const RO extends boolean = false,
  const M extends boolean = false,
  const Req extends boolean | undefined = undefined,
> extends RelatedField<ListIf<M, Wire<InferEntity<T>[SF]>>, Wire<InferEntity<T>[SF]>, M extends true ? true : RO, Req> {
  declare readonly options: SlugRelatedFieldOptions<T, SF, RO, M>;

  constructor(options: SlugRelatedFieldOptions<T, SF, RO, M> & { required?: Req }) {
    super(options);
  }

  get slugField(): string {
    return this.options.slugField;
  }

  override info() {
    const prop = (this.target.meta.properties as Record<string, PropertyMeta>)[this.slugField];
    if (!prop) throw new SetupError('FASTREST_ERR_SERIALIZER_FIELD', `${this.target.meta.className} has no property "${this.slugField}" (slug of field "${this.fieldName}")`);
    return super.info();
  }

  override itemSchema(): Record<string, unknown> {
    const prop = (this.target.meta.properties as Record<string, PropertyMeta>)[this.slugField]!;
    const schema = valueSchemaOf(String(this.target.meta.className), this.slugField, { ...prop, nullable: false });
    if (schema['type'] === 'string' && !schema['format'] && !schema['enum']) schema['minLength'] = 1;
    // DRF's SlugRelatedField looks the text up as sent: no trimming, but no null characters either.
    return textSchema(schema, false);
  }

  protected override get targetColumns(): string[] {
    return [this.slugField];
  }

  protected override represent(related: Record<string, unknown>): unknown {
    return related[this.slugField];
  }

  /** The related object with that slug (`Object with name=x does not exist.`), or one to create. */
  override async toInternalValue(data: unknown, ctx: ValidationContext): Promise<unknown> {
    if (data === null) return null;
    if (typeof data === 'object' || typeof data === 'boolean') throw new ValidationError('Invalid value.');
    const where = { [this.slugField]: data };
    const row = ctx.rowReader && (await findRowBy(ctx.rowReader, this.target, where));
    const found = row !== undefined ? row : await findOneBy(requireEm(this, ctx), this.target, where);
    if (found) return found;
    if (this.options.createIfMissing) return new PendingCreate(this.target, { [this.slugField]: data });
    throw new ValidationError(`Object with ${this.slugField}=${String(data)} does not exist.`);
  }
}
