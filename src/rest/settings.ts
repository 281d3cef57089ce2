/**
 * Settings: one typed object per app, resolved when the app is built (never read at import time),
 * reachable as `app.restSettings` and overridable per view through the view's own properties.
 */
import { SetupError } from './exceptions.ts';
import { DefaultContentNegotiation, type BaseContentNegotiation } from './negotiation.ts';
import { FormParser, JSONParser, MultiPartParser, type BaseParser } from './parsers.ts';
import { BrowsableAPIRenderer } from './renderers/browsable/index.ts';
import { JSONRenderer, type BaseRenderer } from './renderers/index.ts';
import { parseRate, type ThrottleStore } from './throttling.ts';
import type { Authenticator, Permission, Throttle } from './views.ts';

/** Every framework-wide setting with its type; all are optional when passed to the plugin. */
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
  /** Renderers of views that name none, in order of preference (DRF's DEFAULT_RENDERER_CLASSES). */
  defaultRendererClasses: readonly BaseRenderer[];
  /** Parsers of views that name none (DRF's DEFAULT_PARSER_CLASSES); the plugin installs them on the app. */
  defaultParserClasses: readonly BaseParser[];
  /** How views pick a renderer (DRF's DEFAULT_CONTENT_NEGOTIATION_CLASS). */
  defaultContentNegotiationClass: BaseContentNegotiation;
  /** Query parameter naming a format, as in `?format=json` (DRF's URL_FORMAT_OVERRIDE); `null` turns it off. */
  urlFormatOverride: string | null;
  /** Page size of list endpoints when a paginator is configured; `null` lists everything. */
  pageSize: number | null;
  /** Largest `page_size` a client may ask for. */
  maxPageSize: number;
  /** Authentication schemes of views that name none (DRF's DEFAULT_AUTHENTICATION_CLASSES); none by default. */
  defaultAuthenticationClasses: readonly Authenticator[];
  /** Permissions of views that name none (DRF's DEFAULT_PERMISSION_CLASSES); none allows every request. */
  defaultPermissionClasses: readonly Permission[];
  /** Throttles of views that name none (DRF's DEFAULT_THROTTLE_CLASSES). */
  defaultThrottleClasses: readonly Throttle[];
  /** Rates by throttle scope, e.g. `{ anon: '100/day', user: '1000/day' }`; `null` turns a scope off. */
  throttleRates: Readonly<Record<string, string | null>>;
  /** Where throttles keep request history; `null` gives each app its own memory store. */
  throttleStore: ThrottleStore | null;
  /** Signs cookies and pagination cursors and ties sessions to passwords (Django's SECRET_KEY); at least 32 characters. */
  secretKey: string | null;
}

/** The defaults, as DRF's `DEFAULTS`. */
export const defaultSettings: Readonly<RestSettings> = Object.freeze({
  title: 'fastrest API',
  version: '1.0.0',
  description: '',
  openapiPath: '/openapi.json',
  docsPath: '/docs',
  bodyLimit: 1024 * 1024,
  defaultRendererClasses: Object.freeze([new JSONRenderer(), new BrowsableAPIRenderer()]),
  defaultParserClasses: Object.freeze([new JSONParser(), new FormParser(), new MultiPartParser()]),
  defaultContentNegotiationClass: new DefaultContentNegotiation(),
  urlFormatOverride: 'format',
  pageSize: null,
  maxPageSize: 100,
  defaultAuthenticationClasses: [],
  defaultPermissionClasses: [],
  defaultThrottleClasses: [],
  throttleRates: {},
  throttleStore: null,
  secretKey: null,
});

/** Merges user settings over the defaults and checks them; the caller's object is not changed. */
export function resolveSettings(user: Partial<RestSettings> = {}): Readonly<RestSettings> {
  const merged: RestSettings = { ...defaultSettings, ...user };
  if (merged.pageSize !== null && (!Number.isInteger(merged.pageSize) || merged.pageSize < 1)) {
    throw new SetupError('FASTREST_ERR_SETTINGS', `pageSize must be a positive integer or null, got ${merged.pageSize}`);
  }
  if (!Number.isInteger(merged.maxPageSize) || merged.maxPageSize < 1) {
    throw new SetupError('FASTREST_ERR_SETTINGS', `maxPageSize must be a positive integer, got ${merged.maxPageSize}`);
  }
  if (!Number.isInteger(merged.bodyLimit) || merged.bodyLimit < 1) {
    throw new SetupError('FASTREST_ERR_SETTINGS', `bodyLimit must be a positive integer, got ${merged.bodyLimit}`);
  }
  for (const rate of Object.values(merged.throttleRates)) if (rate !== null) parseRate(rate);
  if (merged.secretKey !== null && merged.secretKey.length < 32) {
    throw new SetupError('FASTREST_ERR_SETTINGS', 'secretKey must have at least 32 characters');
  }
  if (merged.defaultRendererClasses.length === 0) throw new SetupError('FASTREST_ERR_SETTINGS', 'defaultRendererClasses needs at least one renderer');
  for (const key of ['openapiPath', 'docsPath'] as const) {
    if (!merged[key].startsWith('/')) throw new SetupError('FASTREST_ERR_SETTINGS', `${key} must start with "/", got "${merged[key]}"`);
  }
  return Object.freeze(merged);
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The resolved settings of this app. */
    restSettings: Readonly<RestSettings>;
  }
}
