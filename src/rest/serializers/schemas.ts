/**
 * The named schemas of a serializer: its response (`Book`), request (`BookRequest`) and partial
 * request (`PatchedBookRequest`), each a JSON Schema with an `$id` that OpenAPI shows as a component.
 */
import { Type, type TUnsafe } from 'typebox';
import type { FieldInfo } from './field.ts';

/** A serializer's schemas, typed as its responses and requests. */
export interface SerializerSchemas<Out, In> {
  response: TUnsafe<Out> & { $id: string };
  request: TUnsafe<In> & { $id: string };
  patch: TUnsafe<Partial<In>> & { $id: string };
}

/** The three schemas of the serializer `name` from its fields: read-only and write-only marked, required as the fields say. */
export function serializerSchemas<Out, In>(name: string, fields: readonly FieldInfo[], writable: readonly FieldInfo[]): SerializerSchemas<Out, In> {
  const readable = fields.filter((f) => !f.writeOnly);
  const response = objectSchema(
    name,
    readable.map((f) => [f.name, f.readOnly ? { ...f.schema, readOnly: true } : f.schema]),
    readable.map((f) => f.name),
  );
  const mark = (f: FieldInfo, schema: Record<string, unknown>) => (f.writeOnly ? { ...schema, writeOnly: true } : schema);
  const request = objectSchema(
    `${name}Request`,
    writable.map((f) => [f.name, mark(f, f.requestSchema ?? f.schema)] as const),
    writable.filter((f) => f.required).map((f) => f.name),
  );
  const patch = objectSchema(
    `Patched${name}Request`,
    writable.map((f) => [f.name, mark(f, f.patchSchema ?? f.requestSchema ?? f.schema)] as const),
    [],
  );
  return {
    response: Type.Unsafe<Out>(response) as SerializerSchemas<Out, In>['response'],
    request: Type.Unsafe<In>(request) as SerializerSchemas<Out, In>['request'],
    patch: Type.Unsafe<Partial<In>>(patch) as SerializerSchemas<Out, In>['patch'],
  };
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

