/**
 * Generic views: `GenericAPIView` holds what every model endpoint needs (serializer, queryset,
 * lookup, object retrieval, compiled queries); the standard actions over it are in `mixins.ts`.
 */
import type { EntityManager } from '@mikro-orm/core';
import type { QueryBuilder } from '@mikro-orm/sql';
import type { FastifyRequest } from 'fastify';
import type { ConditionalRequests } from './conditional.ts';
import { CompiledQueries, type CompiledQuery, countQuery, exactCount, executePrepared, readerOf, type Row, slot } from './orm.ts';
import { NotFound, SetupError } from './exceptions.ts';
import { type PropertyMeta, valueSchemaOf } from './fields.ts';
import type { AnyQueryBuilder, BaseFilterBackend, FilterFields, OrderingFields, SearchFields } from './filters.ts';
import type { BasePagination, ListQuery } from './pagination.ts';
import { ModelSerializer, type SerializerContext } from './serializers.ts';
import { foldJoined, selectJoined } from './serializers/joins.ts';
import { settingsOf, type RestSettings } from './settings.ts';
import { APIView, routeConfig } from './views.ts';

/** HTTP methods a router maps to actions. */
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** How an action appears on the wire: which body it takes and what it answers. */
export interface ActionSpec {
  method: HttpMethod;
  /** Item route (`/books/{id}/`) or collection route (`/books/`). */
  detail: boolean;
  status: number;
  /** Which of the serializer's schemas validates the body. */
  body?: 'request' | 'patch';
  /** The response: one object, a list of objects, or nothing. */
  response: 'object' | 'list' | 'empty';
  /** OpenAPI summary; `{name}`/`{plural}` are filled in. */
  summary: string;
  /** DRF-style operationId prefix: `list` + `Books`. */
  operationPrefix: string;
  /** The whole operationId, when it is not `{operationPrefix}{Subject}` (extra actions). */
  operationId?: string;
  /** The body's schema, when it is not one of the serializer's (extra actions, API views). */
  bodySchema?: Record<string, unknown>;
  /** The success response's schema, when it is not the serializer's (extra actions, API views). */
  responseSchema?: Record<string, unknown>;
  /** OpenAPI description of this operation, when it is not the view's. */
  description?: string;
  /** The serializer of the rows when an extra action answers a list paged by the view's paginator. */
  page?: ModelSerializer;
}

/** The six standard actions of a model viewset. */
export const standardActions = {
  list: { method: 'GET', detail: false, status: 200, response: 'list', summary: 'List {plural}', operationPrefix: 'list' },
  create: { method: 'POST', detail: false, status: 201, body: 'request', response: 'object', summary: 'Create a {name}', operationPrefix: 'create' },
  retrieve: { method: 'GET', detail: true, status: 200, response: 'object', summary: 'Retrieve a {name}', operationPrefix: 'retrieve' },
  update: { method: 'PUT', detail: true, status: 200, body: 'request', response: 'object', summary: 'Update a {name}', operationPrefix: 'update' },
  partialUpdate: { method: 'PATCH', detail: true, status: 200, body: 'patch', response: 'object', summary: 'Partially update a {name}', operationPrefix: 'partialUpdate' },
  destroy: { method: 'DELETE', detail: true, status: 204, response: 'empty', summary: 'Delete a {name}', operationPrefix: 'destroy' },
} as const satisfies Record<string, ActionSpec>;

export type StandardAction = keyof typeof standardActions;

