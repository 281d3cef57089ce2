/**
 * Hyperlinked fields, as DRF's: a relation shown and written as the related object's absolute URL
 * (`HyperlinkedRelatedField`) and the object's own URL (`HyperlinkedIdentityField`), both built
 * from the router's route names for the request's host.
 */
import type { EntityManager } from '@mikro-orm/core';
import { ValidationError } from '../exceptions.ts';
import { valueSchemaOf, type PropertyMeta } from '../fields.ts';
import { ERROR_MESSAGES_KEYWORD, pythonTypeName } from '../validation.ts';
import { contextEm, Field, type AnyEntitySchema, type DeclaredFieldOptions, type SerializerContext, type ValidationContext } from './field.ts';
import { RelatedField, type ListIf, type RelatedFieldOptions } from './relations.ts';

/** Options of the hyperlinked fields. */
export interface HyperlinkOptions {
  /** The route name of the object's detail URL, e.g. `author-detail`. */
  viewName: string;
  /** The property the URL carries (DRF's `lookup_field`); defaults to the primary key. */
  lookupField?: string;
  /** The route parameter it fills; defaults to `id`, the router's default. */
  lookupUrlKwarg?: string;
}

function reverseUrl(field: Field & { options: HyperlinkOptions }, lookup: unknown, ctx?: SerializerContext): string {
  const request = ctx?.request;
  if (!request) throw new Error(`${field.constructor.name} "${field.fieldName}" needs the request in the serializer context to build absolute URLs`);
  const kwarg = field.options.lookupUrlKwarg ?? 'id';
  // An integer key enters the path as it is; anything else as escaped text.
  return request.server.urls.reverse(request, field.options.viewName, { [kwarg]: typeof lookup === 'number' ? lookup : String(lookup) });
}

/** A relation as the related object's absolute URL (DRF's `HyperlinkedRelatedField`). */
export class HyperlinkedRelatedField<
  const T extends AnyEntitySchema,
  const RO extends boolean = false,
  const M extends boolean = false,
  const Req extends boolean | undefined = undefined,
> extends RelatedField<ListIf<M, string>, string, M extends true ? true : RO, Req> {
  declare readonly options: RelatedFieldOptions<T, RO, M> & HyperlinkOptions;

  constructor(options: RelatedFieldOptions<T, RO, M> & HyperlinkOptions & { required?: Req }) {
    super(options);
  }

  get lookupField(): string {
    return this.options.lookupField ?? this.targetPk;
  }

  override itemSchema(): Record<string, unknown> {
    return { type: 'string', format: 'uri', [ERROR_MESSAGES_KEYWORD]: { type: 'Incorrect type. Expected URL string, received {data_type}.' } };
  }

  protected override get targetColumns(): string[] {
    return this.lookupField === this.targetPk ? [] : [this.lookupField];
  }

  protected override represent(related: Record<string, unknown>, ctx?: SerializerContext): unknown {
    return reverseUrl(this, related[this.lookupField], ctx);
  }

  /** The object a URL of `viewName` points to, with DRF's "Invalid hyperlink" messages. */
  override async toInternalValue(data: unknown, ctx: ValidationContext): Promise<unknown> {
    if (data === null) return null;
    if (typeof data !== 'string') throw new ValidationError(`Incorrect type. Expected URL string, received ${pythonTypeName(data)}.`);
    const urls = ctx.request?.server.urls;
    if (!urls) throw new Error(`HyperlinkedRelatedField "${this.fieldName}" needs the request in the serializer context to resolve URLs`);
    let path = data;
    if (/^https?:/i.test(data)) {
      try {
        path = new URL(data).pathname;
      } catch {
        throw new ValidationError('Invalid hyperlink - No URL match.');
      }
    }
    const match = urls.resolve(path);
    if (!match) throw new ValidationError('Invalid hyperlink - No URL match.');
    if (match.name !== this.options.viewName) throw new ValidationError('Invalid hyperlink - Incorrect URL match.');
    const lookup = match.params[this.options.lookupUrlKwarg ?? 'id'];
    const found = lookup === undefined ? null : await findByLookup(contextEm(ctx)!, this.target, this.lookupField, lookup);
    if (!found) throw new ValidationError('Invalid hyperlink - Object does not exist.');
    return found;
  }
}

/** The object by a lookup value taken from a URL; a value of the wrong type finds nothing. */
async function findByLookup(em: EntityManager, entity: AnyEntitySchema, field: string, value: string): Promise<object | null> {
  const prop = (entity.meta.properties as Record<string, PropertyMeta>)[field];
  const schema = prop ? valueSchemaOf(String(entity.meta.className), field, prop) : { type: 'string' };
  let typed: unknown = value;
  if (schema['type'] === 'integer') {
    if (!/^-?[0-9]{1,15}$/.test(value)) return null;
    typed = Number(value);
  }
  return em.findOne(entity, { [field]: typed } as never);
}

/** The object's own absolute URL, e.g. `"url": "http://host/api/books/1/"` (DRF's `HyperlinkedIdentityField`). */
export class HyperlinkedIdentityField extends Field<string, never, true, false> {
  declare readonly options: DeclaredFieldOptions & HyperlinkOptions;

  constructor(options: Omit<DeclaredFieldOptions, 'source' | 'readOnly' | 'required' | 'writeOnly' | 'allowNull'> & HyperlinkOptions) {
    super({ ...options, source: '*', readOnly: true });
  }

  get lookupField(): string {
    return this.options.lookupField ?? this.parent!.primaryKey;
  }

  protected override get needsProperty(): boolean {
    return false;
  }

  override get allowNull(): boolean {
    return false;
  }

  override valueSchema(): Record<string, unknown> {
    return { type: 'string', format: 'uri' };
  }

  override get columns(): string[] {
    return [this.lookupField];
  }

  override toRepresentation(value: unknown, ctx?: SerializerContext): unknown {
    return reverseUrl(this, (value as Record<string, unknown>)[this.lookupField], ctx);
  }
}
