/**
 * The standard actions (DRF's mixins: list, create, retrieve, update, partial update, destroy) as
 * small functions over a `GenericAPIView`, composed by the viewsets. Each reads through the view's
 * hooks (`getSerializer`, `getQueryset`, `filterQueryset`, `perform*`, `represent`), so an
 * override there changes every action that uses it.
 */
import { ForeignKeyConstraintViolationException, UniqueConstraintViolationException } from '@mikro-orm/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { atomic, exactCount, executePrepared, readerOf, rowsToEntities, type AnyQueryBuilder } from './orm.ts';
import type { PaginatedView } from './pagination.ts';
import { Conflict, ValidationError } from './exceptions.ts';
import { compiledQuery, GenericAPIView, lazyQueryBuilder } from './generics.ts';
import { ModelSerializer, type SerializerContext } from './serializers.ts';
import { foldJoined, selectJoined } from './serializers/joins.ts';
import { routeConfig } from './views.ts';

/**
 * Runs a write in one transaction (or as it is, when it is one statement: `transaction` false) and
 * answers the constraint violations that slipped past validation (a concurrent write) with a 400:
 * a unique value taken, a related object gone.
 */
async function withIntegrity<T>(view: GenericAPIView, request: FastifyRequest, write: () => Promise<T>, transaction = true): Promise<T> {
  try {
    return await (transaction ? atomic(request.em, write) : write());
  } catch (error) {
    const serializer = view.getSerializer(request);
    const constraint = String((error as { constraint?: string }).constraint ?? '');
    if (error instanceof UniqueConstraintViolationException) {
      const field = serializer.fields.find((f) => f.unique && constraint.includes(snake(f.name)));
      throw new ValidationError(field ? { [field.name]: [serializer.uniqueMessage(field.name)] } : { non_field_errors: ['The fields must make a unique set.'] });
    }
    if (error instanceof ForeignKeyConstraintViolationException) {
      const field = serializer.fields.find((f) => f.field && f.source && constraint.includes(snake(f.source)));
      throw new ValidationError({ [field?.name ?? 'non_field_errors']: ['The related object does not exist.'] });
    }
    throw error;
  }
}

/** The representation of a list body: the rows of a plain list, or of a page's `results`. */
async function representList(view: GenericAPIView, request: FastifyRequest, body: unknown): Promise<unknown> {
  const serializer = view.getSerializer(request);
  if (serializer.isFlat) return body;
  if (Array.isArray(body)) return representNow(view, request, body, serializer) ?? view.represent(request, body, serializer);
  const page = body as { results?: unknown } | null;
  if (page && typeof page === 'object' && Array.isArray(page.results)) {
    return { ...page, results: representNow(view, request, page.results, serializer) ?? (await view.represent(request, page.results, serializer)) };
  }
  return body;
}

function snake(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
}

/** GET collection: the filtered rows (one page of them with a paginator), without entity hydration. */
export async function listAction(view: GenericAPIView, request: FastifyRequest): Promise<unknown> {
  const serializer = view.getSerializer(request);
  const paginator = view.getPaginator(request);
  if (paginator) {
    // Paginators that run compiled statements only never build the query; the others build it on first use.
    const qb = lazyQueryBuilder(() => view.filterQueryset(request, view.getQueryset(request)));
    return representList(view, request, await paginator.paginate(request, qb, view, serializer.readableFieldNames));
  }
  const build = () => selectJoined(view.filterQueryset(request, view.getQueryset(request)).select(serializer.readableFieldNames), serializer, request.em);
  const shape = view.queryShape(request);
  const compiled = shape === null ? null : compiledQuery(view, `list${shape}`, serializer, build, 0);
  const rows = compiled ? await compiled.run(readerOf(request), []) : await executePrepared(request.em, build());
  return representList(view, request, foldJoined(rows, serializer, readerOf(request)));
}

/**
 * The body of a list of `qb`'s rows shaped by `serializer`: one page of them under the view's
 * paginator (DRF's `paginate_queryset` and `get_paginated_response`), every row when it has none.
 * An extra action declared with `paginated(serializer)` returns it; `qb` is not filtered by the view's backends.
 */
export async function paginatedList(view: GenericAPIView, request: FastifyRequest, qb: AnyQueryBuilder, serializer: ModelSerializer): Promise<unknown> {
  const fields = serializer.readableFieldNames;
  const paginator = view.getPaginator(request);
  const body = paginator
    ? await paginator.paginate(request, qb, ownRows(view, serializer), fields)
    : await view.fetchRows(request, qb.select(fields), serializer);
  if (serializer.isFlat) return body;
  const represent = (rows: object[]) => representNow(view, request, rows, serializer) ?? view.represent(request, rows, serializer);
  if (Array.isArray(body)) return represent(body);
  const page = body as { results: object[] };
  return { ...page, results: await represent(page.results) };
}