/** Base of every model-backed view: options as properties, per-request `get*()` hooks. */
export abstract class GenericAPIView<S extends ModelSerializer = ModelSerializer> extends APIView {
  /** The serializer that shapes input and output. */
  abstract readonly serializer: S;
  /** The entity property used to look objects up on item routes. */
  lookupField = 'id';
  /** The route parameter carrying the lookup value. */
  lookupUrlKwarg = 'id';
  /** Default ordering of lists (a stable order keeps pages stable). */
  ordering: Record<string, 'asc' | 'desc'> | undefined = undefined;
  /** Heading of the view, e.g. "Book"; defaults to the serializer's name. */
  viewName: string | undefined = undefined;
  /** Description shown in OpenAPI and the browsable API (Markdown). */
  description = '';
  /** Filter backends applied in order to lists and item lookups. */
  filterBackends: BaseFilterBackend[] = [];
  /** Lookups clients may filter by, per field (read by `FieldFilterBackend`). */
  filterFields: FilterFields<S> | undefined = undefined;
  /** Fields `SearchFilter` matches terms against (`^` starts with, `=` exact). */
  searchFields: SearchFields<S> | undefined = undefined;
  /** Fields `OrderingFilter` lets clients order by; `undefined` allows every readable field, as in DRF. */
  orderingFields: OrderingFields<S> | undefined = undefined;
  /** Paginator of lists; `undefined` takes the app's `defaultPaginationClass`, `null` opts out (every row, unbounded). */
  pagination: BasePagination | null | undefined = undefined;
  /** Serializers of particular actions, e.g. `{ list: new BookSummarySerializer() }` (DRF's `get_serializer_class` by `self.action`). */
  actionSerializers: Readonly<Partial<Record<string, ModelSerializer>>> = {};
  /** ETags and preconditions (`If-Match`, `If-None-Match`); `undefined` means the app's default, `null` none. */
  conditionalRequests: ConditionalRequests | null | undefined = undefined;

  /** The conditional-request policy of this request. */
  getConditionalRequests(request: FastifyRequest): ConditionalRequests | null {
    return this.conditionalRequestsFor(settingsOf(request));
  }

  /** The conditional-request policy under an app's settings (routers read it at build for OpenAPI): the view's, else the app's. */
  conditionalRequestsFor(settings: Readonly<RestSettings>): ConditionalRequests | null {
    return this.conditionalRequests === undefined ? settings.conditionalRequests : this.conditionalRequests;
  }

  /** The filter backends of this request. */
  getFilterBackends(_request: FastifyRequest): BaseFilterBackend[] {
    return this.filterBackends;
  }

  /** The paginator of this request, or `null` for an unpaginated list. */
  getPaginator(request: FastifyRequest): BasePagination | null {
    return this.paginationFor(settingsOf(request));
  }

  /** The paginator of lists under an app's settings (routers and OpenAPI read it at build): `pagination`, else the default. */
  paginationFor(settings: Readonly<RestSettings>): BasePagination | null {
    return this.pagination === undefined ? settings.defaultPaginationClass : this.pagination;
  }

  /** The name of the objects this view serves. */
  get name(): string {
    return this.viewName ?? this.serializer.name;
  }

  /** The serializer for this request (DRF's `get_serializer`): the one of its action, else `serializer`. */
  getSerializer(request: FastifyRequest): S {
    return this.serializerFor(routeConfig(request).action);
  }

  /**
   * The serializer of an action: its entry in `actionSerializers`, else `serializer`. Routers read
   * it for each route's schemas, so a per-action serializer shows in OpenAPI and shapes the response.
   */
  serializerFor(action: string | undefined): S {
    const chosen = (action === undefined ? undefined : this.actionSerializers[action]) ?? this.serializer;
    if (!chosen) throw new SetupError('FASTREST_ERR_VIEW_CONFIG', `${this.constructor.name} has no serializer`);
    return chosen as S;
  }

  /**
   * What the serializer needs to read and write for this request (DRF's `get_serializer_context`):
   * `{ em, request }`, `em` forked when first read. To add to it, assign onto it
   * (`Object.assign(super.getSerializerContext(request), { extra })`): `em` is a getter of its class.
   */
  getSerializerContext(request: FastifyRequest): SerializerContext {
    return new RequestSerializerContext(request);
  }

  /** The response bodies of entities or rows of this view (`serializer` defaults to this request's), related objects loaded in batches. */
  represent(request: FastifyRequest, items: readonly object[], serializer: ModelSerializer = this.getSerializer(request)): Promise<unknown[]> {
    return serializer.represent(items as Record<string, unknown>[], this.getSerializerContext(request));
  }

  /** The base query of this request, before filtering and pagination (DRF's `get_queryset`). */
  getQueryset(request: FastifyRequest): QueryBuilder<any, any, any, any> {
    const serializer = this.getSerializer(request);
    const qb = (request.em as EntityManager & { createQueryBuilder: Function }).createQueryBuilder(serializer.entity) as QueryBuilder<any, any, any, any>;
    return qb.orderBy(this.ordering ?? { [serializer.primaryKey]: 'asc' });
  }

