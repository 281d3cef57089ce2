/**
 * Routers: routes as data (`Route`), turned into Fastify routes with their schemas, names,
 * `Allow` headers, OPTIONS answers and 405s. `DefaultRouter` adds the API root and format
 * suffixes (`/api/books.json`, `/api/books/1.json`, `/api/.json`), as DRF's `format_suffix_patterns`.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import fp from 'fastify-plugin';
import { MethodNotAllowed, SetupError } from './exceptions.ts';
import { type PropertyMeta, valueSchemaOf } from './fields.ts';
import { standardActions, type ActionSpec, type HttpMethod, type StandardAction } from './generics.ts';
import { SimpleMetadata } from './metadata.ts';
import { addSecuritySchemes, addSharedSchema, errorResponses, operationSchemaOf, registerSchemas } from './openapi.ts';
import { eitherShapeSerializerCompiler, queryErrorsBeyond } from './pagination.ts';
import type { RestSettings } from './settings.ts';
import { APIView, initialHook } from './views.ts';
import type { ModelSerializer } from './serializers.ts';
import { GenericViewSet } from './viewsets.ts';
import { pageOf, schemaOfAction, schemasOfAction, type ViewMethodSchemas } from './actions.ts';

/** One URL pattern of a viewset: which method runs which action. */
export interface Route {
  /** `{prefix}` and `{lookup}` are filled in at registration. */
  url: string;
  /** Method to action name: a standard action or one of the viewset's extra actions. */
  mapping: Partial<Record<HttpMethod, StandardAction | (string & {})>>;
  /** `{basename}` is filled in, e.g. `book-list`. */
  name: string;
  detail: boolean;
}

/** One `register()` call. */
export interface Registration {
  prefix: string;
  viewset: GenericViewSet;
  basename: string;
}

const ALL_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
const VIEW_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const satisfies readonly HttpMethod[];

/** DRF's view name: the class name without its `View`/`ViewSet` suffix, in words (`BookStatsView` -> `Book Stats`). */
function viewNameOf(view: APIView): string {
  const explicit = (view as { viewName?: unknown }).viewName;
  if (typeof explicit === 'string' && explicit) return explicit;
  return view.constructor.name.replace(/(ViewSet|View)$/, '').replace(/([a-z0-9])([A-Z])/g, '$1 $2') || 'View';
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The methods a route's URL accepts, sent as `Allow` on every response. */
    allow?: string[];
    /** The route's name, e.g. `book-detail`. */
    routeName?: string;
  }
}

/** DRF's SimpleRouter: a collection route and an item route per registered viewset. */
export class SimpleRouter {
  /** The URL patterns every viewset gets. */
  routes: Route[] = [
    { url: '/{prefix}/', mapping: { GET: 'list', POST: 'create' }, name: '{basename}-list', detail: false },
    {
      url: '/{prefix}/:{lookup}/',
      mapping: { GET: 'retrieve', PUT: 'update', PATCH: 'partialUpdate', DELETE: 'destroy' },
      name: '{basename}-detail',
      detail: true,
    },
  ];
  /** Answers OPTIONS on every route. */
  metadata = new SimpleMetadata();
  /** Adds `.json`-style twins of every route, forcing that format (one per format of the view's renderers). */
  includeFormatSuffixes = false;
  readonly registry: Registration[] = [];
  /** Plain API views registered on one URL each (their `get`/`post`/... methods are the handlers). */
  readonly views: { prefix: string; view: APIView; name: string }[] = [];

  /**
   * Adds a viewset under a URL prefix; `basename` names its routes (defaults to the prefix).
   * A plain `APIView` gets one route, `/{prefix}/`, named `basename` (defaults to the prefix).
   */
  register(prefix: string, viewset: GenericViewSet | APIView, options: { basename?: string } = {}): this {
    const isViewSet = viewset instanceof GenericViewSet;
    const basename = options.basename ?? (isViewSet ? prefix.replace(/s$/, '') : prefix);
    if (this.registry.some((r) => r.basename === basename) || this.views.some((v) => v.name === basename)) {
      throw new SetupError('FASTREST_ERR_ROUTER_BASENAME', `basename "${basename}" is registered twice`);
    }
    if (isViewSet) this.registry.push({ prefix, viewset, basename });
    else this.views.push({ prefix, view: viewset, name: basename });
    return this;
  }

