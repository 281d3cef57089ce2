/**
 * Settings: one typed object per app, resolved when the app is built (never read at import time),
 * reachable as `app.restSettings` and overridable per view through the view's own properties.
 * This module is at the bottom of the layers: it declares what every module may read.
 */
import type { FastifyRequest } from 'fastify';

/**
 * Every framework-wide setting with its type; all are optional when passed to the plugin. The
 * settings whose values are instances of a concept are declared by that concept, merged into this
 * interface: views.ts (the default renderers, parsers, negotiation and policies), throttling.ts
 * (`throttleStore`). The defaults are in defaults.ts, at the top of the layers.
 */
export interface RestSettings {
  /** Title, version and description of the OpenAPI document and the browsable pages. */
  title: string;
  version: string;
  description: string;
  /** Where the OpenAPI document and Swagger UI are served. */
  openapiPath: string;
  docsPath: string;
  /** Largest request body accepted, in bytes (413 beyond it). */
  bodyLimit: number;
  /** Query parameter naming a format, as in `?format=json` (DRF's URL_FORMAT_OVERRIDE); `null` turns it off. */
  urlFormatOverride: string | null;
  /** Rows per page of a list whose paginator names no size of its own (DRF's PAGE_SIZE); `null` lists everything unless the client asks for a page. */
  pageSize: number | null;
  /** Largest `page_size` or `limit` a client gets; larger ones are capped to it. */
  maxPageSize: number;
  /** Rates by throttle scope, e.g. `{ anon: '100/day', user: '1000/day' }`; `null` turns a scope off. */
  throttleRates: Readonly<Record<string, string | null>>;
  /** Signs cookies and pagination cursors and ties sessions to passwords (Django's SECRET_KEY); at least 32 characters. */
  secretKey: string | null;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The resolved settings of this app. */
    restSettings: Readonly<RestSettings>;
  }
}

/** The settings of the app serving this request. */
export function settingsOf(request: FastifyRequest): Readonly<RestSettings> {
  return request.server.restSettings;
}
