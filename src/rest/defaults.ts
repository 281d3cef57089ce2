/**
 * The default settings (DRF's `DEFAULTS`) and `resolveSettings`. They sit at the top of the layers
 * because the defaults are instances of the concepts (renderers, parsers, negotiation); the
 * settings' types are declared below (settings.ts and the concepts that add to it).
 */
import { ConditionalRequests } from './conditional.ts';
import { SetupError } from './exceptions.ts';
import { DefaultContentNegotiation } from './negotiation.ts';
import { BasePagination, LimitOffsetPagination } from './pagination.ts';
import { FormParser, JSONParser, MultiPartParser } from './parsers.ts';
import { BrowsableAPIRenderer, JSONRenderer } from './renderers/index.ts';
import { timeoutSettings } from './lifecycle.ts';
import type { RestSettings } from './settings.ts';
import { parseRate } from './throttling.ts';

/** The defaults, as DRF's `DEFAULTS`. */
export const defaultSettings: Readonly<RestSettings> = Object.freeze({
  title: 'fastrest API',
  version: '1.0.0',
  description: '',
  openapiPath: '/openapi.json',
  docsPath: '/docs',
  bodyLimit: 1024 * 1024,
  requestTimeout: 30_000,
  headersTimeout: 10_000,
  connectionTimeout: 60_000,
  keepAliveTimeout: 72_000,
  shutdownGrace: 10_000,
  defaultRendererClasses: Object.freeze([new JSONRenderer(), new BrowsableAPIRenderer()]),
  defaultParserClasses: Object.freeze([new JSONParser(), new FormParser(), new MultiPartParser()]),
  defaultContentNegotiationClass: new DefaultContentNegotiation(),
  urlFormatOverride: 'format',
  defaultPaginationClass: new LimitOffsetPagination(),
  pageSize: 20,
  maxPageSize: 100,
  defaultAuthenticationClasses: [],
  defaultPermissionClasses: [],
  defaultThrottleClasses: [],
  throttleRates: {},
  throttleStore: null,
  secretKey: null,
  conditionalRequests: new ConditionalRequests(),
});

/** Merges user settings over the defaults and checks them; the caller's object is not changed. */
export function resolveSettings(user: Partial<RestSettings> = {}): Readonly<RestSettings> {
  const merged: RestSettings = { ...defaultSettings, ...user };
  if (merged.pageSize !== null && (!Number.isInteger(merged.pageSize) || merged.pageSize < 1)) {
    throw new SetupError('FASTREST_ERR_SETTINGS', `pageSize must be a positive integer or null, got ${merged.pageSize}`);
  }
  if (merged.defaultPaginationClass !== null && !(merged.defaultPaginationClass instanceof BasePagination)) {
    throw new SetupError('FASTREST_ERR_SETTINGS', 'defaultPaginationClass must be a paginator instance (e.g. new PageNumberPagination()) or null');
  }
  if (!Number.isInteger(merged.maxPageSize) || merged.maxPageSize < 1) {
    throw new SetupError('FASTREST_ERR_SETTINGS', `maxPageSize must be a positive integer, got ${merged.maxPageSize}`);
  }
  if (!Number.isInteger(merged.bodyLimit) || merged.bodyLimit < 1) {
    throw new SetupError('FASTREST_ERR_SETTINGS', `bodyLimit must be a positive integer, got ${merged.bodyLimit}`);
  }
  for (const key of timeoutSettings) {
    if (!Number.isInteger(merged[key]) || merged[key] < 1) throw new SetupError('FASTREST_ERR_SETTINGS', `${key} must be a positive number of milliseconds, got ${merged[key]}`);
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
