/**
 * Declared fields: the base class of every serializer field that is not read straight from a
 * column (relations, nested serializers, hyperlinks), as DRF's `Field` with `bind`,
 * `get_attribute`, `to_representation` and `to_internal_value`.
 */
import type { EntityManager, EntitySchema } from '@mikro-orm/core';
import type { FastifyRequest } from 'fastify';
import { SetupError } from '../exceptions.ts';
import { labelOf, type ColumnInfo, type FieldOptions, type PropertyMeta } from '../fields.ts';
import { ERROR_MESSAGES_KEYWORD } from '../validation.ts';

/** An entity schema of any entity. */
export type AnyEntitySchema = EntitySchema<any, any>;

/** What reading and writing may need besides the data: the EntityManager and, for absolute URLs, the request. */
export interface SerializerContext {
  em: EntityManager;
  /** The request being answered; hyperlinked fields need it to build absolute URLs. */
  request?: FastifyRequest;
}

/** The EntityManager of a context: its `em`, else its request's (a spread context loses the `em` getter, not the request). */
export function contextEm(ctx: SerializerContext | undefined): EntityManager | undefined {
  return ctx?.em ?? ctx?.request?.em;
}

/** What validation hooks receive besides the value. */
export interface ValidationContext<E = object> extends SerializerContext {
  /** The object being updated; absent on create. */
  instance?: E;
  partial: boolean;
  /**
   * Set by `createAction` when the create checks unique values in its INSERT statement
   * (`ModelSerializer.defersUniqueChecks`): `runValidation` then leaves them to the write.
   */
  deferUniqueChecks?: boolean;
  /**
   * Set by `createAction` when nothing but the write sees validated related objects
   * (`ModelSerializer.validatesToRows`): related fields read with it and may answer rows by
   * property (`findRowBy`) instead of entities, sparing the entity and the EntityManager fork.
   */
  rowReader?: EntityManager;
}

/** Options every declared field takes (DRF's core arguments), besides the `FieldOptions` of columns. */
export interface DeclaredFieldOptions extends Omit<FieldOptions, 'readOnly' | 'required'> {
  /** The entity property read and written; `'*'` passes the whole object. Defaults to the field's name. */
  source?: string;
  readOnly?: boolean;
  required?: boolean;
}

/** Whether one property alone is unique: declared `unique`, or the only property of an entity-level unique. */
function isUniqueProperty(entity: AnyEntitySchema, name: string): boolean {
  const meta = entity.meta as { properties: Record<string, PropertyMeta>; uniques?: { properties?: unknown }[] };
  if (meta.properties[name]?.unique) return true;
  return (meta.uniques ?? []).some((u) => {
    const props = [u.properties].flat();
    return props.length === 1 && props[0] === name;
  });
}

/** What the framework knows about one serializer field once it is resolved: its column's facts, and the declared field behind it. */
export interface FieldInfo extends ColumnInfo {
  /** The declared field (relation, nested serializer, hyperlink) behind this entry, bound to its serializer. */
  field?: Field;
}

/**
 * What fields know of the serializer they belong to or nest. Fields sit below `ModelSerializer`
 * (it is made of them) and see it by this shape only.
 */
export interface SerializerLike {
  readonly name: string;
  readonly entity: AnyEntitySchema;
  readonly primaryKey: string;
}

/**
 * A validated value that is written only when its parent is saved, inside the parent's
 * transaction: a related object to create, a nested object to create or update.
 */
export abstract class PendingWrite {
  /** The value to store on the parent, written now; `current` is what the parent holds there (updates). */
  abstract resolve(em: EntityManager, current: unknown): Promise<object>;
}

/** A related object that validation found missing and that is created when the parent is saved, in its transaction. */
export class PendingCreate extends PendingWrite {
  readonly entity: AnyEntitySchema;
  readonly data: Record<string, unknown>;

  constructor(entity: AnyEntitySchema, data: Record<string, unknown>) {
    super();
    this.entity = entity;
    this.data = data;
  }

  /**
   * The object to relate to, inside the parent's transaction. Found by a unique column, it is
   * inserted at once with `on conflict do nothing` and read back, so requests that name the same
   * new object at the same time share one row (Django's `get_or_create`) instead of all but one
   * failing on the unique constraint; otherwise it is created with the parent's flush.
   */
  async resolve(em: EntityManager): Promise<object> {
    const keys = Object.keys(this.data);
    if (keys.length === 1 && isUniqueProperty(this.entity, keys[0]!)) {
      return em.upsert(this.entity, this.data as never, { onConflictFields: keys as never, onConflictAction: 'ignore' });
    }
    return em.create(this.entity, this.data as never);
  }
}

/**
 * Base class of declared fields. `Out` is the representation, `In` what a client sends, `RO`
 * whether the field is read-only and `Req` whether it is required (`undefined`: as the column says).
 */
export abstract class Field<Out = unknown, In = Out, RO extends boolean = boolean, Req extends boolean | undefined = boolean | undefined> {
  declare readonly '~types': { out: Out; in: In; readOnly: RO; required: Req };
  readonly options: DeclaredFieldOptions;
  /** The name the field has in its serializer; set by `bind`. */
  fieldName = '';
  /** The serializer the field belongs to; set by `bind`. */
  parent: SerializerLike | undefined = undefined;

  constructor(options: DeclaredFieldOptions = {}) {
    this.options = options;
  }