  /**
   * The routes of one viewset (DRF's `get_routes`): the collection route, its extra actions
   * (`/{prefix}/{urlPath}/`), the item route and its extra actions (`/{prefix}/{lookup}/{urlPath}/`).
   */
  getRoutes(viewset: GenericViewSet): Route[] {
    const extras = viewset.getExtraActions();
    const taken = new Set<string>();
    for (const extra of extras) {
      const key = `${extra.detail}:${extra.urlPath}`;
      if (extra.name in standardActions || taken.has(key) || taken.has(extra.urlName) || ['list', 'detail'].includes(extra.urlName)) {
        throw new SetupError('FASTREST_ERR_ACTION_CONFIG', `${viewset.constructor.name}: extra action "${extra.name}" clashes with another route`);
      }
      taken.add(key).add(extra.urlName);
    }
    const dynamic = (detail: boolean): Route[] =>
      extras
        .filter((extra) => extra.detail === detail)
        .map((extra) => ({
          url: detail ? `/{prefix}/:{lookup}/${extra.urlPath}/` : `/{prefix}/${extra.urlPath}/`,
          mapping: Object.fromEntries(extra.methods.map((method) => [method, extra.name])),
          name: `{basename}-${extra.urlName}`,
          detail,
        }));
    const [list, ...others] = this.routes.filter((r) => !r.detail);
    const details = this.routes.filter((r) => r.detail);
    return [...(list ? [list] : []), ...dynamic(false), ...others, ...details, ...dynamic(true)];
  }

  /** A Fastify plugin adding every route under `prefix` (e.g. `/api`). */
  plugin(prefix = '') {
    return fp(async (app: FastifyInstance) => this.install(app, prefix), { name: `fastrest-router${prefix}`, dependencies: ['fastrest'] });
  }

  /** Registers the routes of every viewset on `app`. */
  protected install(app: FastifyInstance, prefix: string): void {
    for (const registration of this.registry) {
      registerSchemas(app, registration.viewset.serializer);
      for (const serializer of Object.values(registration.viewset.actionSerializers)) if (serializer) registerSchemas(app, serializer);
      for (const extra of registration.viewset.getExtraActions()) {
        const { serializers, named } = schemasOfAction(extra);
        for (const serializer of serializers) registerSchemas(app, serializer);
        for (const schema of named) addSharedSchema(app, schema);
      }
      addSecuritySchemes(app, registration.viewset.authenticationClasses ?? []);
      const paginator = registration.viewset.paginationFor(app.restSettings);
      if (paginator) {
        const paged = [registration.viewset.serializerFor('list'), ...registration.viewset.getExtraActions().flatMap((extra) => pageOf(extra.response) ?? [])];
        for (const serializer of new Set(paged)) addSharedSchema(app, paginator.getResponseSchema(serializer.schemas.response.$id));
      }
      for (const route of this.getRoutes(registration.viewset)) this.installRoute(app, prefix, registration, route);
    }
    for (const { prefix: urlPrefix, view, name } of this.views) this.installView(app, `${prefix}/${urlPrefix}/`, view, name, urlPrefix);
  }

