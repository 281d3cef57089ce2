/**
 * The browsable page's forms, from a serializer's fields: one input per writable field (its
 * type, limits, required marker and help from the field's JSON Schema, through `describeField`),
 * selects for choices and related objects, and the JSON the "Raw data" tab starts from.
 */
import type { FastifyRequest } from 'fastify';
import type { FieldInfo } from '../../serializers.ts';
import { describeField } from '../../metadata.ts';
import { TEXT_PATTERN } from '../../validation.ts';
import { PrimaryKeyRelatedField, RelatedField, SlugRelatedField } from '../../serializers/relations.ts';
import type { ModelSerializer } from '../../serializers.ts';

/** One option of a select. */
export interface FormChoice {
  value: string;
  label: string;
  selected: boolean;
}

/** One input of an HTML form, as the form template shows it. */
export interface FormField {
  name: string;
  label: string;
  /** `text`, `number`, `checkbox`, `select`, `date`, `datetime-local`, `email`, `url`, `textarea`. */
  input: string;
  /** The JSON type the value is sent as by the page's script (`string`, `integer`, `number`, `boolean`). */
  jsonType: string;
  required: boolean;
  allowNull: boolean;
  help: string | undefined;
  value: string;
  checked: boolean;
  maxLength?: number;
  minLength?: number;
  min?: number;
  max?: number;
  step?: string;
  pattern?: string;
  choices?: FormChoice[];
  /**
   * A text box with suggestions instead of a select: for a related field with more objects than the
   * cut-off, or one that adds the object a new value names (`createIfMissing`).
   */
  datalist?: string[];
  /** The text box's placeholder. */
  placeholder?: string;
  errors: string[];
}

/** Options of the form builder. */
export interface FormOptions {
  /** Values to show: the object (editing), or what a failed submit sent. */
  values: Record<string, unknown>;
  /** Errors of a failed submit, by field. */
  errors: Record<string, unknown>;
  /** How many related objects a select lists at most (DRF's `HTML_SELECT_CUTOFF`). */
  cutoff: number;
}

/** What a form is built from: a serializer's fields, or those of a plain route's body schema. */
export type FormSource = Pick<ModelSerializer, 'fields'>;

/** The writable fields of a form (nested objects and lists are left to the Raw data tab). */
export function formFields(serializer: FormSource): FieldInfo[] {
  return serializer.fields.filter((f) => !f.readOnly && typeOfSchema(f.requestSchema ?? f.schema) !== 'object' && typeOfSchema(f.requestSchema ?? f.schema) !== 'array');
}

function typeOfSchema(schema: Record<string, unknown>): string | undefined {
  const type = schema['type'];
  return Array.isArray(type) ? (type.find((t) => t !== 'null') as string | undefined) : (type as string | undefined);
}

/** `JSON.stringify(value, null, indent)`, or `undefined` for a value nested too deep to print (a RangeError). */
export function printJson(value: unknown, indent?: number): string | undefined {
  try {
    return JSON.stringify(value, null, indent);
  } catch (error) {
    if (error instanceof RangeError) return undefined;
    throw error;
  }
}