  /** A copy of this field attached to `parent` under `name` (DRF's `bind`): one declaration serves every serializer instance. */
  bind(name: string, parent: SerializerLike): this {
    const bound = Object.create(Object.getPrototypeOf(this)) as this;
    Object.assign(bound, this, { fieldName: name, parent });
    return bound;
  }

  /** The entity property read and written. */
  get source(): string {
    return this.options.source ?? this.fieldName;
  }

  /** The parent entity's property behind `source`, if there is one. */
  get property(): PropertyMeta | undefined {
    if (!this.parent || this.source === '*') return undefined;
    return (this.parent.entity.meta.properties as Record<string, PropertyMeta>)[this.source];
  }

  /** Whether the field only appears in responses. */
  get readOnly(): boolean {
    return this.options.readOnly ?? false;
  }

  /** Whether a null value is accepted and shown; defaults to what the column allows. */
  get allowNull(): boolean {
    return this.options.allowNull ?? Boolean(this.property?.nullable);
  }

  /** JSON Schema of the value, without the null alternative. */
  abstract valueSchema(): Record<string, unknown>;

  /** The resolved description of the field used by schemas, forms and OPTIONS. */
  info(): FieldInfo {
    const prop = this.property;
    if (!this.parent) throw new SetupError('FASTREST_ERR_SERIALIZER_FIELD', `${this.constructor.name} is used before being bound to a serializer`);
    if (this.source !== '*' && !prop && this.needsProperty) {
      throw new SetupError('FASTREST_ERR_SERIALIZER_FIELD', `${this.parent.name} has no property "${this.source}" (source of field "${this.fieldName}")`);
    }
    const readOnly = this.readOnly;
    const hasDefault = prop?.default !== undefined || prop?.defaultRaw !== undefined;
    const schema = this.decorate(this.valueSchema());
    return {
      name: this.fieldName,
      schema,
      readOnly,
      writeOnly: this.options.writeOnly ?? false,
      required: !readOnly && (this.options.required ?? (!hasDefault && !this.allowNull)),
      allowNull: this.allowNull,
      unique: false,
      label: this.options.label ?? labelOf(this.fieldName),
      kind: prop && this.source === this.fieldName ? (prop.kind ?? 'scalar') : 'declared',
      source: this.source,
      field: this,
    };
  }

  /** Whether the field reads a property of the parent entity (false for fields computed from the whole object). */
  protected get needsProperty(): boolean {
    return true;
  }

  /** Adds the common options (help text, examples, messages) and the null alternative to a value schema. */
  protected decorate(schema: Record<string, unknown>): Record<string, unknown> {
    const out: Record<string, unknown> = { ...schema };
    const description = this.options.description ?? this.property?.comment;
    if (description) out['description'] = description;
    if (this.options.examples) out['examples'] = this.options.examples;
    if (this.options.errorMessages) out[ERROR_MESSAGES_KEYWORD] = { ...(out[ERROR_MESSAGES_KEYWORD] as object), ...this.options.errorMessages };
    return this.allowNull ? nullable(out) : out;
  }

  /** The serializer this field shows its object through (nested serializers); `null` for the others. */
  get nestedSerializer(): SerializerLike | null {
    return null;
  }

  /** The value this field reads from an entity or a row (DRF's `get_attribute`). */
  getAttribute(item: Record<string, unknown>): unknown {
    return this.source === '*' ? item : item[this.source];
  }

  /** Columns of the parent row `getAttribute` needs when reading without building entities. */
  get columns(): string[] {
    return this.source === '*' ? [] : [this.source];
  }

  /** The representation of one value (DRF's `to_representation`); `null` stays `null`. */
  abstract toRepresentation(value: unknown, ctx?: SerializerContext): unknown;

  /**
   * Whether `toRepresentation` can show this value as it is, without loading anything: true for a
   * field that does not override `representMany`; related fields say whether the value carries what they show.
   */
  isLoaded(_value: unknown): boolean {
    return this.representMany === Field.prototype.representMany;
  }

  /** The representations of many values at once; related fields load their targets in one query. */
  async representMany(values: unknown[], ctx?: SerializerContext): Promise<unknown[]> {
    return values.map((value) => (value === null || value === undefined ? null : this.toRepresentation(value, ctx)));
  }

  /**
   * The value to save for `data`, which already passed the JSON Schema (DRF's `to_internal_value`);
   * throws `ValidationError` with this field's messages. Reads only: nothing is written here.
   */
  async toInternalValue(data: unknown, _ctx: ValidationContext): Promise<unknown> {
    return data;
  }
}

/** `schema` or null: a reference (`$ref`, or `allOf` of one) gains an `anyOf`, a typed schema a second type. */
export function nullable(schema: Record<string, unknown>): Record<string, unknown> {
  if (typeof schema['$ref'] === 'string') {
    const { $ref, ...rest } = schema;
    return { ...rest, anyOf: [{ $ref }, { type: 'null' }] };
  }
  const allOf = schema['allOf'];
  if (Array.isArray(allOf) && allOf.length === 1) {
    const { allOf: _, ...rest } = schema;
    return { ...rest, anyOf: [allOf[0], { type: 'null' }] };
  }
  if (schema['type'] === undefined) return schema;
  const types = Array.isArray(schema['type']) ? schema['type'] : [schema['type']];
  return types.includes('null') ? schema : { ...schema, type: [...types, 'null'] };
}