  /**
   * A key for the query of this request when it is the same SQL (values aside) for every request
   * with that key: the base `getQueryset`/`filterQueryset` and every filter backend's `queryShape`.
   * Such queries are compiled once per view and run as prepared statements; `null` builds the query.
   */
  queryShape(request: FastifyRequest): string | null {
    if (this.getQueryset !== GenericAPIView.prototype.getQueryset || this.filterQueryset !== GenericAPIView.prototype.filterQueryset) return null;
    let key = '';
    for (const backend of this.getFilterBackends(request)) {
      const shape = backend.queryShape(request, this);
      if (shape === null) return null;
      key += `\u0000${shape}`;
    }
    return key;
  }

  /** Narrows the queryset through every filter backend (DRF's `filter_queryset`). */
  filterQueryset(request: FastifyRequest, qb: AnyQueryBuilder): AnyQueryBuilder {
    return this.getFilterBackends(request).reduce((acc, backend) => backend.filterQueryset(request, acc, this), qb);
  }

  /**
   * The lookup condition of an item route; a value of the wrong type is a 404, as in DRF. The
   * route's schema checks the parameter, but a request refused before validation (a 415, a 405)
   * still reaches here for the browsable page, with the raw text: an integer lookup checks it again.
   */
  protected lookupFilter(request: FastifyRequest): Record<string, unknown> {
    const value = (request.params as Record<string, unknown>)[this.lookupUrlKwarg];
    if (value === undefined || value === null || value === '') throw new NotFound();
    const range = this.#lookupRange(request);
    if (!range) return { [this.lookupField]: value };
    const number = typeof value === 'number' ? value : /^-?[0-9]{1,16}$/.test(String(value)) ? Number(value) : Number.NaN;
    if (!Number.isSafeInteger(number) || number < range[0] || number > range[1]) throw new NotFound();
    return { [this.lookupField]: number };
  }

  #lookupRanges = new WeakMap<object, [number, number] | null>();

  /** The range of an integer lookup column, `null` for other columns. */
  #lookupRange(request: FastifyRequest): [number, number] | null {
    const serializer = this.getSerializer(request);
    const meta = serializer.entity.meta;
    let range = this.#lookupRanges.get(meta);
    if (range !== undefined) return range;
    const prop = (meta.properties as Record<string, PropertyMeta>)[this.lookupField];
    const schema = prop ? valueSchemaOf(serializer.name, this.lookupField, prop) : {};
    range = schema['type'] === 'integer' ? [Number(schema['minimum'] ?? Number.MIN_SAFE_INTEGER), Number(schema['maximum'] ?? Number.MAX_SAFE_INTEGER)] : null;
    this.#lookupRanges.set(meta, range);
    return range;
  }

  /** One row for reading, without building an entity (fast path of retrieve); the entity itself when object permissions need it. */
  async getRow(request: FastifyRequest): Promise<Record<string, unknown>> {
    const serializer = this.getSerializer(request);
    // Object-level permissions need the entity, so they take the `getObject` path.
    if (this.getPermissions(request).some((p) => p.hasObjectPermission)) {
      return (await this.getObject(request)) as Record<string, unknown>;
    }
    const lookup = this.lookupFilter(request);
    const build = (where: Record<string, unknown>) =>
      selectJoined(this.filterQueryset(request, this.getQueryset(request)).select(serializer.readableFieldNames).andWhere(where).limit(1), serializer, request.em);
    const shape = this.lookupFilter === GenericAPIView.prototype.lookupFilter ? this.queryShape(request) : null;
    const compiled = shape === null ? null : compiledQuery(this, `retrieve${shape}`, serializer, () => build({ [this.lookupField]: slot(0) }), 1);
    const rows = compiled ? await compiled.run(readerOf(request), [lookup[this.lookupField]]) : await executePrepared(request.em, build(lookup));
    const [row] = foldJoined(rows, serializer, readerOf(request));
    if (!row) throw new NotFound();
    return row;
  }

  /**
   * What a paginator reads of this request's list (`qb`, filtered): the count and a window of rows
   * with `fields`. When the query has a shape (`queryShape`), both are compiled once per shape and
   * run as prepared statements; otherwise they are built from `qb`.
   */
  listQuery(request: FastifyRequest, qb: AnyQueryBuilder, fields: string[], serializer: ModelSerializer = this.getSerializer(request)): ListQuery {
    const shape = readerOf(request).isInTransaction() ? null : this.queryShape(request);
    const build = () => this.filterQueryset(request, this.getQueryset(request));
    const counting = shape === null ? null : compiledQuery(this, `count${shape}`, serializer, () => countQuery(build()), 0);
    const windowed =
      shape === null ? null : compiledQuery(this, `window${shape}:${fields.join(',')}`, serializer, () => selectJoined(build().select(fields).limit(slot(0) as never, slot(1) as never), serializer, request.em), 2);
    return {
      count: async () => {
        if (!counting) return exactCount(request, qb);
        const [row] = await counting.run(readerOf(request), []);
        return row ? Number(row['count']) : 0;
      },
      window: async (limit, offset) => {
        if (!windowed) return this.fetchRows(request, qb.clone().select(fields).limit(limit, offset), serializer);
        return foldJoined(await windowed.run(readerOf(request), [limit, offset]), serializer, readerOf(request));
      },
    };
  }

  /**
   * Runs a query that selects the serializer's readable columns (paginators call it with their
   * page's limits): as a prepared statement, with the to-one relations the fields show joined in.
   */
  async fetchRows(request: FastifyRequest, qb: AnyQueryBuilder, serializer: ModelSerializer = this.getSerializer(request)): Promise<Row[]> {
    return foldJoined(await executePrepared(request.em, selectJoined(qb, serializer, request.em)), serializer, request.em);
  }

  /** The entity to change on update and destroy (DRF's `get_object`); 404 when it is filtered out. */
  async getObject(request: FastifyRequest): Promise<object> {
    const qb = this.filterQueryset(request, this.getQueryset(request));
    const entity = await qb.andWhere(this.lookupFilter(request)).limit(1).getSingleResult();
    if (!entity) throw new NotFound();
    await this.checkObjectPermissions(request, entity);
    return entity;
  }

  /** Saves a new object (DRF's `perform_create`). */
  async performCreate(request: FastifyRequest, data: Record<string, unknown>): Promise<object> {
    return this.getSerializer(request).create(request.em, data);
  }

  /** Saves changes to an object (DRF's `perform_update`). */
  async performUpdate(request: FastifyRequest, instance: object, data: Record<string, unknown>): Promise<object> {
    return this.getSerializer(request).update(request.em, instance, data);
  }

  /** Deletes an object (DRF's `perform_destroy`). */
  async performDestroy(request: FastifyRequest, instance: object): Promise<void> {
    await request.em.remove(instance).flush();
  }
}