  protected installRoute(app: FastifyInstance, prefix: string, { prefix: urlPrefix, viewset, basename }: Registration, route: Route): void {
    const url = prefix + route.url.replace('{prefix}', urlPrefix).replace('{lookup}', viewset.lookupUrlKwarg);
    const name = route.name.replace('{basename}', basename);
    const mapped = (Object.entries(route.mapping) as [HttpMethod, string][]).filter(([method, action]) => viewset.getActionSpec(action, method));
    if (!mapped.length) return;
    app.urls.add(name, url);
    const methods = mapped.map(([method]) => method as string);
    const allow = [...methods, ...(methods.includes('GET') ? ['HEAD'] : []), 'OPTIONS'];
    const params = route.detail ? this.paramsSchema(viewset) : undefined;
    const detailName = this.routes.find((r) => r.detail)?.name.replace('{basename}', basename);
    const initial = initialHook(viewset);
    // What OpenAPI documents; requests ask `getConditionalRequests`, which a view may override.
    const conditional = viewset.conditionalRequestsFor(app.restSettings);
    for (const [method, action] of mapped) {
      const spec: ActionSpec = viewset.getActionSpec(action, method)!;
      const handler = viewset.handlerFor(action);
      // A paginator answers invalid values of its own parameters itself (DRF's 404 "Invalid page."), never with a 400.
      const paginator = spec.response === 'list' || spec.page ? viewset.paginationFor(app.restSettings) : null;
      const paginatorKeys = paginator ? Object.keys(paginator.getQuerystringProperties(viewset)) : [];
      this.addRoute(app, viewset, {
        method,
        url,
        schema: this.operationSchema(viewset, spec, urlPrefix, params, app.restSettings, viewset.serializerFor(action)),
        attachValidation: paginatorKeys.length > 0,
        // A list that is a plain array unless a page is asked for serializes each body by its shape.
        ...(paginatorKeys.length && !paginator!.paginatesByDefault(app.restSettings) ? { serializerCompiler: eitherShapeSerializerCompiler(app) } : {}),
        onRequest: initial,
        config: {
          allow,
          routeName: name,
          action,
          ...(conditional && action in standardActions ? { conditional } : {}),
          detailUrl: detailName
            ? (request: FastifyRequest, instance: object) =>
                app.urls.has(detailName)
                  ? app.urls.reverse(request, detailName, { [viewset.lookupUrlKwarg]: (instance as Record<string, string>)[viewset.lookupField]! })
                  : undefined
            : undefined,
        },
        handler: async (request: FastifyRequest, reply: FastifyReply) => {
          const invalid = request.validationError && queryErrorsBeyond(request.validationError, paginatorKeys);
          if (invalid) throw invalid;
          const body = await handler(request, reply);
          if (spec.response === 'empty') return reply.send();
          return viewset.getConditionalRequests(request)?.respond(request, reply, viewset, action, body) ?? body;
        },
      } as RouteOptions);
    }
    const writeMethods = methods.filter((m) => m === 'POST' || m === 'PUT');
    this.addRoute(app, viewset, {
      method: 'OPTIONS',
      url,
      schema: { hide: true, ...(params ? { params } : {}) },
      onRequest: initial,
      config: { allow, routeName: name },
      handler: async (request) => this.metadata.determineMetadata(request, viewset, route.detail, writeMethods),
    });
    const refused = ALL_METHODS.filter((m) => !allow.includes(m));
    if (refused.length) {
      this.addRoute(app, viewset, {
        method: refused,
        url,
        schema: { hide: true },
        onRequest: initial,
        config: { allow, routeName: name },
        handler: async (request) => {
          throw new MethodNotAllowed(request.method, allow);
        },
      });
    }
  }

