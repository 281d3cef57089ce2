/**
 * Parsers: how a request body becomes `request.body`. Each parser reads one media type. The
 * fastrest plugin installs the `defaultParsers` setting as Fastify content-type parsers plus a
 * catch-all, and a view's `parserClasses` narrows what its routes accept: any other media type is
 * a 415. An empty body is `{}` whatever its type, never a 415 (DRF's rule).
 *
 * Form and multipart bodies are HTML input and follow DRF's rules for it (see `formData`), then
 * validate against the same JSON Schema as JSON bodies (Ajv coerces "5" to 5).
 */
import { parse as parseQueryString } from 'node:querystring';
import { Readable } from 'node:stream';
import { Busboy, type BusboyHeaders, type BusboyInstance } from '@fastify/busboy';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import sjson from 'secure-json-parse';
import { ParseError, PayloadTooLarge, UnsupportedMediaType } from './exceptions.ts';
import { MediaType } from './mediatypes.ts';

/** How a parser wants the body: decoded text, bytes, or the raw stream (large or streaming formats). */
export type BodyKind = 'string' | 'buffer' | 'stream';

/** A file sent in a multipart body, held in memory (bounded by the body limit). */
export interface UploadedFile {
  fieldName: string;
  filename: string;
  encoding: string;
  mimeType: string;
  data: Buffer;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The parsers the view accepts (DRF's `request.parsers`); `null` outside views (every installed parser). */
    parsers: readonly BaseParser[] | null;
    /** Files of a multipart body (DRF's `request.FILES`); `null` for other bodies. */
    uploadedFiles: UploadedFile[] | null;
  }
}

/** Base of every parser: the media type it reads and `parse()`. */
export abstract class BaseParser {
  /** The media type read, e.g. `application/json`. */
  abstract readonly mediaType: string;
  /** How the body is handed to `parse()`. */
  readonly parseAs: BodyKind = 'string';

  #parsed: MediaType | undefined;

  /** `mediaType`, parsed once. */
  get parsedMediaType(): MediaType {
    return (this.#parsed ??= new MediaType(this.mediaType));
  }

  /** The data of a non-empty body; throw `ParseError` (400) for malformed input. */
  abstract parse(body: string | Buffer | Readable, request: FastifyRequest): unknown;

  /** OpenAPI side hook: the request body media types this parser documents. */
  openapiMediaTypes(): string[] {
    return [this.mediaType];
  }

  /** Browsable-page side hook: this parser's entry in the raw-data form's media type select. */
  toHtml(): string {
    const type = this.mediaType.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
    return `<option value="${type}">${type}</option>`;
  }
}

const NON_SPACE = /\S/;

/** DRF's `JSONParser`; prototype poisoning (`__proto__`, `constructor.prototype`) is refused. */
export class JSONParser extends BaseParser {
  readonly mediaType: string = 'application/json';

  override parse(body: string | Buffer | Readable): unknown {
    const text = String(body);
    if (!NON_SPACE.test(text)) return {};
    try {
      return sjson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' });
    } catch (error) {
      throw new ParseError(`JSON parse error - ${(error as Error).message}`);
    }
  }
}

/** DRF's `FormParser`: `application/x-www-form-urlencoded`, read as HTML input (see `formData`). */
export class FormParser extends BaseParser {
  readonly mediaType: string = 'application/x-www-form-urlencoded';

  override parse(body: string | Buffer | Readable, request: FastifyRequest): Record<string, unknown> {
    const query = parseQueryString(String(body));
    const entries = new Map<string, string[]>();
    for (const key of Object.keys(query)) {
      const value = query[key]!;
      entries.set(key, Array.isArray(value) ? value : [value]);
    }
    return formData(entries, request);
  }
}

/**
 * DRF's `MultiPartParser` (`multipart/form-data`), on @fastify/busboy: fields become the body
 * (HTML input rules, see `formData`), files go to `request.uploadedFiles`, never into the body.
 * Each field and file, and the whole body, are bounded by the route's body limit (413 beyond).
 */
export class MultiPartParser extends BaseParser {
  readonly mediaType: string = 'multipart/form-data';
  override readonly parseAs: BodyKind = 'stream';
  /** Most parts (fields plus files) in one body. */
  maxParts = 1000;
  /** Most files in one body. */
  maxFiles = 100;