/** The inputs of a form for `serializer`, with related objects loaded for their selects. */
export async function buildForm(request: FastifyRequest, serializer: FormSource, options: FormOptions): Promise<FormField[]> {
  const fields: FormField[] = [];
  for (const info of formFields(serializer)) {
    const schema = info.requestSchema ?? info.schema;
    const meta = describeField({ ...info, schema });
    const raw = options.values[info.name];
    const value = raw === undefined || raw === null ? '' : typeof raw === 'object' ? (printJson(raw) ?? '') : String(raw);
    const type = typeOfSchema(schema) ?? 'string';
    const field: FormField = {
      name: info.name,
      label: meta.label,
      input: 'text',
      jsonType: type === 'integer' || type === 'number' || type === 'boolean' ? type : 'string',
      required: meta.required,
      allowNull: info.allowNull,
      help: meta.help_text,
      value,
      checked: raw === true || raw === 'true' || raw === 'on',
      errors: errorsOf(options.errors[info.name]),
    };
    if (meta.max_length !== undefined) field.maxLength = meta.max_length;
    if (meta.min_length !== undefined) field.minLength = meta.min_length;
    if (meta.min_value !== undefined) field.min = meta.min_value;
    if (meta.max_value !== undefined) field.max = meta.max_value;
    if (typeof schema['pattern'] === 'string' && schema['pattern'] !== TEXT_PATTERN) field.pattern = schema['pattern'];
    const related = info.field instanceof RelatedField ? info.field : null;
    if (meta.choices) {
      field.input = 'select';
      field.choices = meta.choices.map((c) => ({ value: String(c.value), label: c.display_name, selected: String(c.value) === value }));
    } else if (related && !related.many && (related instanceof SlugRelatedField || related instanceof PrimaryKeyRelatedField)) {
      const column = related instanceof SlugRelatedField ? related.slugField : related.targetPk;
      const values = await relatedValues(request, related, column, options.cutoff);
      // A slug that adds a missing object takes any new value: a select would offer only existing ones.
      const creates = related instanceof SlugRelatedField && related.options.createIfMissing === true;
      if (creates) {
        field.datalist = values.slice(0, options.cutoff);
        field.placeholder = 'Pick one or type a new one';
      } else if (values.length > options.cutoff) {
        field.datalist = values.slice(0, options.cutoff);
        field.placeholder = 'Type to search';
      } else {
        field.input = 'select';
        field.choices = values.map((v) => ({ value: v, label: v, selected: v === value }));
      }
    } else {
      field.input = inputOf(meta.type, type);
      if (field.input === 'number') field.step = type === 'integer' ? '1' : 'any';
      if (field.input === 'datetime-local' && value) field.value = value.replace(/(:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)?$/, '$1');
    }
    fields.push(field);
  }
  return fields;
}

function inputOf(metaType: string, jsonType: string): string {
  switch (metaType) {
    case 'integer':
    case 'float':
      return 'number';
    case 'boolean':
      return 'checkbox';
    case 'date':
      return 'date';
    case 'datetime':
      return 'datetime-local';
    case 'email':
      return 'email';
    case 'url':
      return 'url';
    default:
      return jsonType === 'number' ? 'number' : 'text';
  }
}

/** The values a related field may take, in order, at most `cutoff + 1` of them (one more tells "too many"). */
async function relatedValues(request: FastifyRequest, field: RelatedField, column: string, cutoff: number): Promise<string[]> {
  const em = request.em.fork();
  const rows = (await em.find(field.target, {}, { fields: [column] as never, orderBy: { [column]: 'asc' } as never, limit: cutoff + 1 })) as Record<string, unknown>[];
  return rows.map((row) => String(row[column]));
}

/** The messages of one field's errors, whatever their shape. */
export function errorsOf(detail: unknown): string[] {
  if (detail === undefined || detail === null) return [];
  if (Array.isArray(detail)) return detail.flatMap(errorsOf);
  if (typeof detail === 'object') return Object.values(detail as Record<string, unknown>).flatMap(errorsOf);
  return [String(detail)];
}

/**
 * A JSON body to start the Raw data tab from: each writable field's example, default, or an empty
 * value of its type. A unique field starts empty: its example may well be taken (a seeded book's ISBN).
 */
export function exampleBody(serializer: FormSource): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const info of serializer.fields) {
    if (info.readOnly) continue;
    const schema = info.requestSchema ?? info.schema;
    const examples = schema['examples'];
    if (Array.isArray(examples) && examples.length && !info.unique) body[info.name] = examples[0];
    else if (schema['default'] !== undefined) body[info.name] = schema['default'];
    else body[info.name] = emptyOf(typeOfSchema(schema), info.allowNull);
  }
  return body;
}

function emptyOf(type: string | undefined, allowNull: boolean): unknown {
  if (allowNull) return null;
  switch (type) {
    case 'integer':
    case 'number':
      return 0;
    case 'boolean':
      return false;
    case 'array':
      return [];
    case 'object':
      return {};
    default:
      return '';
  }
}

/** The writable fields of `object`, for the Raw data tab of an item. */
export function writablePart(serializer: ModelSerializer, object: unknown): Record<string, unknown> {
  if (!object || typeof object !== 'object') return exampleBody(serializer);
  const source = object as Record<string, unknown>;
  return Object.fromEntries(serializer.fields.filter((f) => !f.readOnly && f.name in source).map((f) => [f.name, source[f.name]]));
}
