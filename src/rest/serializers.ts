/**
 * Serializers: the ModelSerializer reads a MikroORM entity's definition and yields its named
 * TypeBox schemas (response, request, partial request), validates input beyond what JSON Schema
 * can say (field hooks, uniqueness, object-level rules) and writes entities.
 */
import type { EntityManager } from '@mikro-orm/core';
import type { EntitySchema, InferEntity, RequiredEntityData } from '@mikro-orm/core';
import { Type, type TUnsafe } from 'typebox';
import { SetupError, ValidationError } from './exceptions.ts';
import { resolveField, type FieldInfo, type FieldOptions, type PropertyMeta } from './fields.ts';
import { NON_FIELD_ERRORS, type FieldErrors } from './validation.ts';

/** The JSON value of an entity property: dates travel as ISO 8601 strings. */
export type Wire<T> = T extends Date ? string : T extends null ? null : T extends undefined ? undefined : T;

type OptionalKeys<T> = { [K in keyof T]-?: undefined extends T[K] ? K : {} extends Pick<T, K> ? K : never }[keyof T];

/** The response body's static type. */
export type OutputOf<E, F extends keyof E, WO extends keyof E> = { -readonly [K in Exclude<F, WO>]: Wire<E[K]> };

/** The create/full-update body's static type: required unless the column has a default or allows null. */
export type InputOf<E, W extends keyof E> = {
  -readonly [K in Exclude<W, OptionalKeys<RequiredEntityData<E>>>]: Wire<E[K]>;
} & { -readonly [K in Extract<W, OptionalKeys<RequiredEntityData<E>>>]?: Wire<E[K]> };

/** Options of a model serializer (DRF's `Meta`). */
export interface ModelSerializerOptions<E, F extends keyof E & string, RO extends F, WO extends F> {
  /** Component name in OpenAPI; defaults to the entity's name. */
  name?: string;
  /** The fields exposed, in order. */
  fields: readonly F[];
  readOnlyFields?: readonly RO[];
  writeOnlyFields?: readonly WO[];
  /** Per-field overrides (DRF's `extra_kwargs`). */
  extraKwargs?: { [K in F]?: FieldOptions };
  /** Human name used in messages such as "book with this isbn already exists."; defaults to the entity name, lowercased. */
  verboseName?: string;
}

/** What validation hooks receive besides the value. */
export interface ValidationContext<E> {
  em: EntityManager;
  /** The object being updated; absent on create. */
  instance?: E;
  partial: boolean;
}

/** The named schemas a serializer registers, each with its static type. */
export interface SerializerSchemas<Out, In> {
  response: TUnsafe<Out> & { $id: string };
  request: TUnsafe<In> & { $id: string };
  patch: TUnsafe<Partial<In>> & { $id: string };
}

type AnySchema = EntitySchema<any, any>;

/**
 * Base class of serializers built from an entity. Subclass the class returned by
 * `ModelSerializer.for(Entity, options)` and add `validate<Field>(value, ctx)` or `validate(attrs, ctx)` hooks.
 */
export abstract class ModelSerializer<E extends object = any, Out = any, In = any> {
  /** The MikroORM entity schema this serializer reads and writes. */
  abstract readonly entity: AnySchema;
  abstract readonly options: ModelSerializerOptions<E, any, any, any>;

  #fields?: FieldInfo[];
  #schemas?: SerializerSchemas<Out, In>;

  /** Declares a serializer for `entity`; the returned class is meant to be extended. */
  static for<
    S extends AnySchema,
    const F extends keyof InferEntity<S> & string,
    const RO extends F = never,
    const WO extends F = never,
  >(entity: S, options: ModelSerializerOptions<InferEntity<S>, F, RO, WO>) {
    type E = InferEntity<S>;
    abstract class Declared extends ModelSerializer<E & object, OutputOf<E, F, WO>, InputOf<E, Exclude<F, RO>>> {
      readonly entity = entity;
      readonly options = options as ModelSerializerOptions<E, any, any, any>;
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

  /** The resolved fields in declaration order. */
  get fields(): FieldInfo[] {
    if (!this.#fields) {
      const properties = this.entity.meta.properties as Record<string, PropertyMeta>;
      const readOnly = new Set<string>(this.options.readOnlyFields ?? []);
      const writeOnly = new Set<string>(this.options.writeOnlyFields ?? []);
      const extra = (this.options.extraKwargs ?? {}) as Record<string, FieldOptions>;
      this.#fields = this.options.fields.map((name: string) => {
        const prop = properties[name];
        if (!prop) throw new SetupError('FASTREST_ERR_SERIALIZER_FIELD', `${this.name} has no property "${name}"`);
        const overrides: FieldOptions = { ...extra[name] };
        if (readOnly.has(name)) overrides.readOnly = true;
        if (writeOnly.has(name)) overrides.writeOnly = true;
        return resolveField(this.name, name, prop, overrides);
      });
    }
    return this.#fields;
  }