  override parse(body: string | Buffer | Readable, request: FastifyRequest): Promise<Record<string, unknown>> {
    const stream = body instanceof Readable ? body : Readable.from([body]);
    const limit = bodyLimitOf(request);
    return new Promise((resolve, reject) => {
      let busboy: BusboyInstance;
      try {
        busboy = new Busboy({
          headers: request.headers as BusboyHeaders,
          limits: { fieldSize: limit, fileSize: limit, parts: this.maxParts, files: this.maxFiles, fields: this.maxParts },
        });
      } catch (error) {
        reject(new ParseError(`Multipart form parse error - ${(error as Error).message}`));
        return;
      }
      const fields = new Map<string, string[]>();
      const files: UploadedFile[] = [];
      let received = 0;
      let failed = false;
      const fail = (error: Error) => {
        if (failed) return;
        failed = true;
        stream.unpipe(busboy);
        stream.resume();
        reject(error);
      };
      stream.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received > limit) fail(new PayloadTooLarge());
      });
      stream.on('error', (error) => fail(new ParseError(`Multipart form parse error - ${error.message}`)));
      busboy.on('field', (name, value, nameTruncated, valueTruncated) => {
        if (nameTruncated || valueTruncated) return fail(new PayloadTooLarge());
        const values = fields.get(name);
        if (values) values.push(value);
        else fields.set(name, [value]);
      });
      busboy.on('file', (fieldName, file, filename, encoding, mimeType) => {
        const chunks: Buffer[] = [];
        file.on('data', (chunk: Buffer) => chunks.push(chunk));
        file.on('limit', () => fail(new PayloadTooLarge()));
        file.on('end', () => {
          if (!file.truncated) files.push({ fieldName, filename, encoding, mimeType, data: Buffer.concat(chunks) });
        });
      });
      for (const event of ['partsLimit', 'filesLimit', 'fieldsLimit'] as const) busboy.on(event, () => fail(new PayloadTooLarge()));
      busboy.on('error', (error: Error) => fail(new ParseError(`Multipart form parse error - ${error.message}`)));
      busboy.on('finish', () => {
        if (failed) return;
        request.uploadedFiles = files;
        try {
          resolve(formData(fields, request));
        } catch (error) {
          reject(error);
        }
      });
      stream.pipe(busboy);
    });
  }
}

// ---------------------------------------------------------------------------------------------
// HTML input (form and multipart bodies)

const TRUE_VALUES = new Set(['t', 'T', 'y', 'Y', 'yes', 'Yes', 'YES', 'true', 'True', 'TRUE', 'on', 'On', 'ON', '1']);
const FALSE_VALUES = new Set(['f', 'F', 'n', 'N', 'no', 'No', 'NO', 'false', 'False', 'FALSE', 'off', 'Off', 'OFF', '0']);

/** How one field of the route's body schema reads HTML input. */
interface FieldPlan {
  required: boolean;
  nullable: boolean;
  /** A string that may be empty. */
  blank: boolean;
  boolean: boolean;
  list: boolean;
}

type Schema = Record<string, unknown>;
const plans = new WeakMap<object, Map<string, FieldPlan>>();

/**
 * A form or multipart body as data for the route's body schema, by DRF's rules for HTML input:
 * a repeated key is a list for list fields, else its last value counts; an empty value for a
 * nullable field is `null` (kept `""` when blank is allowed); an empty value for an optional field
 * that may not be blank is left out (its default applies); an empty required field stays `""`
 * (so "This field may not be blank."); booleans read DRF's words (`on`, `yes`, `1`, `true`...), and
 * a boolean left out of a full (non-PATCH) form is `false` (an unticked checkbox), `null` if nullable.
 */
export function formData(entries: ReadonlyMap<string, string[]>, request: FastifyRequest): Record<string, unknown> {
  const fields = planOf(request);
  const out: [string, unknown][] = [];
  for (const [name, values] of entries) {
    const field = fields?.get(name);
    if (field?.list) {
      out.push([name, values]);
      continue;
    }
    let value: unknown = values[values.length - 1];
    if (field && value === '') {
      if (field.nullable) value = field.blank ? '' : null;
      else if (!field.required && !field.blank) continue;
    }
    if (field?.boolean && typeof value === 'string') value = TRUE_VALUES.has(value) ? true : FALSE_VALUES.has(value) ? false : value;
    out.push([name, value]);
  }
  if (fields && request.method !== 'PATCH') {
    for (const [name, field] of fields) if (field.boolean && !entries.has(name)) out.push([name, field.nullable ? null : false]);
  }
  return Object.fromEntries(out);
}

function planOf(request: FastifyRequest): Map<string, FieldPlan> | null {
  const routeSchema = request.routeOptions.schema?.body as Schema | undefined;
  if (!routeSchema) return null;
  const schema = resolve(request, routeSchema);
  let plan = plans.get(schema);
  if (!plan) {
    const required = new Set(Array.isArray(schema['required']) ? (schema['required'] as string[]) : []);
    const properties = (schema['properties'] ?? {}) as Record<string, Schema>;
    plan = new Map(
      Object.entries(properties).map(([name, raw]) => {
        const prop = resolve(request, raw);
        const types = typesOf(request, prop);
        const minLength = typeof prop['minLength'] === 'number' ? prop['minLength'] : 0;
        return [
          name,
          {
            required: required.has(name),
            nullable: types.has('null'),
            blank: types.has('string') && minLength === 0,
            boolean: types.has('boolean'),
            list: types.has('array'),
          },
        ];
      }),
    );
    plans.set(schema, plan);
  }
  return plan;
}

