/**
 * Turns JSON Schema (Ajv) validation errors into DRF's field-keyed messages, word for word.
 * Fastify validates with Ajv; this module only translates what Ajv reports.
 */

/** The subset of an Ajv error object this module reads (Ajv runs with `verbose: true`). */
export interface SchemaError {
  instancePath: string;
  keyword: string;
  params: Record<string, unknown>;
  message?: string;
  data?: unknown;
  parentSchema?: Record<string, unknown>;
}

/** Field-keyed messages; nested objects nest, object-level errors sit under `non_field_errors`. */
export type FieldErrors = { [field: string]: string[] | FieldErrors };

export const NON_FIELD_ERRORS = 'non_field_errors';

/** Schema keyword carrying per-field message overrides; registered with Ajv as an annotation. */
export const ERROR_MESSAGES_KEYWORD = 'x-error-messages';

/**
 * Schema keyword of text fields (registered with Ajv as an annotation): present, the value may hold
 * no null character and no lone surrogate (PostgreSQL stores neither); `true`, leading and trailing
 * whitespace is removed before validation (DRF's `trim_whitespace`).
 */
export const TRIM_WHITESPACE_KEYWORD = 'x-trim-whitespace';

/** The pattern a text field without one of its own shows in OpenAPI: no null character. */
export const TEXT_PATTERN = '^[^\\u0000]*$';

/** What Python's `str.strip()` removes: the characters `str.isspace()` is true for. */
const PY_SPACE = '[\\t\\n\\u000b\\u000c\\r\\u001c-\\u001f \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]';
const EDGE_SPACE = new RegExp(`^${PY_SPACE}+|${PY_SPACE}+$`, 'g');
const FORBIDDEN_CHARACTER = /\u0000|[\ud800-\udfff]/u;

/** DRF's name for a JSON value's type, as in "Expected a dictionary, but got list." */
export function pythonTypeName(value: unknown): string {
  if (value === null || value === undefined) return 'NoneType';
  if (Array.isArray(value)) return 'list';
  switch (typeof value) {
    case 'string':
      return 'str';
    case 'boolean':
      return 'bool';
    case 'number':
      return Number.isInteger(value) ? 'int' : 'float';
    default:
      return 'dict';
  }
}

function typeMessage(expected: unknown, data: unknown): string {
  if (data === null) return 'This field may not be null.';
  const types = Array.isArray(expected) ? expected : [expected];
  if (types.includes('integer')) return 'A valid integer is required.';
  if (types.includes('number')) return 'A valid number is required.';
  if (types.includes('boolean')) return 'Must be a valid boolean.';
  if (types.includes('string')) return 'Not a valid string.';
  if (types.includes('array')) return `Expected a list of items but got type "${pythonTypeName(data)}".`;
  if (types.includes('object')) return `Invalid data. Expected a dictionary, but got ${pythonTypeName(data)}.`;
  return 'Invalid value.';
}

const FORMAT_MESSAGES: Record<string, string> = {
  'date-time': 'Datetime has wrong format. Use one of these formats instead: YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z].',
  date: 'Date has wrong format. Use one of these formats instead: YYYY-MM-DD.',
  time: 'Time has wrong format. Use one of these formats instead: hh:mm[:ss[.uuuuuu]].',
  email: 'Enter a valid email address.',
  uri: 'Enter a valid URL.',
  uuid: 'Must be a valid UUID.',
};

/**
 * The DRF message for one Ajv error; a schema may override it with `x-error-messages`, where
 * `{data_type}` stands for the received value's type (a null keeps "This field may not be null.").
 */
export function messageFor(error: SchemaError): string {
  const custom = (error.parentSchema?.[ERROR_MESSAGES_KEYWORD] as Record<string, string> | undefined)?.[error.keyword];
  if (custom && !(error.keyword === 'type' && error.data === null)) return custom.replace('{data_type}', pythonTypeName(error.data));
  const p = error.params;
  switch (error.keyword) {
    case 'required':
      return 'This field is required.';
    case 'type':
      return typeMessage(p['type'], error.data);
    case 'maxLength':
      return `Ensure this field has no more than ${p['limit']} characters.`;
    case 'minLength':
      return p['limit'] === 1 ? 'This field may not be blank.' : `Ensure this field has at least ${p['limit']} characters.`;
    case 'maximum':
      return `Ensure this value is less than or equal to ${p['limit']}.`;
    case 'minimum':
      return `Ensure this value is greater than or equal to ${p['limit']}.`;
    case 'exclusiveMaximum':
      return `Ensure this value is less than ${p['limit']}.`;
    case 'exclusiveMinimum':
      return `Ensure this value is greater than ${p['limit']}.`;
    case 'enum':
      return `"${String(error.data)}" is not a valid choice.`;
    case 'const':
      return `"${String(error.data)}" is not a valid choice.`;
    case 'pattern':
      return 'This value does not match the required pattern.';
    case 'format':
      return FORMAT_MESSAGES[String(p['format'])] ?? 'Enter a valid value.';
    case 'null_characters_not_allowed':
      return 'Null characters are not allowed.';
    case 'surrogate_characters_not_allowed':
      return `Surrogate characters are not allowed: U+${String(p['codePoint'])}.`;
    case 'maxItems':
      return `Ensure this field has no more than ${p['limit']} elements.`;
    case 'minItems':
      return p['limit'] === 1 ? 'This list may not be empty.' : `Ensure this field has at least ${p['limit']} elements.`;
    default:
      return error.message ? `${error.message[0]!.toUpperCase()}${error.message.slice(1)}.` : 'Invalid value.';
  }
}

