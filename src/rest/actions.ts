/**
 * Extra actions (DRF's `@action`): routes a viewset adds beside its standard ones, on the
 * collection (`/books/recent/`) or on an item (`/authors/{id}/books/`). Node strips types but
 * runs no decorators, so an action is a typed declaration, `action({...})`, listed in the
 * viewset's `extraActions`; its request and response schemas type its handler.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Static, TSchema } from 'typebox';
import type { ActionSpec, HttpMethod } from './generics.ts';
import { ModelSerializer, type SerializerInput, type SerializerOutput } from './serializers.ts';

/** A list of a serializer's objects as an action's response (DRF's `many=True`). */
export interface ManyOf<S extends ModelSerializer> {
  readonly many: S;
}

/** Marks an action's response as a list of `serializer`'s objects. */
export function many<S extends ModelSerializer>(serializer: S): ManyOf<S> {
  return { many: serializer };
}

/** A list of a serializer's objects paged by the view's paginator, as the list action's (see `paginatedList`). */
export interface PaginatedOf<S extends ModelSerializer> {
  readonly paginated: S;
}

/** Marks an action's response as a paginated list of `serializer`'s objects: the paginator's envelope in OpenAPI. */
export function paginated<S extends ModelSerializer>(serializer: S): PaginatedOf<S> {
  return { paginated: serializer };
}

/** One page of a list, as limit/offset and page-number paginators answer it (`count` absent with `count: 'none'`). */
export interface Page<T> {
  count?: number;
  next: string | null;
  previous: string | null;
  results: T[];
}

/** What an action may declare as its body or response: a serializer, a list of one (paginated or not), a TypeBox schema, or `null` for none. */
export type ActionSchema = ModelSerializer | ManyOf<ModelSerializer> | PaginatedOf<ModelSerializer> | TSchema | null | undefined;

/** The static type a declared schema stands for. */
export type ActionValue<T> = T extends null
  ? void
  : T extends ManyOf<infer S>
    ? SerializerOutput<S>[]
    : T extends PaginatedOf<infer S>
      ? Page<SerializerOutput<S>> | SerializerOutput<S>[]
      : T extends ModelSerializer
      ? SerializerOutput<T>
      : T extends TSchema
        ? Static<T>
        : unknown;

/** The static type of a declared body (a serializer's request body). */
export type ActionBody<T> = T extends ModelSerializer ? SerializerInput<T> : T extends TSchema ? Static<T> : unknown;

/** An action handler typed by the action's schemas. */
export type ExtraActionHandler<Q, R> = (request: FastifyRequest<{ Body: ActionBody<Q> }>, reply: FastifyReply) => Promise<ActionValue<R>>;

/** How an extra action is declared. */
export interface ActionOptions<Q extends ActionSchema, R extends ActionSchema> {
  /** The action's name: part of its operationId (`booksAuthor`) and the default of `urlPath`/`urlName`. */
  name: string;
  /** On an item (`/{prefix}/{lookup}/{urlPath}/`) or on the collection (`/{prefix}/{urlPath}/`). */
  detail: boolean;
  /** The methods it answers; GET by default. */
  methods?: readonly HttpMethod[];
  /** The URL segment; defaults to the name in kebab-case. */
  urlPath?: string;
  /** The route name's suffix: `{basename}-{urlName}`; defaults to `urlPath`. */
  urlName?: string;
  /** The body: a serializer (its request schema) or a TypeBox schema. */
  request?: Q;
  /** The success response: a serializer (one object), `many(serializer)`, `paginated(serializer)`, a TypeBox schema, or `null` for a 204. */
  response?: R;
  /** The success status; 200, or 204 when the response is `null`. */
  status?: number;
  /** OpenAPI summary and description. */
  summary?: string;
  description?: string;
  handler: ExtraActionHandler<Q, R>;
}