  /** Fields a client may send. */
  get writableFields(): FieldInfo[] {
    return this.fields.filter((f) => !f.readOnly);
  }

  /** The named schemas (`Book`, `BookRequest`, `PatchedBookRequest`), built once. */
  get schemas(): SerializerSchemas<Out, In> {
    if (!this.#schemas) {
      const readable = this.fields.filter((f) => !f.writeOnly);
      const response = objectSchema(
        this.name,
        readable.map((f) => [f.name, f.readOnly ? { ...f.schema, readOnly: true } : f.schema]),
        readable.map((f) => f.name),
      );
      const writable = this.writableFields.map((f) => [f.name, f.writeOnly ? { ...f.schema, writeOnly: true } : f.schema] as const);
      const request = objectSchema(
        `${this.name}Request`,
        writable,
        this.writableFields.filter((f) => f.required).map((f) => f.name),
      );
      const patch = objectSchema(`Patched${this.name}Request`, writable, []);
      this.#schemas = {
        response: Type.Unsafe<Out>(response) as SerializerSchemas<Out, In>['response'],
        request: Type.Unsafe<In>(request) as SerializerSchemas<Out, In>['request'],
        patch: Type.Unsafe<Partial<In>>(patch) as SerializerSchemas<Out, In>['patch'],
      };
    }
    return this.#schemas;
  }

  /**
   * Validates data that already passed the JSON Schema: runs `validate<Field>` hooks, unique checks
   * and the object-level `validate` hook. Throws `ValidationError` with every field's messages.
   */
  async runValidation(data: Partial<In>, ctx: ValidationContext<E>): Promise<Partial<In>> {
    const errors: FieldErrors = {};
    const attrs: Record<string, unknown> = { ...data };
    for (const field of this.writableFields) {
      if (!(field.name in attrs)) continue;
      const hook = (this as unknown as Record<string, unknown>)[`validate${field.name[0]!.toUpperCase()}${field.name.slice(1)}`];
      if (typeof hook !== 'function') continue;
      try {
        attrs[field.name] = await hook.call(this, attrs[field.name], ctx);
      } catch (error) {
        errors[field.name] = messagesOf(error);
      }
    }
    await this.checkUnique(attrs, ctx, errors);
    if (Object.keys(errors).length) throw new ValidationError(errors);
    try {
      return (await this.validate(attrs as Partial<In>, ctx)) ?? (attrs as Partial<In>);
    } catch (error) {
      if (error instanceof ValidationError && !Array.isArray(error.detail)) throw error;
      throw new ValidationError({ [NON_FIELD_ERRORS]: messagesOf(error) });
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
      if ((await ctx.em.count(this.entity, where)) > 0) errors[field.name] = [this.uniqueMessage(field.name)];
    }
  }

  /** DRF's unique message, e.g. "book with this isbn already exists." */
  uniqueMessage(field: string): string {
    return `${this.verboseName} with this ${field} already exists.`;
  }

  /** The entity's primary key property name. */
  get primaryKey(): string {
    const entry = Object.entries(this.entity.meta.properties as Record<string, PropertyMeta>).find(([, p]) => p.primary);
    return entry?.[0] ?? 'id';
  }

  /** Names of the columns the response reads, for queries that skip entity hydration. */
  get readableFieldNames(): string[] {
    return this.fields.filter((f) => !f.writeOnly).map((f) => f.name);
  }

  /** Creates and persists an entity from validated data (DRF's `create`). */
  async create(em: EntityManager, validated: Partial<In>): Promise<E> {
    const entity = em.create(this.entity, validated as never) as E;
    await em.flush();
    return entity;
  }

  /** Applies validated data to an entity and flushes it (DRF's `update`). */
  async update(em: EntityManager, instance: E, validated: Partial<In>): Promise<E> {
    em.assign(instance, validated as never);
    await em.flush();
    return instance;
  }

  /** The response body of one entity or row: the readable fields, dates as ISO strings. */
  toRepresentation(instance: E | Record<string, unknown>): Out {
    const source = instance as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const name of this.readableFieldNames) {
      const value = source[name];
      out[name] = value instanceof Date ? value.toISOString() : value;
    }
    return out as Out;
  }
}

function objectSchema(id: string, properties: ReadonlyArray<readonly [string, unknown]>, required: string[]) {
  return {
    $id: id,
    type: 'object',
    properties: Object.fromEntries(properties),
    required,
    additionalProperties: false,
  };
}

function messagesOf(error: unknown): string[] {
  if (error instanceof ValidationError) {
    return Array.isArray(error.detail) ? error.detail : [String(error.message)];
  }
  throw error;
}

/** Static response type of a serializer class or instance. */
export type SerializerOutput<S> = S extends ModelSerializer<any, infer O, any> ? O : S extends abstract new () => ModelSerializer<any, infer O, any> ? O : never;
/** Static request type of a serializer class or instance. */
export type SerializerInput<S> = S extends ModelSerializer<any, any, infer I> ? I : S extends abstract new () => ModelSerializer<any, any, infer I> ? I : never;
