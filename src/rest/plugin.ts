/**
 * The fastrest plugin: installs settings, named URLs, the body parsers, DRF-shaped errors, the
 * `Allow` header and the OpenAPI document on a Fastify app. `serverOptions()` gives the Fastify
 * constructor options the framework relies on (Ajv wording, optional trailing slash, body limit,
 * timeouts against slow clients).
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify';
import fp from 'fastify-plugin';
import { buildSerializer, buildValidator } from './ajv.ts';
import { exceptionHandler, NotFound } from './exceptions.ts';
import { DatabaseUnavailable, isDatabaseUnavailable } from './orm.ts';
import { registerOpenApi } from './openapi.ts';
import { timeoutOptions } from './lifecycle.ts';
import { installParsers } from './parsers.ts';
import { installBrowsableApi } from './renderers/browsable/index.ts';
import { resolveSettings } from './defaults.ts';
import type { RestSettings } from './settings.ts';
import { UrlRegistry } from './urls.ts';
import { ERROR_MESSAGES_KEYWORD, TRIM_WHITESPACE_KEYWORD } from './validation.ts';
import { LazyUser, ROUTE_CONFIG_SLOT, routeConfig, USER_SLOT, type RequestUser } from './views.ts';

/** Fastify constructor options fastrest expects; spread your own over them. */
export function serverOptions(settings: Partial<RestSettings> = {}): FastifyServerOptions {
  const resolved = resolveSettings(settings);
  return {
    ...timeoutOptions(resolved),
    bodyLimit: resolved.bodyLimit,
    routerOptions: { ignoreTrailingSlash: true },
    // A path the router cannot read (bad percent-encoding, a parameter past maxParamLength) names no resource.
    frameworkErrors: (_error: FastifyError, _request: FastifyRequest, reply: FastifyReply) => {
      const exc = new NotFound();
      reply.code(exc.status).send(exc.toBody());
    },
    schemaController: { compilersFactory: { buildValidator: buildValidator as never, buildSerializer: buildSerializer as never } },
    ajv: {
      customOptions: {
        allErrors: true,
        verbose: true,
        coerceTypes: 'array',
        useDefaults: false,
        removeAdditional: true,
        keywords: [ERROR_MESSAGES_KEYWORD, TRIM_WHITESPACE_KEYWORD],
      },
    },
  };
}

/** Options of the fastrest plugin. */
export interface FastrestOptions {
  settings?: Partial<RestSettings>;
  /** Serve /openapi.json and Swagger UI (default true). */
  openapi?: boolean;
}

async function fastrestPlugin(app: FastifyInstance, options: FastrestOptions) {
  const settings = resolveSettings(options.settings);
  app.decorate('restSettings', settings);
  app.decorate('urls', new UrlRegistry());
  app.decorateRequest(USER_SLOT, null);
  app.decorateRequest(ROUTE_CONFIG_SLOT, null);
  // `request.user` makes a user an authenticator left lazy on first read, and keeps it.
  app.decorateRequest('user', {
    getter(this: FastifyRequest) {
      const user = this[USER_SLOT];
      return user instanceof LazyUser ? (this[USER_SLOT] = user.make()) : user;
    },
    setter(this: FastifyRequest, user: RequestUser | null) {
      this[USER_SLOT] = user;
    },
  });
  app.decorateRequest('auth', null);
  app.decorateRequest('successfulAuthenticator', null);

  app.decorateRequest('parsers', null);
  app.decorateRequest('uploadedFiles', null);
  app.decorateRequest('acceptedRenderer', null);
  app.decorateRequest('acceptedMediaType', null);
  app.decorateRequest('formatSuffix', null);
  installParsers(app, settings.defaultParserClasses, settings.bodyLimit);

  // An unreachable database answers 503 with Retry-After, never 500.
  app.setErrorHandler(function (error: FastifyError, request, reply) {
    return exceptionHandler.call(this, isDatabaseUnavailable(error) ? (Object.assign(new DatabaseUnavailable(), { cause: error }) as never) : error, request, reply);
  });
  app.setNotFoundHandler(async (_request, reply) => {
    const exc = new NotFound();
    return reply.code(exc.status).send(exc.toBody());
  });
  app.addHook('onSend', (request, reply, payload, done) => {
    const allow = routeConfig(request).allow;
    if (allow) reply.header('allow', allow.join(', '));
    if (reply.statusCode === 204) reply.removeHeader('content-type');
    done(null, payload);
  });
  installBrowsableApi(app);

  if (options.openapi !== false) await registerOpenApi(app, settings);
}

/** Install once per app, before routers. */
export const fastrest = fp(fastrestPlugin, { name: 'fastrest', fastify: '5.x' });
