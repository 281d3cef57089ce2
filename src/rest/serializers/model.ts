/**
 * `ModelSerializer`: reads a MikroORM entity's definition and the fields a serializer declares,
 * and yields its named TypeBox schemas (response, request, partial request), validates input
 * beyond what JSON Schema can say (related objects, field hooks, uniqueness, object-level rules)
 * and writes entities, nested ones included, in one transaction.
 */
import type { EntityManager, InferEntity } from '@mikro-orm/core';
import { atomic, canInsertDirectly, exists, insertDirectly, readsDirectly } from '../orm.ts';
import { messagesOf, SetupError, ValidationError } from '../exceptions.ts';
import { type FieldOptions, type PropertyMeta, resolveField } from '../fields.ts';
import { isPromiseLike } from '../promises.ts';
import { type FieldErrors, NON_FIELD_ERRORS } from '../validation.ts';
import { type AnyEntitySchema, contextEm, type Field, type FieldInfo, PendingWrite, type SerializerContext, type ValidationContext } from './field.ts';
import { compileRepresenter, representRows, type RowRepresenter } from './representation.ts';
import { serializerSchemas, type SerializerSchemas } from './schemas.ts';
import { primaryKeyOf, PrimaryKeyRelatedField, targetOf } from './relations.ts';
import type { AllFieldNames, DeclaredFields, FieldNameOf, InputOf, ModelSerializerOptions, OutputOf, ReadOnlyDeclared, SerializerInput, SerializerOutput } from './types.ts';

export type { ModelSerializerOptions, SerializerInput, SerializerOutput, SerializerSchemas, ValidationContext };

/** What the class `ModelSerializer.for()` returns implements: its entity and options. */
type DeclaredBy<S extends AnyEntitySchema> = { readonly entity: S; readonly options: ModelSerializerOptions<InferEntity<S>, any, any, any, any, any> };

const TO_ONE = new Set(['m:1', '1:1']);
const TO_MANY = new Set(['1:m', 'm:n']);

/**
 * Base class of serializers built from an entity. Subclass the class returned by
 * `ModelSerializer.for(Entity, options)` and add `validate<Field>(value, ctx)` or `validate(attrs, ctx)` hooks.
 */
export abstract class ModelSerializer<E extends object = any, Out = any, In = any> {
  /** The MikroORM entity schema this serializer reads and writes. */
  abstract readonly entity: AnyEntitySchema;
  abstract readonly options: ModelSerializerOptions<E, any, any, any, any, any>;

  declare readonly '~serializer': { out: Out; in: In };
  #fields?: FieldInfo[];
  #readable?: FieldInfo[];
  #representer?: RowRepresenter;
  #readableRelated?: FieldInfo[];
  #readableColumns?: string[];
  #flat?: boolean;
  #writable?: FieldInfo[];
  #hooks?: string[];
  #schemas?: SerializerSchemas<Out, In>;
  #defersUniqueChecks?: boolean;
  #validatesToRows?: boolean;
  #sources?: Map<string, string>;

  /** Declares a serializer for `entity`; the returned class is meant to be extended. */
  static for<
    S extends AnyEntitySchema,
    const D extends DeclaredFields = {},
    const F extends FieldNameOf<InferEntity<S>, D> = AllFieldNames<InferEntity<S>, D>,
    const X extends FieldNameOf<InferEntity<S>, D> = never,
    const RO extends F = never,
    const WO extends F = never,
  >(
    entity: S,
    options: ModelSerializerOptions<InferEntity<S>, F, RO, WO, D, X>,
  ): abstract new () => ModelSerializer<InferEntity<S> & object, OutputOf<InferEntity<S>, Exclude<F, X>, WO, D>, InputOf<InferEntity<S>, Exclude<F, X | RO | ReadOnlyDeclared<D>>, D>> & DeclaredBy<S> {
    type E = InferEntity<S>;
    abstract class Declared extends ModelSerializer<E & object> {
      readonly entity = entity;
      readonly options = options as ModelSerializerOptions<E, any, any, any, any, any>;
    }
    return Declared;
  }

