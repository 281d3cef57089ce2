/**
 * Nested serializers as fields: a related object (or, with `many`, the list of them) shown
 * through another serializer, read-only by default as in DRF. A to-one nesting declared
 * `writable` is validated with the nested serializer's rules and created or updated together
 * with its parent, in the parent's transaction.
 */
import { SetupError } from '../exceptions.ts';
import type { EntityManager } from '@mikro-orm/core';
import { contextEm, PendingWrite, type DeclaredFieldOptions, type FieldInfo, type SerializerContext, type ValidationContext } from './field.ts';
import type { ModelSerializer, SerializerInput, SerializerOutput } from './model.ts';
import { RelatedField } from './relations.ts';

/** What validation returns for a writable nested object: the nested serializer and its validated data, saved with the parent. */
export class NestedWrite extends PendingWrite {
  readonly serializer: ModelSerializer;
  readonly data: Record<string, unknown>;

  constructor(serializer: ModelSerializer, data: Record<string, unknown>) {
    super();
    this.serializer = serializer;
    this.data = data;
  }

  /** Updates the nested object the parent holds (`current`), or creates one. */
  async resolve(em: EntityManager, current: unknown): Promise<object> {
    const { serializer } = this;
    if (!current) return serializer.create(em, this.data);
    const loaded = await em.findOneOrFail(serializer.entity, { [serializer.primaryKey]: (current as Record<string, unknown>)[serializer.primaryKey] } as never);
    return serializer.update(em, loaded, this.data);
  }
}

/** Options of a nested serializer field. */
export interface NestedFieldOptions<W extends boolean, M extends boolean> extends Omit<DeclaredFieldOptions, 'readOnly'> {
  /** Accept the nested object in requests and save it with the parent (to-one relations only). */
  writable?: W;
  /** A to-many relation (a one-to-many property as source): a list, always read-only. */
  many?: M;
}

type ListIf<M, T> = M extends true ? T[] : T;

/** A reference to a named schema that keeps its own keywords (`readOnly`, `description`) in OpenAPI: `allOf` of one `$ref`. */
function reference(id: string): Record<string, unknown> {
  return { allOf: [{ $ref: `${id}#` }] };
}

/** A related object shown through its own serializer (DRF's nested serializer, `AuthorSerializer(read_only=True)`). */
export class NestedField<
  S extends ModelSerializer,
  const W extends boolean = false,
  const M extends boolean = false,
  const Req extends boolean | undefined = undefined,
> extends RelatedField<ListIf<M, SerializerOutput<S>>, SerializerInput<S>, W extends true ? (M extends true ? true : false) : true, Req> {
  declare readonly options: NestedFieldOptions<W, M> & { entity: S['entity'] };
  /** The nested serializer. */
  readonly serializer: S;

  constructor(serializer: S | (new () => S), options: NestedFieldOptions<W, M> & { required?: Req } = {}) {
    const instance = typeof serializer === 'function' ? new serializer() : serializer;
    super({ ...options, entity: instance.entity, readOnly: !options.writable });
    this.serializer = instance;
  }

  override info(): FieldInfo {
    if (this.options.writable && this.many) {
      throw new SetupError('FASTREST_ERR_SERIALIZER_FIELD', `${this.parent!.name}.${this.fieldName}: a nested list is read-only; only to-one nested objects are writable`);
    }
    const info = super.info();
    if (this.readOnly) return info;
    const { request, patch } = this.serializer.schemas;
    return {
      ...info,
      requestSchema: this.decorate(reference(request.$id)),
      patchSchema: this.decorate(reference(patch.$id)),
    };
  }

  override get nestedSerializer(): S {
    return this.serializer;
  }

  override itemSchema(): Record<string, unknown> {
    const id = this.serializer.schemas.response.$id;
    return this.many ? { $ref: `${id}#` } : reference(id);
  }

  protected override get targetColumns(): string[] {
    return this.serializer.readableFieldNames;
  }

  protected override represent(related: Record<string, unknown>, ctx?: SerializerContext): unknown {
    return this.serializer.toRepresentation(related, ctx);
  }

  /** Loaded when the related row carries the nested serializer's columns and its own related fields are loaded too. */
  override isLoaded(value: unknown): boolean {
    return super.isLoaded(value) && (value === null || value === undefined || this.serializer.isLoaded(value as Record<string, unknown>));
  }

  override async representMany(values: unknown[], ctx?: SerializerContext): Promise<unknown[]> {
    if (this.many) {
      const groups = await this.loadToMany(values, this.targetColumns, ctx);
      const shown = (await this.serializer.represent(groups.flat(), ctx)) as unknown[];
      let next = 0;
      return groups.map((rows) => shown.slice(next, (next += rows.length)));
    }
    const found = await this.relatedRows(values, this.targetColumns, ctx);
    const present = found.filter((row): row is Record<string, unknown> => row !== undefined);
    const shown = (await this.serializer.represent(present, ctx)) as unknown[];
    let next = 0;
    return found.map((row) => (row === undefined ? null : shown[next++]));
  }

  /** Validates the nested object with the nested serializer's rules; errors nest under this field. */
  override async toInternalValue(data: unknown, ctx: ValidationContext): Promise<unknown> {
    if (data === null) return null;
    const current = ctx.instance ? (ctx.instance as Record<string, unknown>)[this.source] : undefined;
    const validated = await this.serializer.runValidation(data as never, {
      em: contextEm(ctx)!,
      request: ctx.request,
      instance: current ?? undefined,
      partial: ctx.partial && current !== null && current !== undefined,
    });
    return new NestedWrite(this.serializer, validated as Record<string, unknown>);
  }
}
