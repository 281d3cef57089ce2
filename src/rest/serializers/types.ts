/**
 * The static types of serializers: what a response body and a request body look like, derived
 * from the entity's properties and the fields a serializer declares, so handlers are typed from
 * the very options that build the schemas.
 */
import type { Collection, InferEntity, Opt, Primary, PrimaryKeyProp, RequiredEntityData } from '@mikro-orm/core';
import type { FieldOptions } from '../fields.ts';
import type { Field } from './field.ts';

type IsEntity<T> = T extends object ? (typeof PrimaryKeyProp extends keyof T ? true : false) : false;

/** A property type without MikroORM's "has a default" brand. */
type Unbranded<T> = T extends infer U & Opt.Brand ? U : T;

/** The JSON value of an entity property: dates travel as ISO 8601 strings, related objects as their primary key. */
export type Wire<T> = T extends Date
  ? string
  : T extends null
    ? null
    : T extends undefined
      ? undefined
      : T extends Collection<infer U extends object>
        ? Wire<Primary<U>>[]
        : IsEntity<T> extends true
          ? Wire<Primary<T>>
          : Unbranded<T>;

/** Flattens an intersection of object types into one object type (readable hovers, exact comparisons). */
type Simplify<T> = { [K in keyof T]: T[K] } & {};

/** The primary key when the database generates it (an autoincrement key has a default): never sent. */
type GeneratedKey<E> = E extends { [PrimaryKeyProp]?: infer PK } ? (PK extends keyof E ? (E[PK] extends Opt.Brand ? PK : never) : never) : never;

type OptionalKeys<T> = { [K in keyof T]-?: undefined extends T[K] ? K : {} extends Pick<T, K> ? K : never }[keyof T];

/**
 * Any declared field, as a constraint that carries no type parameters: a field's own options
 * (`required`, `readOnly`) then decide its types, not the place it is declared in.
 */
export interface AnyField {
  readonly '~types': unknown;
  info(): unknown;
}

/** Fields declared on a serializer rather than derived from a column, by name. */
export type DeclaredFields = { readonly [name: string]: AnyField };

/** The names `fields: '__all__'` stands for: every property except to-many relations, plus the declared fields. */
export type AllFieldNames<E, D> = { [K in keyof E & string]: E[K] extends Collection<any> ? never : K }[keyof E & string] | (keyof D & string);

/** The names a serializer may list: the entity's properties and its declared fields. */
export type FieldNameOf<E, D> = (keyof E & string) | (keyof D & string);

/** Declared fields that never take input. */
export type ReadOnlyDeclared<D> = { [K in keyof D]: D[K] extends Field<any, any, true, any> ? K : never }[keyof D];

type DeclaredOut<E, K, F> = F extends Field<infer O, any, any, any> ? (K extends keyof E ? (null extends E[K] ? O | null : O) : O) : never;
type DeclaredIn<E, K, F> = F extends Field<any, infer I, any, any> ? (K extends keyof E ? (null extends E[K] ? I | null : I) : I) : never;

/** The response body's static type. */
export type OutputOf<E, F extends PropertyKey, WO extends PropertyKey, D = {}> = {
  -readonly [K in Exclude<F, WO>]: K extends keyof D ? DeclaredOut<E, K, D[K]> : K extends keyof E ? Wire<Exclude<E[K], undefined>> : never;
};

/** Fields of `W` a client may leave out: a declared `required: false`, or a column with a default or allowing null. */
type Omittable<E, W, D> = {
  [K in W & PropertyKey]: K extends keyof D
    ? D[K] extends Field<any, any, any, infer Req>
      ? Req extends false
        ? K
        : Req extends true
          ? never
          : K extends OptionalKeys<RequiredEntityData<E>>
            ? K
            : never
      : never
    : K extends OptionalKeys<RequiredEntityData<E>>
      ? K
      : never;
}[W & PropertyKey];

type InputValue<E, K, D> = K extends keyof D ? DeclaredIn<E, K, D[K]> : K extends keyof E ? Wire<Exclude<E[K], undefined>> : never;

/** The create/full-update body's static type: required unless the field may be omitted; a generated primary key is never sent. */
export type InputOf<E, W extends PropertyKey, D = {}> = Simplify<
  { -readonly [K in Exclude<W, Omittable<E, W, D> | GeneratedKey<E>>]: InputValue<E, K, D> } & {
    -readonly [K in Exclude<Omittable<E, W, D>, GeneratedKey<E>>]?: InputValue<E, K, D>;
  }
>;

/** The entity type of an entity schema. */
export type EntityOf<S> = InferEntity<S>;

/** Options of a model serializer (DRF's `Meta`, plus the declared fields). */
export interface ModelSerializerOptions<E, F extends string = string, RO extends F = never, WO extends F = never, D extends DeclaredFields = {}, X extends string = never> {
  /** Component name in OpenAPI; defaults to the entity's name. */
  name?: string;
  /** The fields exposed, in order, or `'__all__'`: every property except to-many relations, and every declared field. */
  fields?: readonly F[] | '__all__';
  /** Fields left out of `'__all__'` (DRF's `exclude`); not with a list of `fields`. */
  exclude?: readonly X[];
  /** Fields that are not read straight from a column: relations, nested serializers, hyperlinks. */
  declaredFields?: D;
  readOnlyFields?: readonly RO[];
  writeOnlyFields?: readonly WO[];
  /** Per-field overrides of column fields (DRF's `extra_kwargs`). */
  extraKwargs?: { [K in NoInfer<F>]?: FieldOptions };
  /** Human name used in messages such as "book with this isbn already exists."; defaults to the entity name, lowercased. */
  verboseName?: string;
}

/** Static response type of a serializer class or instance. */
export type SerializerOutput<S> = S extends Typed<infer O, any> ? O : S extends abstract new () => Typed<infer O, any> ? O : never;
/** Static request type of a serializer class or instance. */
export type SerializerInput<S> = S extends Typed<any, infer I> ? I : S extends abstract new () => Typed<any, infer I> ? I : never;

/** What `ModelSerializer<E, Out, In>` declares of its types (`'~serializer'`), read without naming the class. */
type Typed<Out, In> = { readonly '~serializer': { out: Out; in: In } };