  /** The entity's name, e.g. `Book`. */
  get name(): string {
    return this.options.name ?? this.entity.meta.className ?? String(this.entity.meta.name);
  }

  get verboseName(): string {
    return this.options.verboseName ?? this.name.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
  }

  /** The field names in order, `'__all__'` and `exclude` applied. */
  get fieldNames(): string[] {
    const { fields, exclude } = this.options;
    const excluded: readonly string[] = exclude ?? [];
    if (Array.isArray(fields)) {
      if (excluded.length) throw new SetupError('FASTREST_ERR_SERIALIZER_OPTIONS', `${this.name} sets both "fields" and "exclude"`);
      return [...fields];
    }
    if (fields !== '__all__' && !exclude) throw new SetupError('FASTREST_ERR_SERIALIZER_OPTIONS', `${this.name} needs "fields" (a list or '__all__') or "exclude"`);
    const all = this.allFieldNames();
    for (const name of excluded) {
      if (!all.includes(name)) throw new SetupError('FASTREST_ERR_SERIALIZER_FIELD', `${this.name} cannot exclude "${name}": it is not one of its fields`);
    }
    return all.filter((name) => !excluded.includes(name));
  }

  /** What `'__all__'` stands for, in DRF's order: the primary key, the declared fields, then the other properties. */
  protected allFieldNames(): string[] {
    const properties = this.entity.meta.properties as Record<string, PropertyMeta>;
    const declared = Object.keys(this.options.declaredFields ?? {});
    const rest = Object.entries(properties)
      .filter(([, p]) => !TO_MANY.has(String(p.kind ?? 'scalar')) && p.persist !== false && !p.hidden)
      .map(([name]) => name);
    return [...new Set([this.primaryKey, ...declared, ...rest])].filter((name) => name in properties || declared.includes(name));
  }