  /**
   * Installs a plain `APIView` on one URL (DRF's `as_view()`): its `get`/`post`/`put`/`patch`/`delete`
   * methods are the handlers, its `methodSchemas` their OpenAPI, with the view's policies, `Allow`,
   * OPTIONS and 405s as on every route.
   */
  installView(app: FastifyInstance, url: string, view: APIView, name: string, tag: string): void {
    const methods = VIEW_METHODS.filter((m) => typeof (view as unknown as Record<string, unknown>)[m.toLowerCase()] === 'function');
    if (!methods.length) throw new SetupError('FASTREST_ERR_VIEW_CONFIG', `${view.constructor.name} has no get, post, put, patch or delete method`);
    app.urls.add(name, url);
    const allow = [...methods, ...(methods.includes('GET') ? ['HEAD'] : []), 'OPTIONS'];
    const initial = initialHook(view);
    const declared: ViewMethodSchemas = (view as { methodSchemas?: ViewMethodSchemas }).methodSchemas ?? {};
    const title = viewNameOf(view);
    const description = (view as { description?: string }).description ?? '';
    const settings = app.restSettings;
    for (const method of methods) {
      const own = declared[method] ?? {};
      const { serializers, named } = schemasOfAction({ request: own.request, response: own.response });
      for (const serializer of serializers) registerSchemas(app, serializer);
      for (const schema of named) addSharedSchema(app, schema);
      const status = own.status ?? (own.response === null ? 204 : 200);
      const response = schemaOfAction(own.response, 'response') ?? (status === 204 ? { type: 'null', description: 'No content' } : { description: 'Success' });
      const body = schemaOfAction(own.request, 'request');
      const negotiator = view.contentNegotiationClass ?? settings.defaultContentNegotiationClass;
      const consumes = [...new Set((view.parserClasses ?? settings.defaultParserClasses).flatMap((p) => p.openapiMediaTypes()))];
      const policies = view.openapiPolicies(method, settings);
      const handle = (view as unknown as Record<string, (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>>)[method.toLowerCase()]!;
      this.addRoute(app, view, {
        method,
        url,
        schema: {
          operationId: own.operationId ?? `${method.toLowerCase()}${title.replace(/\s+/g, '')}`,
          tags: [tag],
          summary: own.summary ?? title,
          ...(own.description || description ? { description: own.description ?? description } : {}),
          ...(body ? { body, consumes } : {}),
          produces: negotiator.openapiProduces(view.rendererClasses ?? settings.defaultRendererClasses),
          ...(policies.security ? { security: policies.security } : {}),
          response: { [status]: response, ...errorResponses({ body: Boolean(body), detail: false }), ...policies.responses },
        },
        onRequest: initial,
        config: { allow, routeName: name, action: method.toLowerCase() },
        handler: async (request: FastifyRequest, reply: FastifyReply) => {
          const result = await handle.call(view, request, reply);
          if (status !== 200 && reply.statusCode === 200) reply.code(status);
          return status === 204 ? reply.send() : result;
        },
      } as RouteOptions);
    }
    this.addRoute(app, view, {
      method: 'OPTIONS',
      url,
      schema: { hide: true },
      onRequest: initial,
      config: { allow, routeName: name },
      handler: async (request: FastifyRequest) => ({
        name: title,
        description,
        renders: view.getRenderers(request).map((r) => r.mediaType),
        parses: view.getParsers(request).map((p) => p.mediaType),
      }),
    });
    const refused = ALL_METHODS.filter((m) => !allow.includes(m));
    if (!refused.length) return;
    this.addRoute(app, view, {
      method: refused,
      url,
      schema: { hide: true },
      onRequest: initial,
      config: { allow, routeName: name },
      handler: async (request: FastifyRequest) => {
        throw new MethodNotAllowed(request.method, allow);
      },
    });
  }

  /**
   * Adds a route and, with `includeFormatSuffixes`, one twin per format of the view's renderers:
   * `/books/` -> `/books.json`, `/books/:id/` -> `/books/:id.json`, the root `/` -> `/.json` (`root`).
   * Twins run the same handler with `request.formatSuffix` set, keep the route's name unregistered
   * and stay out of OpenAPI (as DRF's schema generator skips suffix URLs).
   */
  protected addRoute(app: FastifyInstance, view: APIView, options: RouteOptions, root = false): void {
    app.route(options);
    if (!this.includeFormatSuffixes) return;
    const onRequest = options.onRequest as ((request: FastifyRequest, reply: FastifyReply, done: (error?: Error) => void) => void) | undefined;
    const formats = new Set((view.rendererClasses ?? app.restSettings.defaultRendererClasses).map((r) => r.format));
    for (const format of formats) {
      app.route({
        ...options,
        url: root || !options.url.endsWith('/') ? `${options.url}.${format}` : `${options.url.slice(0, -1)}.${format}`,
        schema: { ...options.schema, hide: true },
        onRequest: (request: FastifyRequest, reply: FastifyReply, done: (error?: Error) => void) => {
          request.formatSuffix = format;
          if (onRequest) onRequest(request, reply, done);
          else done();
        },
      });
    }
  }

  /** The `minimum` and `maximum` of an integer lookup column, from its entity property. */
  protected lookupRange(viewset: GenericViewSet): Record<string, unknown> {
    const prop = (viewset.serializer.entity.meta.properties as Record<string, PropertyMeta>)[viewset.lookupField];
    if (!prop) return {};
    const schema = valueSchemaOf(viewset.serializer.name, viewset.lookupField, prop);
    return Object.fromEntries((['minimum', 'maximum'] as const).filter((k) => schema[k] !== undefined).map((k) => [k, schema[k]]));
  }

  /** Path parameter schema of an item route, typed like the lookup field (a wrong type is a 404). */
  protected paramsSchema(viewset: GenericViewSet) {
    const field = viewset.serializer.fields.find((f) => f.name === viewset.lookupField);
    const type = field ? (Array.isArray(field.schema['type']) ? field.schema['type'][0] : field.schema['type']) : 'string';
    return {
      type: 'object',
      properties: {
        [viewset.lookupUrlKwarg]: {
          type: type ?? 'string',
          // An integer beyond its column's range is no row's (a 404), not a value the database refuses.
          ...(type === 'integer' ? this.lookupRange(viewset) : {}),
          description: `The ${viewset.lookupField} of the ${viewset.name.toLowerCase()}.`,
        },
      },
      required: [viewset.lookupUrlKwarg],
    };
  }

  /** The Fastify/OpenAPI schema of one action: operationId, tags, body, responses. */
  protected operationSchema(
    viewset: GenericViewSet,
    spec: ActionSpec,
    tag: string,
    params: unknown,
    settings: Readonly<RestSettings>,
    serializer: ModelSerializer = viewset.serializer,
  ) {
    return operationSchemaOf(viewset, spec, tag, params, settings, serializer);
  }
}

/** SimpleRouter plus the API root at the prefix, listing every collection's absolute URL. */
export class DefaultRouter extends SimpleRouter {
  includeRootView = true;
  rootViewName = 'Api Root';
  override includeFormatSuffixes = true;
  /** The API root's view: its renderers, parsers and policies (DRF's `APIRootView`). */
  rootView = new APIView();

