/**
 * Plain Fastify routes in the browsable API: a route declared with `app.get(url, { schema }, handler)`
 * after the fastrest plugin gets DRF's page when a browser asks for HTML (or `?format=api`), with
 * forms built from the `body` schemas of the POST/PUT/PATCH routes of the same URL. JSON clients get
 * the route's answer as before (its response schema still serializes it). A route opts out with
 * `config: { browsable: false }`; hidden routes (`schema.hide`) and the framework's own are left alone.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import type { FieldInfo } from '../../serializers.ts';
import { patchVaryHeaders } from '../../negotiation.ts';
import type { BaseRenderer } from '../base.ts';

/** The methods of one URL's plain routes and the body schema of each. */
export interface PlainRoute {
  url: string;
  /** Shared by the URL's routes and sent as `Allow`. */
  allow: string[];
  bodies: Map<string, Record<string, unknown>>;
  summary: string | undefined;
  description: string | undefined;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** `false` keeps a plain route out of the browsable API. */
    browsable?: boolean;
    /** Set on plain routes the browsable API serves: the methods and bodies of their URL. */
    plainRoute?: PlainRoute;
  }
}

type RouteSchema = { hide?: boolean; body?: unknown; summary?: string; description?: string } | undefined;

/** Registers the hook that gives plain routes registered from now on the page, for renderers of class `renderer`. */
export function installPlainRoutes(app: FastifyInstance, isBrowsable: (renderer: BaseRenderer) => boolean): void {
  const byUrl = new Map<string, PlainRoute>();
  const negotiate = (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
    const settings = request.server.restSettings;
    const renderers = settings.defaultRendererClasses;
    if (renderers.length > 1) patchVaryHeaders(reply, ['Accept']);
    let selection;
    try {
      selection = settings.defaultContentNegotiationClass.selectRenderer(request, renderers, null);
    } catch {
      // A route of its own making answers what it answers: no 406 or 404 of ours.
      return done();
    }
    if (isBrowsable(selection.renderer)) {
      request.acceptedRenderer = selection.renderer;
      request.acceptedMediaType = selection.mediaType;
      selection.renderer.attach(request, reply, selection, null);
    }
    done();
  };
  app.addHook('onRoute', (route: RouteOptions) => {
    const schema = route.schema as RouteSchema;
    const config = (route.config ?? {}) as NonNullable<RouteOptions['config']>;
    if (!schema || schema.hide || config.routeName || config.browsable === false) return;
    let entry = byUrl.get(route.url);
    if (!entry) byUrl.set(route.url, (entry = { url: route.url, allow: [], bodies: new Map(), summary: undefined, description: undefined }));
    for (const method of [route.method].flat()) {
      if (!entry.allow.includes(method)) entry.allow.push(method);
      if (schema.body && typeof schema.body === 'object') entry.bodies.set(method, schema.body as Record<string, unknown>);
      if (method === 'GET') {
        entry.summary ??= schema.summary;
        entry.description ??= schema.description;
      }
    }
    route.config = { ...config, allow: entry.allow, plainRoute: entry };
    route.onRequest = [...[route.onRequest ?? []].flat(), negotiate] as RouteOptions['onRequest'];
  });
}

/** The fields of a form for a JSON Schema body (references to shared schemas followed), as the page's forms show them. */
export function bodyFields(app: FastifyInstance, body: Record<string, unknown>): FieldInfo[] {
  let schema = body;
  for (let depth = 0; typeof schema['$ref'] === 'string' && depth < 8; depth++) {
    const found = app.getSchema(String(schema['$ref']).replace(/#$/, '')) as Record<string, unknown> | undefined;
    if (!found) return [];
    schema = found;
  }
  const properties = (schema['properties'] ?? {}) as Record<string, Record<string, unknown>>;
  const required = new Set(Array.isArray(schema['required']) ? (schema['required'] as string[]) : []);
  return Object.entries(properties).map(([name, prop]) => {
    const type = prop['type'];
    return {
      name,
      schema: prop,
      readOnly: prop['readOnly'] === true,
      writeOnly: prop['writeOnly'] === true,
      required: required.has(name),
      allowNull: Array.isArray(type) && type.includes('null'),
      unique: false,
      label: typeof prop['title'] === 'string' ? prop['title'] : name.replace(/[-_]+/g, ' ').replace(/^\w/, (c) => c.toUpperCase()),
      kind: 'scalar',
    };
  });
}
