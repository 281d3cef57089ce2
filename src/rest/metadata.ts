/**
 * Metadata: what an OPTIONS request answers, as DRF's `SimpleMetadata` does: the view's name and
 * description, the media types it renders and parses, and the fields each writing method accepts.
 */
import type { FastifyRequest } from 'fastify';
import type { FieldInfo } from './serializers.ts';
import { allowedMethods } from './permissions.ts';
import type { GenericViewSet } from './viewsets.ts';

/** One field as OPTIONS describes it. */
export interface FieldMetadata {
  type: string;
  required: boolean;
  read_only: boolean;
  label: string;
  help_text?: string;
  max_length?: number;
  min_length?: number;
  min_value?: number;
  max_value?: number;
  choices?: { value: unknown; display_name: string }[];
}

/** DRF's field type names, from a field's JSON Schema. */
export function fieldType(field: FieldInfo): string {
  const s = field.schema;
  if (Array.isArray(s['enum'])) return 'choice';
  // A nested serializer is a reference to its named schema (or null).
  if (typeof s['$ref'] === 'string' || Array.isArray(s['allOf']) || (Array.isArray(s['anyOf']) && s['anyOf'].some((o: { $ref?: unknown; allOf?: unknown }) => o.$ref || o.allOf))) return 'nested object';
  const type = Array.isArray(s['type']) ? s['type'].find((t) => t !== 'null') : s['type'];
  if (type === 'string') {
    const format = s['format'];
    if (format === 'date-time') return 'datetime';
    if (format === 'date' || format === 'time' || format === 'email' || format === 'uuid') return String(format);
    if (format === 'uri') return 'url';
    return 'string';
  }
  if (type === 'integer' || type === 'boolean' || type === 'number') return type === 'number' ? 'float' : type;
  if (type === 'array') return 'list';
  if (type === 'object') return 'nested object';
  return 'field';
}

/** Describes one field for OPTIONS and for the browsable API's forms. */
export function describeField(field: FieldInfo): FieldMetadata {
  const s = field.schema;
  const out: FieldMetadata = { type: fieldType(field), required: field.required, read_only: field.readOnly, label: field.label };
  if (typeof s['description'] === 'string') out.help_text = s['description'];
  if (typeof s['maxLength'] === 'number') out.max_length = s['maxLength'];
  if (typeof s['minLength'] === 'number' && s['minLength'] > 1) out.min_length = s['minLength'];
  if (typeof s['minimum'] === 'number') out.min_value = s['minimum'];
  if (typeof s['maximum'] === 'number') out.max_value = s['maximum'];
  if (Array.isArray(s['enum'])) out.choices = s['enum'].filter((value) => value !== null).map((value) => ({ value, display_name: String(value) }));
  return out;
}

/** Base metadata class: override `determineMetadata` to answer OPTIONS differently. */
export class SimpleMetadata {
  /** The OPTIONS body of a route of `view`; `writeMethods` whose fields are listed, those the user may use only. */
  async determineMetadata(request: FastifyRequest, view: GenericViewSet, detail: boolean, writeMethods: string[]): Promise<Record<string, unknown>> {
    const body: Record<string, unknown> = {
      name: `${view.name} ${detail ? 'Instance' : 'List'}`,
      description: view.description,
      renders: view.getRenderers(request).map((renderer) => renderer.mediaType),
      parses: view.getParsers(request).map((parser) => parser.mediaType),
    };
    // DRF's determine_actions: PUT on an item also needs the object, and its object-level permissions.
    const permitted = await allowedMethods(request, view, writeMethods, detail ? { object: (clone) => view.getObject(clone) } : {});
    if (permitted.length) {
      const fields = this.describeFields(request, view);
      body['actions'] = Object.fromEntries(permitted.map((m) => [m, fields]));
    }
    return body;
  }

  /** Every readable or writable field of the view's serializer, keyed by name. */
  describeFields(request: FastifyRequest, view: GenericViewSet): Record<string, FieldMetadata> {
    const fields = view.getSerializer(request).fields.filter((f) => !f.writeOnly || !f.readOnly);
    return Object.fromEntries(fields.map((f) => [f.name, describeField(f)]));
  }
}