  protected override install(app: FastifyInstance, prefix: string): void {
    super.install(app, prefix);
    if (!this.includeRootView) return;
    const entries = this.registry
      .map((r) => [r.prefix, `${r.basename}-list`] as const)
      .filter(([, name]) => app.urls.has(name));
    const url = `${prefix}/`;
    app.urls.add('api-root', url);
    const initial = initialHook(this.rootView);
    this.addRoute(app, this.rootView, {
      method: 'GET',
      url,
      onRequest: initial,
      schema: {
        operationId: 'apiRoot',
        tags: ['api'],
        summary: this.rootViewName === 'Api Root' ? 'API root' : this.rootViewName,
        description: 'The entry point of the API: a link to every collection.',
        response: {
          200: {
            type: 'object',
            properties: Object.fromEntries(entries.map(([key]) => [key, { type: 'string', format: 'uri' }])),
            required: entries.map(([key]) => key),
          },
        },
      },
      config: { allow: ['GET', 'HEAD', 'OPTIONS'], routeName: 'api-root' },
      handler: async (request: FastifyRequest) => Object.fromEntries(entries.map(([key, name]) => [key, app.urls.reverse(request, name)])),
    }, true);
    this.addRoute(app, this.rootView, {
      method: 'OPTIONS',
      url,
      schema: { hide: true },
      onRequest: initial,
      config: { allow: ['GET', 'HEAD', 'OPTIONS'], routeName: 'api-root' },
      handler: async (request: FastifyRequest) => ({
        name: this.rootViewName,
        description: '',
        renders: this.rootView.getRenderers(request).map((r) => r.mediaType),
        parses: this.rootView.getParsers(request).map((p) => p.mediaType),
      }),
    }, true);
  }
}

/**
 * One plain API view on one URL, as a Fastify plugin (DRF's `path('stats/', StatsView.as_view(), name='stats')`).
 * @example
 * await app.register(asView(new StatsView(), { url: '/api/stats/', name: 'stats' }));
 */
export function asView(view: APIView, options: { url: string; name: string; tag?: string }) {
  const url = options.url.endsWith('/') ? options.url : `${options.url}/`;
  return fp(async (app: FastifyInstance) => new SimpleRouter().installView(app, url, view, options.name, options.tag ?? options.name), {
    name: `fastrest-view-${options.name}`,
    dependencies: ['fastrest'],
  });
}