function resolve(request: FastifyRequest, schema: Schema): Schema {
  const ref = schema['$ref'];
  if (typeof ref !== 'string') return schema;
  return (request.server.getSchema(ref.replace(/#.*$/, '')) as Schema | undefined) ?? schema;
}

function typesOf(request: FastifyRequest, schema: Schema): Set<string> {
  const types = new Set<string>();
  const type = schema['type'];
  for (const t of Array.isArray(type) ? type : type === undefined ? [] : [type]) types.add(String(t));
  for (const key of ['anyOf', 'oneOf'] as const) {
    const branches = schema[key];
    if (Array.isArray(branches)) for (const branch of branches) for (const t of typesOf(request, resolve(request, branch as Schema))) types.add(t);
  }
  return types;
}

// ---------------------------------------------------------------------------------------------
// Installation on Fastify

/** The first of `parsers` whose media type matches the Content-Type `header` (DRF's `select_parser`). */
export function matchParser(parsers: readonly BaseParser[], header: string): BaseParser | null {
  const contentType = new MediaType(header);
  for (const parser of parsers) if (parser.parsedMediaType.matches(contentType)) return parser;
  return null;
}

function unsupported(request: FastifyRequest): UnsupportedMediaType {
  return new UnsupportedMediaType(String(request.headers['content-type'] ?? '').split(';')[0]!.trim() || 'unknown');
}

/** The body limit of the `bodyLimit` setting (the route's own limit when fastrest is not installed). */
function bodyLimitOf(request: FastifyRequest): number {
  return request.server.restSettings?.bodyLimit ?? request.routeOptions.bodyLimit;
}

/** A body of zero bytes by its headers: `Content-Length: 0`, or neither a length nor chunks. */
function isEmptyBody(request: FastifyRequest): boolean {
  const length = request.headers['content-length'];
  return length === '0' || (length === undefined && request.headers['transfer-encoding'] === undefined);
}

function asKind(body: string | Buffer | Readable, kind: BodyKind): string | Buffer | Readable {
  if (kind === 'stream') return body instanceof Readable ? body : Readable.from([body]);
  if (body instanceof Readable) throw new TypeError('a stream body cannot be handed to a string or buffer parser');
  if (kind === 'string') return typeof body === 'string' ? body : body.toString('utf8');
  return typeof body === 'string' ? Buffer.from(body) : body;
}

async function readBody(stream: Readable, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new PayloadTooLarge();
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks, size);
}

async function parseWith(parser: BaseParser, body: string | Buffer | Readable, request: FastifyRequest): Promise<unknown> {
  if (body instanceof Readable) {
    if (isEmptyBody(request)) return {};
    if (parser.parseAs !== 'stream') body = await readBody(body, bodyLimitOf(request));
  }
  if (!(body instanceof Readable) && body.length === 0) return {};
  return parser.parse(asKind(body, parser.parseAs), request);
}

/**
 * Installs `parsers` as the app's Fastify content-type parsers (replacing Fastify's JSON and text
 * ones), and a catch-all: a Content-Type no installed parser reads goes to a view's own parser
 * when one matches, is `{}` when the body is empty, and a 415 otherwise.
 */
export function installParsers(app: FastifyInstance, parsers: readonly BaseParser[], bodyLimit: number): void {
  for (const type of ['application/json', 'text/plain']) if (app.hasContentTypeParser(type)) app.removeContentTypeParser(type);
  const installed = new Set<string>();
  for (const parser of parsers) {
    const type = parser.parsedMediaType;
    if (type.precedence !== 2 || installed.has(type.essence)) continue;
    installed.add(type.essence);
    const handler = async (request: FastifyRequest, body: string | Buffer | Readable) => {
      const allowed = request.parsers;
      let chosen: BaseParser | null = parser;
      if (allowed !== null && !allowed.includes(parser)) {
        chosen = allowed.find((p) => p.mediaType === parser.mediaType) ?? matchParser(allowed, String(request.headers['content-type']));
      }
      if (chosen === null) {
        if (body instanceof Readable) body.resume();
        if (isEmptyBody(request) || (!(body instanceof Readable) && body.length === 0)) return {};
        throw unsupported(request);
      }
      return parseWith(chosen, body, request);
    };
    if (parser.parseAs === 'stream') app.addContentTypeParser(type.essence, handler);
    else app.addContentTypeParser(type.essence, { parseAs: parser.parseAs, bodyLimit }, handler);
  }
  app.addContentTypeParser('*', async (request: FastifyRequest, payload: Readable) => {
    const header = request.headers['content-type'];
    if (header === undefined) return {};
    const chosen = matchParser(request.parsers ?? parsers, header);
    if (chosen) return parseWith(chosen, payload, request);
    if (isEmptyBody(request)) return {};
    throw unsupported(request);
  });
}