/** The view as a paginator reads it, listing `qb` itself with `serializer` (no compiled queries, no filter backends). */
function ownRows(view: GenericAPIView, serializer: ModelSerializer): PaginatedView {
  return {
    ordering: undefined,
    getFilterBackends: () => [],
    listQuery: (request, qb, fields) => ({
      count: () => exactCount(request, qb),
      window: (limit, offset) => view.fetchRows(request, qb.clone().select(fields).limit(limit, offset), serializer),
    }),
    fetchRows: (request, qb) => view.fetchRows(request, qb, serializer),
  };
}

/**
 * POST collection: validate, save, answer 201 with `Location`. With the default `performCreate`, a
 * create that is one INSERT (`ModelSerializer.canCreateDirectly`) runs as that one statement,
 * without a transaction around it, and checks the unique values in it (`defersUniqueChecks`).
 */
export async function createAction(view: GenericAPIView, request: FastifyRequest, reply: FastifyReply): Promise<unknown> {
  const serializer = view.getSerializer(request);
  const standard = view.performCreate === GenericAPIView.prototype.performCreate;
  // Related objects validate to rows when only the write sees them: no entity, no fork for a direct create.
  const rowReader = standard && serializer.validatesToRows() ? readerOf(request) : undefined;
  const ctx = validationContext(view, request, { partial: false, deferUniqueChecks: standard && serializer.defersUniqueChecks(), rowReader });
  const data = await serializer.runValidation(request.body as Record<string, unknown>, ctx);
  // Asked again: a validation hook may have forked the request's EntityManager (then it is the one to check).
  const em = rowReader ? readerOf(request) : request.em;
  const direct = standard && serializer.canCreateDirectly(em, data);
  if (!direct && rowReader) rowsToEntities(request.em, data);
  // Unique checks left to a one-statement INSERT run here when the write is not one.
  if (ctx.deferUniqueChecks && !direct) await serializer.validateUnique(data, ctx);
  const write = direct ? () => serializer.createDirectly(em, data, ctx) : () => view.performCreate(request, data);
  const instance = await withIntegrity(view, request, write, !direct);
  const location = routeConfig(request).detailUrl?.(request, instance);
  if (location) reply.header('location', location);
  reply.code(201);
  return (representNow(view, request, [instance], serializer) ?? (await view.represent(request, [instance], serializer)))[0];
}

/** The view's serializer context with what validation adds; `em` stays a getter (a request forks on first use). */
function validationContext<T extends object>(view: GenericAPIView, request: FastifyRequest, extra: T): SerializerContext & T {
  const base = view.getSerializerContext(request);
  return Object.defineProperty({ ...base, ...extra }, 'em', { get: () => base.em, enumerable: true }) as SerializerContext & T;
}

/** GET item. */
export async function retrieveAction(view: GenericAPIView, request: FastifyRequest): Promise<unknown> {
  const row = await view.getRow(request);
  const serializer = view.getSerializer(request);
  const plain = Object.getPrototypeOf(row) === Object.prototype || Object.getPrototypeOf(row) === null;
  if (serializer.isFlat && plain) return row;
  return (representNow(view, request, [row], serializer) ?? (await view.represent(request, [row], serializer)))[0];
}

/**
 * The representation of rows that carry everything they show, without a promise; `null` when
 * something must be loaded, or when the view or serializer shows rows its own way (`represent`).
 */
function representNow(view: GenericAPIView, request: FastifyRequest, rows: readonly object[], serializer: ModelSerializer): unknown[] | null {
  if (view.represent !== GenericAPIView.prototype.represent || serializer.represent !== ModelSerializer.prototype.represent) return null;
  return serializer.representLoaded(rows, view.getSerializerContext(request));
}

/** PUT item (every required field) or, with `partial`, PATCH item (only the fields sent). */
export async function updateAction(view: GenericAPIView, request: FastifyRequest, partial: boolean): Promise<unknown> {
  const serializer = view.getSerializer(request);
  const instance = await view.getObject(request);
  const data = await serializer.runValidation(request.body as Record<string, unknown>, validationContext(view, request, { instance, partial }));
  const conditional = view.getConditionalRequests(request);
  const saved = await withIntegrity(view, request, async () => {
    await conditional?.checkWrite(request, view, instance);
    return view.performUpdate(request, instance, data);
  });
  return (await view.represent(request, [saved], serializer))[0];
}

/** DELETE item: 204 with no body. */
export async function destroyAction(view: GenericAPIView, request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const instance = await view.getObject(request);
  try {
    const conditional = view.getConditionalRequests(request);
    await atomic(request.em, async () => {
      await conditional?.checkWrite(request, view, instance);
      await view.performDestroy(request, instance);
    });
  } catch (error) {
    if (!(error instanceof ForeignKeyConstraintViolationException)) throw error;
    throw new Conflict(`Cannot delete this ${view.getSerializer(request).verboseName}: other objects refer to it.`);
  }
  reply.code(204);
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Builds the absolute URL of a created object; set by routers for `Location`. */
    detailUrl?: (request: FastifyRequest, instance: object) => string | undefined;
  }
}