/** A declared extra action, as the router reads it. */
export interface ExtraAction {
  readonly name: string;
  readonly detail: boolean;
  readonly methods: readonly HttpMethod[];
  readonly urlPath: string;
  readonly urlName: string;
  readonly request: ActionSchema;
  readonly response: ActionSchema;
  readonly status: number;
  readonly summary: string | undefined;
  readonly description: string | undefined;
  readonly handler: (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;
}

const kebab = (name: string) => name.replace(/([a-z0-9])([A-Z])/g, '$1-$2').replace(/_/g, '-').toLowerCase();

/**
 * Declares an extra action. `name` is required because there is no decorated method to take it from.
 * @example
 * extraActions = [action({ name: 'books', detail: true, response: many(new BookSerializer()), handler: (request) => this.books(request) })];
 */
export function action<const Q extends ActionSchema = undefined, const R extends ActionSchema = undefined>(options: ActionOptions<Q, R>): ExtraAction {
  const urlPath = options.urlPath ?? kebab(options.name);
  return {
    name: options.name,
    detail: options.detail,
    methods: options.methods ?? ['GET'],
    urlPath,
    urlName: options.urlName ?? urlPath,
    request: options.request,
    response: options.response,
    status: options.status ?? (options.response === null ? 204 : 200),
    summary: options.summary,
    description: options.description,
    handler: options.handler as ExtraAction['handler'],
  };
}

/** The OpenAPI of one method of a plain `APIView` (`methodSchemas = { GET: { response: ... } }`). */
export interface ViewMethodSchema {
  /** The body: a serializer (its request schema) or a TypeBox schema. */
  request?: ActionSchema;
  /** The success response; `null` for a 204. */
  response?: ActionSchema;
  /** The success status; 200, or 204 when the response is `null`. */
  status?: number;
  summary?: string;
  description?: string;
  operationId?: string;
}

/** The schemas of a plain `APIView`'s methods, by HTTP method. */
export type ViewMethodSchemas = Partial<Record<HttpMethod, ViewMethodSchema>>;

/** The JSON Schema of a declared body or response: a `$ref` to a named schema, or the schema itself. */
export function schemaOfAction(declared: ActionSchema, part: 'request' | 'response'): Record<string, unknown> | undefined {
  if (declared === null || declared === undefined) return undefined;
  const ref = (s: ModelSerializer) => ({ $ref: `${(part === 'request' ? s.schemas.request : s.schemas.response).$id}#` });
  if (declared instanceof ModelSerializer) return ref(declared);
  if ('many' in declared && declared.many instanceof ModelSerializer) return { type: 'array', items: ref(declared.many) };
  if ('paginated' in declared && declared.paginated instanceof ModelSerializer) return undefined;
  const schema = declared as Record<string, unknown>;
  return typeof schema['$id'] === 'string' ? { $ref: `${schema['$id']}#` } : schema;
}

/** The serializers and named TypeBox schemas an action refers to, to register as components. */
export function schemasOfAction(extra: Pick<ExtraAction, 'request' | 'response'>): { serializers: ModelSerializer[]; named: (Record<string, unknown> & { $id: string })[] } {
  const serializers: ModelSerializer[] = [];
  const named: (Record<string, unknown> & { $id: string })[] = [];
  for (const declared of [extra.request, extra.response]) {
    if (declared === null || declared === undefined) continue;
    if (declared instanceof ModelSerializer) serializers.push(declared);
    else if ('many' in declared && declared.many instanceof ModelSerializer) serializers.push(declared.many);
    else if ('paginated' in declared && declared.paginated instanceof ModelSerializer) serializers.push(declared.paginated);
    else if (typeof (declared as { $id?: unknown }).$id === 'string') named.push(declared as Record<string, unknown> & { $id: string });
  }
  return { serializers, named };
}

/** How the router sees one method of an extra action. */
export function specOfAction(extra: ExtraAction, method: HttpMethod, subject: string): ActionSpec {
  const responseSchema = schemaOfAction(extra.response, 'response');
  const bodySchema = schemaOfAction(extra.request, 'request');
  const suffix = extra.methods.length > 1 ? method.charAt(0) + method.slice(1).toLowerCase() : '';
  return {
    method,
    detail: extra.detail,
    status: extra.status,
    response: extra.response === null ? 'empty' : 'object',
    summary: extra.summary ?? `${extra.name.replace(/([a-z0-9])([A-Z])/g, '$1 $2')} (${extra.detail ? 'one {name}' : '{plural}'})`,
    operationPrefix: extra.name,
    operationId: `${extra.name}${subject}${suffix}`,
    ...(bodySchema ? { bodySchema } : {}),
    ...(responseSchema ? { responseSchema } : {}),
    ...(extra.description ? { description: extra.description } : {}),
    ...(pageOf(extra.response) ? { page: pageOf(extra.response)! } : {}),
  };
}

/** The serializer of a `paginated(serializer)` response, else `undefined`. */
export function pageOf(declared: ActionSchema): ModelSerializer | undefined {
  if (declared === null || declared === undefined || declared instanceof ModelSerializer) return undefined;
  return 'paginated' in declared && declared.paginated instanceof ModelSerializer ? declared.paginated : undefined;
}