/**
 * A query builder that `build()`s itself on first use (Django's querysets are lazy too): a
 * paginator that runs only compiled statements never pays for building it.
 */
export function lazyQueryBuilder(build: () => AnyQueryBuilder): AnyQueryBuilder {
  let built: AnyQueryBuilder | undefined;
  const real = () => (built ??= build());
  return new Proxy(Object.create(null) as AnyQueryBuilder, {
    get(_target, key) {
      const qb = real();
      const value = Reflect.get(qb, key, qb) as unknown;
      return typeof value === 'function' ? value.bind(qb) : value;
    },
    set: (_target, key, value) => Reflect.set(real(), key, value),
    has: (_target, key) => key in real(),
    getPrototypeOf: () => Object.getPrototypeOf(real()),
  });
}

const compiledQueries = new WeakMap<GenericAPIView, WeakMap<ModelSerializer, CompiledQueries>>();

/** The query of `key` for this view and serializer, compiled from `build()` the first time; `null` when it does not compile. */
export function compiledQuery(view: GenericAPIView, key: string, serializer: ModelSerializer, build: () => AnyQueryBuilder, slots: number): CompiledQuery | null {
  let bySerializer = compiledQueries.get(view);
  if (!bySerializer) compiledQueries.set(view, (bySerializer = new WeakMap()));
  let queries = bySerializer.get(serializer);
  // Bounded: a view with many query shapes (orderings) builds the rest per request.
  if (!queries) bySerializer.set(serializer, (queries = new CompiledQueries(64)));
  return queries.get(key, build, slots) ?? null;
}

/**
 * The serializer context of a request. `em` is a getter of the class, not of each object: an
 * object literal with its own getter closing over the request gets a hidden class of its own,
 * kept in the old generation, which held every request's objects past the young collections.
 */
class RequestSerializerContext implements SerializerContext {
  readonly request: FastifyRequest;

  constructor(request: FastifyRequest) {
    this.request = request;
  }

  get em(): EntityManager {
    return this.request.em;
  }
}