function pathOf(error: SchemaError): string[] {
  const segments = error.instancePath
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (error.keyword === 'required') segments.push(String(error.params['missingProperty']));
  return segments;
}

/**
 * Groups Ajv errors by field. A type error hides the other errors of its field, as DRF stops at
 * `to_internal_value`; a wrong type for the whole body becomes a `non_field_errors` entry.
 */
export function errorDetailsFromAjv(errors: SchemaError[]): FieldErrors {
  const byPath = new Map<string, { path: string[]; errors: SchemaError[] }>();
  for (const error of errors) {
    if (error.keyword === 'if' || error.keyword === 'anyOf' || error.keyword === 'oneOf') continue;
    const path = pathOf(error);
    const key = path.join('\u0000');
    const entry = byPath.get(key) ?? { path, errors: [] };
    entry.errors.push(error);
    byPath.set(key, entry);
  }
  const result: FieldErrors = {};
  for (const { path, errors: fieldErrors } of byPath.values()) {
    const typeError = fieldErrors.find((e) => e.keyword === 'type');
    const chosen = typeError ? [typeError] : fieldErrors;
    const messages = [...new Set(chosen.map(messageFor))];
    const target = path.length === 0 ? [NON_FIELD_ERRORS] : path;
    insert(result, target, messages);
  }
  return result;
}

function insert(into: FieldErrors, path: string[], messages: string[]): void {
  let node = into;
  for (const segment of path.slice(0, -1)) {
    const next = node[segment];
    if (!next || Array.isArray(next)) node[segment] = {};
    node = node[segment] as FieldErrors;
  }
  const leaf = path[path.length - 1]!;
  const existing = node[leaf];
  node[leaf] = Array.isArray(existing) ? [...existing, ...messages] : messages;
}

type Schema = Record<string, unknown>;

function typesOf(schema: Schema): string[] {
  const type = schema['type'];
  return Array.isArray(type) ? type : typeof type === 'string' ? [type] : [];
}

/** Python's `str.strip()`. */
export function stripWhitespace(text: string): string {
  return text.replace(EDGE_SPACE, '');
}

/** The error for a null character or a lone surrogate in `text` (DRF's `ProhibitNullCharactersValidator` and `ProhibitSurrogateCharactersValidator`), if any. */
export function textError(text: string, instancePath: string, parentSchema?: Schema): SchemaError | null {
  const m = FORBIDDEN_CHARACTER.exec(text);
  if (!m) return null;
  if (m[0] === '\u0000') return { instancePath, keyword: 'null_characters_not_allowed', params: {}, data: text, parentSchema };
  const codePoint = m[0].charCodeAt(0).toString(16).toUpperCase();
  return { instancePath, keyword: 'surrogate_characters_not_allowed', params: { codePoint }, data: text, parentSchema };
}

/**
 * A text field's value as DRF's `CharField` reads it: trimmed when the schema says so, and an
 * error for a null character or a lone surrogate; `value` is returned unchanged when not text.
 */
function readText(prop: Schema, value: string, instancePath: string): { value: string; error: SchemaError | null } {
  const trimmed = prop[TRIM_WHITESPACE_KEYWORD] === true ? stripWhitespace(value) : value;
  return { value: trimmed, error: textError(trimmed, instancePath, prop) };
}

/**
 * Errors for the values Ajv's type coercion would wrongly accept in a body: `null` where null is
 * not allowed (Ajv turns it into "" or 0) and booleans where a string or number is expected.
 * DRF rejects both, so fastrest does too; numbers and numeric strings still coerce as in DRF.
 * Text fields (`TRIM_WHITESPACE_KEYWORD`) are trimmed in place and checked for characters
 * PostgreSQL refuses, before Ajv sees them, so `" "` is blank as in DRF.
 */
export function coercionGuard(schema: Schema, data: unknown, resolve: (s: Schema) => Schema, path = ''): SchemaError[] {
  const resolved = resolve(schema);
  const properties = resolved['properties'] as Record<string, Schema> | undefined;
  if (!properties || data === null || typeof data !== 'object' || Array.isArray(data)) return [];
  const errors: SchemaError[] = [];
  const record = data as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    const value = record[key];
    const propSchema = properties[key];
    if (!propSchema || !Object.hasOwn(properties, key)) continue;
    const prop = resolve(propSchema);
    const types = typesOf(prop);
    const instancePath = `${path}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;
    if (types.length && ((value === null && !types.includes('null')) || (typeof value === 'boolean' && !types.includes('boolean')))) {
      errors.push({ instancePath, keyword: 'type', params: { type: prop['type'] }, data: value, parentSchema: prop });
    } else if (typeof value === 'string' && TRIM_WHITESPACE_KEYWORD in prop) {
      const text = readText(prop, value, instancePath);
      record[key] = text.value;
      if (text.error) errors.push(text.error);
    } else if (Array.isArray(value)) {
      const items = prop['items'] && typeof prop['items'] === 'object' ? resolve(prop['items'] as Schema) : undefined;
      if (!items) continue;
      value.forEach((item, i) => {
        if (typeof item === 'string' && TRIM_WHITESPACE_KEYWORD in items) {
          const text = readText(items, item, `${instancePath}/${i}`);
          value[i] = text.value;
          if (text.error) errors.push(text.error);
        } else if (item && typeof item === 'object') {
          errors.push(...coercionGuard(items, item, resolve, `${instancePath}/${i}`));
        }
      });
    } else if (value && typeof value === 'object') {
      errors.push(...coercionGuard(prop, value, resolve, instancePath));
    }
  }
  return errors;
}