  /** The resolved fields in declaration order. */
  get fields(): FieldInfo[] {
    if (!this.#fields) {
      const properties = this.entity.meta.properties as Record<string, PropertyMeta>;
      const declared = (this.options.declaredFields ?? {}) as Readonly<Record<string, Field>>;
      const readOnly = new Set<string>(this.options.readOnlyFields ?? []);
      const writeOnly = new Set<string>(this.options.writeOnlyFields ?? []);
      const extra = (this.options.extraKwargs ?? {}) as Record<string, FieldOptions>;
      this.#fields = this.fieldNames.map((name: string) => {
        const overrides: FieldOptions = { ...extra[name] };
        if (readOnly.has(name)) overrides.readOnly = true;
        if (writeOnly.has(name)) overrides.writeOnly = true;
        const field = declared[name] ?? this.defaultRelatedField(name, properties[name], overrides);
        if (field) {
          const info = field.bind(name, this).info();
          if (overrides.readOnly) Object.assign(info, { readOnly: true, required: false });
          if (overrides.writeOnly) info.writeOnly = true;
          return info;
        }
        const prop = properties[name];
        if (!prop) throw new SetupError('FASTREST_ERR_SERIALIZER_FIELD', `${this.name} has no property "${name}"`);
        return resolveField(this.name, name, prop, overrides);
      });
    }
    return this.#fields;
  }

  /** The field a listed relation gets when none is declared: its primary key, as in DRF (a list of them, read-only, for to-many). */
  protected defaultRelatedField(name: string, prop: PropertyMeta | undefined, overrides: FieldOptions) {
    const kind = String(prop?.kind ?? 'scalar');
    if (!prop || (!TO_ONE.has(kind) && !TO_MANY.has(kind))) return undefined;
    const entity = targetOf(prop);
    if (!entity) throw new SetupError('FASTREST_ERR_SERIALIZER_FIELD', `${this.name}.${name}: the related entity is unknown`);
    return new PrimaryKeyRelatedField({ ...overrides, entity, many: TO_MANY.has(kind) });
  }

  /** Fields a client may send. */
  get writableFields(): FieldInfo[] {
    this.#writable ??= this.fields.filter((f) => !f.readOnly);
    return this.#writable;
  }

  /** The name of each writable field's `validate<Field>` hook, in `writableFields` order. */
  get #hookNames(): string[] {
    this.#hooks ??= this.writableFields.map((f) => `validate${f.name[0]!.toUpperCase()}${f.name.slice(1)}`);
    return this.#hooks;
  }

  /** The serializers nested in this one, whose schemas its own refer to (their request schemas too when `writable`). */
  get nestedSerializers(): { serializer: ModelSerializer; writable: boolean }[] {
    return this.fields.flatMap((f) => {
      const nested = f.field?.nestedSerializer;
      return nested ? [{ serializer: nested as ModelSerializer, writable: !f.readOnly }] : [];
    });
  }

  /** The named schemas (`Book`, `BookRequest`, `PatchedBookRequest`), built once; nested serializers are `$ref`s to theirs. */
  get schemas(): SerializerSchemas<Out, In> {
    this.#schemas ??= serializerSchemas<Out, In>(this.name, this.fields, this.writableFields);
    return this.#schemas;
  }

  /**
   * Validates data that already passed the JSON Schema: converts related values (checking that
   * the objects exist), runs `validate<Field>` hooks, unique checks and the object-level
   * `validate` hook. Reads only. Throws `ValidationError` with every field's messages.
   */
  async runValidation(data: Partial<In>, ctx: ValidationContext<E>): Promise<Partial<In>> {
    const errors: FieldErrors = {};
    const attrs: Record<string, unknown> = { ...data };
    const writable = this.writableFields;
    const hooks = this.#hookNames;
    for (let i = 0; i < writable.length; i++) {
      const field = writable[i]!;
      if (!(field.name in attrs)) {
        if (!ctx.partial && field.required) errors[field.name] = ['This field is required.'];
        continue;
      }
      if (field.field && attrs[field.name] !== undefined) {
        try {
          attrs[field.name] = await field.field.toInternalValue(attrs[field.name], ctx as ValidationContext);
        } catch (error) {
          errors[field.name] = messagesOf(error);
          continue;
        }
      }
      const hook = (this as unknown as Record<string, unknown>)[hooks[i]!];
      if (typeof hook !== 'function') continue;
      try {
        const value: unknown = hook.call(this, attrs[field.name], ctx);
        // Most hooks answer at once: no tick for them.
        attrs[field.name] = isPromiseLike(value) ? await value : value;
      } catch (error) {
        errors[field.name] = messagesOf(error);
      }
    }
    if (!ctx.deferUniqueChecks || Object.keys(errors).length) await this.checkUnique(attrs, ctx, errors);
    if (Object.keys(errors).length) throw new ValidationError(errors);
    try {
      return (await this.validate(attrs as Partial<In>, ctx)) ?? (attrs as Partial<In>);
    } catch (error) {
      if (error instanceof ValidationError && !Array.isArray(error.detail)) throw error;
      throw new ValidationError({ [NON_FIELD_ERRORS]: messagesOf(error) as string[] });
    }
  }

  /** Object-level validation hook (DRF's `validate(attrs)`); return the attributes to save. */
  validate(attrs: Partial<In>, _ctx: ValidationContext<E>): Partial<In> | void | Promise<Partial<In> | void> {
    return attrs;
  }

  /** Rejects values of unique fields that another row already holds, before any write. */
  protected async checkUnique(attrs: Record<string, unknown>, ctx: ValidationContext<E>, errors: FieldErrors): Promise<void> {
    const pk = this.primaryKey;
    for (const field of this.writableFields) {
      if (!field.unique || errors[field.name] || attrs[field.name] === undefined || attrs[field.name] === null) continue;
      const where: Record<string, unknown> = { [field.name]: attrs[field.name] };
      if (ctx.instance) where[pk] = { $ne: (ctx.instance as Record<string, unknown>)[pk] };
      if (await exists(contextEm(ctx)!, this.entity, where)) errors[field.name] = [this.uniqueMessage(field.name)];
    }
  }

  /** `checkUnique` on its own: throws `ValidationError` with the message of every unique value already taken. */
  async validateUnique(attrs: Partial<In>, ctx: ValidationContext<E>): Promise<void> {
    const errors: FieldErrors = {};
    await this.checkUnique(attrs as Record<string, unknown>, ctx, errors);
    if (Object.keys(errors).length) throw new ValidationError(errors);
  }

  /**
   * Whether a create may check its unique values in its INSERT statement rather than before it:
   * `validate` and `checkUnique` are not overridden (nothing else runs between the check and the
   * write) and every unique field is a column.
   */
  defersUniqueChecks(): boolean {
    this.#defersUniqueChecks ??=
      this.validate === ModelSerializer.prototype.validate &&
      this.checkUnique === ModelSerializer.prototype.checkUnique &&
      this.writableFields.every((f) => !f.unique || !f.field);
    return this.#defersUniqueChecks;
  }

  /** DRF's unique message, e.g. "book with this isbn already exists." */
  uniqueMessage(field: string): string {
    return `${this.verboseName} with this ${field} already exists.`;
  }

  /** The entity's primary key property name. */
  get primaryKey(): string {
    return primaryKeyOf(this.entity);
  }

  /** Names of the columns the response reads, for queries that skip entity hydration. */
  get readableFieldNames(): string[] {
    this.#readableColumns ??= [...new Set(this.readableFields.flatMap((f) => (f.field ? f.field.columns : [f.name])))];
    return this.#readableColumns;
  }

  /** The fields a response shows (all but the write-only ones). */
  get readableFields(): FieldInfo[] {
    this.#readable ??= this.fields.filter((f) => !f.writeOnly);
    return this.#readable;
  }

  /** The function giving one row's response body from `readableFields`, generated on first use. */
  protected get representer(): RowRepresenter {
    this.#representer ??= compileRepresenter(this.readableFields);
    return this.#representer;
  }

  /** Creates and persists an entity from validated data, nested objects first, in one transaction (DRF's `create`). */
  async create(em: EntityManager, validated: Partial<In>): Promise<E> {
    return atomic(em, async () => {
      const data = await this.toEntityData(em, undefined, validated as Record<string, unknown>);
      const entity = em.create(this.entity, data as never) as E;
      await em.flush();
      return entity;
    });
  }

  /**
   * Whether `createDirectly` may stand for `create`: neither is overridden, nothing nested or
   * related is to be created first, and the write is one INSERT (`canInsertDirectly`: a plain
   * entity, nothing else pending in `em`, no event subscribers).
   */
  canCreateDirectly(em: EntityManager, validated: Partial<In>): boolean {
    if (!this.#writesAsDefault()) return false;
    if (Object.values(validated).some((value) => value instanceof PendingWrite)) return false;
    return canInsertDirectly(em, this.entity, this.entityData(validated as Record<string, unknown>));
  }

  /** Whether related objects may validate to rows (`ValidationContext.rowReader`): no own `validate`, `create`, `toEntityData` or related field's `validate<Field>` sees them. */
  validatesToRows(): boolean {
    this.#validatesToRows ??= this.validate === ModelSerializer.prototype.validate && this.#writesAsDefault() && this.writableFields.every((f, i) => !f.field || !(this.#hookNames[i]! in this));
    return this.#validatesToRows;
  }

  #writesAsDefault(): boolean {
    return this.create === ModelSerializer.prototype.create && this.toEntityData === ModelSerializer.prototype.toEntityData;
  }

  /**
   * Writes what `create` writes with one `INSERT ... RETURNING` and no transaction of its own, and
   * returns the new row by property (as the entity would hold it; no entity is made); only when
   * `canCreateDirectly`.
   */
  async createDirectly(em: EntityManager, validated: Partial<In>, ctx?: ValidationContext<E>): Promise<Record<string, unknown>> {
    const data = this.entityData(validated as Record<string, unknown>);
    if (ctx?.deferUniqueChecks) {
      // The unique checks `runValidation` left to the write: the INSERT happens only if no row holds the
      // values (read as `checkUnique` reads them: not when filters apply, then they run before it).
      const unique = this.writableFields.filter((f) => f.unique && data[f.name] !== undefined && data[f.name] !== null).map((f) => f.name);
      if (unique.length && (await readsDirectly(em, em.getMetadata().get(this.entity as never)))) {
        const row = await insertDirectly(em, this.entity, data, unique);
        if (row) return row;
      }
      await this.validateUnique(validated, ctx);
    }
    return (await insertDirectly(em, this.entity, data))!;
  }

  /** Validated data keyed by entity property, when none of it is nested or to be created. */
  private entityData(validated: Record<string, unknown>): Record<string, unknown> {
    const data: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(validated)) {
      const source = this.#sourceOf(name);
      if (source !== '*' && value !== undefined) data[source] = value;
    }
    return data;
  }

  /** The entity property a field writes (its `source`); a name that is no field's stands for itself. */
  #sourceOf(name: string): string {
    this.#sources ??= new Map(this.fields.map((f) => [f.name, f.source ?? f.name]));
    return this.#sources.get(name) ?? name;
  }

  /** Applies validated data to an entity, nested objects included, and flushes it in one transaction (DRF's `update`). */
  async update(em: EntityManager, instance: E, validated: Partial<In>): Promise<E> {
    return atomic(em, async () => {
      em.assign(instance, (await this.toEntityData(em, instance, validated as Record<string, unknown>)) as never);
      await em.flush();
      return instance;
    });
  }

  /**
   * Validated data keyed by entity property: related objects to create are created, nested
   * objects are created or updated through their serializer (all inside the caller's transaction).
   */
  protected async toEntityData(em: EntityManager, instance: E | undefined, validated: Record<string, unknown>): Promise<Record<string, unknown>> {
    const data: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(validated)) {
      const source = this.#sourceOf(name);
      if (source === '*' || value === undefined) continue;
      if (value instanceof PendingWrite) {
        data[source] = await value.resolve(em, instance ? (instance as Record<string, unknown>)[source] : undefined);
      } else {
        data[source] = value;
      }
    }
    return data;
  }

  /** The response body of one entity or row; related fields use what is loaded (use `represent` to load them). */
  toRepresentation(instance: E | Record<string, unknown>, ctx?: SerializerContext): Out {
    return this.representer(instance as Record<string, unknown>, ctx) as Out;
  }

  /**
   * The response bodies of many entities or rows (those of `readableFieldNames`), each related
   * field loading what it shows for all of them in one query.
   */
  async represent(items: ReadonlyArray<E | Record<string, unknown>>, ctx?: SerializerContext): Promise<Out[]> {
    const rows = items as ReadonlyArray<Record<string, unknown>>;
    const loaded = this.representLoaded(rows, ctx);
    if (loaded) return loaded;
    return (await representRows(this.readableFields, this.representer, rows, ctx)) as Out[];
  }

  /**
   * The response bodies of rows that carry everything they show (related rows joined in), field
   * by field and without a promise; `null` when one of them needs something loaded (`represent`).
   */
  representLoaded(items: ReadonlyArray<E | Record<string, unknown>>, ctx?: SerializerContext): Out[] | null {
    for (const row of items) if (!this.isLoaded(row)) return null;
    return items.map((row) => this.toRepresentation(row, ctx));
  }

  /** Whether every readable field can show its value of this entity or row without loading anything. */
  isLoaded(row: E | Record<string, unknown>): boolean {
    this.#readableRelated ??= this.readableFields.filter((f) => f.field);
    for (const f of this.#readableRelated) if (!f.field!.isLoaded(f.field!.getAttribute(row as Record<string, unknown>))) return false;
    return true;
  }

  /** Whether every readable field is a column, so rows are already their representation (dates aside). */
  get isFlat(): boolean {
    this.#flat ??= this.fields.every((f) => f.writeOnly || !f.field);
    return this.#flat;
  }
}
