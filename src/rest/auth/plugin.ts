/**
 * The auth plugin: signed cookies, the log-in and log-out pages of the browsable API (DRF's
 * `api-auth/` URLs, with `?next=`), the CSRF check of form bodies, and the token endpoint
 * (`POST` username and password for a new key, `DELETE` to revoke). Install after `fastrest`.
 */
import { fileURLToPath } from 'node:url';
import fastifyCookie from '@fastify/cookie';
import { Eta } from 'eta';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { MethodNotAllowed, SetupError, ValidationError } from '../exceptions.ts';
import { IsAuthenticated } from '../permissions.ts';
import { ScopedRateThrottle } from '../throttling.ts';
import { APIView, initialHook, type Permission, type Throttle } from '../views.ts';
import { authCookieOptions, checkCsrfToken, checkOrigin, csrfToken, defaultCsrfOptions, finishPendingCsrf, formToken, rotateCsrfSecret, type CsrfOptions } from './csrf.ts';
import type { AuthConfig } from './config.ts';
import type { Token, User } from './models.ts';
import { checkCredentials, closeSession, createToken, openSession, revokeTokens, touchLastLogin } from './users.ts';

/** Options of the auth plugin. */
export interface AuthPluginOptions {
  /** The log-in page (DRF's `api-auth/login/`). */
  loginUrl?: string;
  /** The log-out endpoint, POST only. */
  logoutUrl?: string;
  /** Where a log-in without `next` goes. */
  loginRedirectUrl?: string;
  /** The token endpoint; `null` serves none. */
  tokenUrl?: string | null;
  /** Name and lifetime (seconds) of the session cookie; two weeks as Django. */
  sessionCookieName?: string;
  sessionCookieAge?: number;
  /** Origins besides the app's own that may send unsafe session-authenticated requests. */
  trustedOrigins?: readonly string[];
  /** Throttle scope of log-in attempts (page and token endpoint), used when `throttleRates` has it. */
  loginThrottleScope?: string;
}

/** Django's message for a failed log-in form. */
export const INVALID_LOGIN = 'Please enter a correct username and password. Note that both fields may be case-sensitive.';

/** Whether `next` is a path on this site (not `//evil.example` nor `https://...`). */
export function isSafeNext(next: unknown): next is string {
  return typeof next === 'string' && /^\/(?![/\\])[^\s\\]*$/.test(next);
}

/** The login throttle of a request, when the app sets a rate for its scope. */
function loginThrottle(request: FastifyRequest): Throttle[] {
  const scope = request.server.authConfig.loginThrottleScope;
  return scope in request.server.restSettings.throttleRates ? [new ScopedRateThrottle({ scope })] : [];
}

const isAuthenticated = new IsAuthenticated();

/** DRF's `ObtainAuthToken` with revocation: POST answers `{"token": key}`, DELETE revokes. */
export class AuthTokenView extends APIView {
  override getPermissions(request: FastifyRequest): readonly Permission[] {
    return request.method === 'DELETE' ? [isAuthenticated] : [];
  }

  override getThrottles(request: FastifyRequest): readonly Throttle[] {
    return request.method === 'POST' ? loginThrottle(request) : super.getThrottles(request);
  }

  /** A new token for valid credentials; the key is shown only in this answer. */
  async post(request: FastifyRequest): Promise<{ token: string }> {
    const { username, password } = request.body as { username: string; password: string };
    const user = await checkCredentials(request.em, username, password);
    if (!user || !user.isActive) throw new ValidationError({ non_field_errors: ['Unable to log in with provided credentials.'] });
    const { key } = await createToken(request.em, user);
    return { token: key };
  }

  /** Revokes the token the request was made with; authenticated otherwise, every token of the user. */
  async delete(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const token = request.auth as Token | null;
    if (token && typeof token === 'object' && 'keyHash' in token) await revokeTokens(request.em, { token });
    else await revokeTokens(request.em, { user: request.user as User });
    reply.code(204);
  }
}

const AuthTokenRequest = {
  $id: 'AuthTokenRequest',
  type: 'object',
  properties: { username: { type: 'string', minLength: 1 }, password: { type: 'string', minLength: 1, writeOnly: true } },
  required: ['username', 'password'],
} as const;

const AuthTokenResponse = {
  $id: 'AuthToken',
  type: 'object',
  properties: { token: { type: 'string', description: 'The key: send it as `Authorization: Token <key>` (or `Bearer <key>`). It is shown only once.' } },
  required: ['token'],
} as const;

function resolveConfig(app: FastifyInstance, options: AuthPluginOptions): AuthConfig {
  const secretKey = app.restSettings.secretKey;
  if (!secretKey) throw new SetupError('FASTREST_ERR_AUTH_CONFIG', 'the auth plugin needs settings.secretKey (at least 32 characters)');
  return {
    secretKey,
    loginUrl: options.loginUrl ?? '/api-auth/login/',
    logoutUrl: options.logoutUrl ?? '/api-auth/logout/',
    loginRedirectUrl: options.loginRedirectUrl ?? '/',
    tokenUrl: options.tokenUrl === undefined ? '/api/auth/token/' : options.tokenUrl,
    sessionCookieName: options.sessionCookieName ?? 'sessionid',
    sessionCookieAge: options.sessionCookieAge ?? 14 * 24 * 3600,
    loginThrottleScope: options.loginThrottleScope ?? 'login',
    csrf: { ...defaultCsrfOptions, trustedOrigins: options.trustedOrigins ?? [] },
  };
}

async function authPluginImpl(app: FastifyInstance, options: AuthPluginOptions) {
  const config = Object.freeze(resolveConfig(app, options));
  app.decorate('authConfig', config);
  if (!app.hasDecorator('parseCookie')) await app.register(fastifyCookie, { secret: config.secretKey });
  // A callback hook: the check is synchronous, so no promise per request.
  app.addHook('preValidation', (request, _reply, done) => {
    try {
      finishPendingCsrf(request, config.csrf);
    } catch (error) {
      return done(error as Error);
    }
    done();
  });
  await app.register(pages, { config });
  if (config.tokenUrl) registerTokenRoutes(app, config.tokenUrl);
}

function registerTokenRoutes(app: FastifyInstance, url: string): void {
  const view = new AuthTokenView();
  const allow = ['POST', 'DELETE'];
  const onRequest = initialHook(view);
  const formParser = (app as FastifyInstance).hasContentTypeParser('application/x-www-form-urlencoded');
  if (!app.getSchema(AuthTokenRequest.$id)) app.addSchema(AuthTokenRequest);
  if (!app.getSchema(AuthTokenResponse.$id)) app.addSchema(AuthTokenResponse);
  const detail = (description: string) => ({ description, $ref: 'ErrorDetail#' });
  const schemes = app.restSettings.defaultAuthenticationClasses.map((a) => a.getSecurityScheme?.()?.name).filter(Boolean) as string[];
  const security = schemes.map((name) => ({ [name]: [] }));
  app.register(async (scope) => {
    if (!formParser) addFormParser(scope);
    scope.route({
      method: 'POST',
      url,
      onRequest,
      config: { allow, routeName: 'auth-token' },
      schema: {
        operationId: 'obtainAuthToken',
        tags: ['auth'],
        summary: 'Obtain a token',
        description: 'Exchanges a username and password for a new token key, shown only in this answer.',
        body: { $ref: 'AuthTokenRequest#' },
        response: { 200: { $ref: 'AuthToken#' }, 400: { description: 'Missing fields, or credentials that do not log in', $ref: 'BadRequest#' }, 429: detail('Too many attempts') },
      },
      handler: async (request) => view.post(request),
    });
    scope.route({
      method: 'DELETE',
      url,
      onRequest,
      config: { allow, routeName: 'auth-token' },
      schema: {
        operationId: 'revokeAuthToken',
        tags: ['auth'],
        summary: 'Revoke tokens',
        description: 'Revokes the token the request is authenticated with; authenticated otherwise (session, basic), every token of the user.',
        ...(security.length ? { security } : {}),
        response: { 204: { type: 'null', description: 'Revoked' }, 401: detail('Not authenticated'), 403: detail('Not authenticated (session) or CSRF failed') },
      },
      handler: async (request, reply) => {
        await view.delete(request, reply);
        return reply.send();
      },
    });
    scope.route({
      method: ['GET', 'PUT', 'PATCH'],
      url,
      onRequest,
      config: { allow, routeName: 'auth-token' },
      schema: { hide: true },
      handler: async (request) => {
        throw new MethodNotAllowed(request.method, allow);
      },
    });
  });
}

/** Parses urlencoded bodies into an object of strings, for the pages' forms. */
function addFormParser(scope: FastifyInstance): void {
  scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(String(body))));
  });
}

const templates = fileURLToPath(new URL('./templates', import.meta.url));
const html = { 'content-type': 'text/html; charset=utf-8' };

/** The log-in page and the log-out endpoint (an encapsulated scope: its form parser stays inside). */
async function pages(scope: FastifyInstance, { config }: { config: AuthConfig }) {
  const eta = new Eta({ views: templates, cache: true, autoEscape: true });
  if (!scope.hasContentTypeParser('application/x-www-form-urlencoded')) addFormParser(scope);
  const settings = scope.restSettings;
  const render = (request: FastifyRequest, reply: FastifyReply, status: number, context: Record<string, unknown>) =>
    reply
      .code(status)
      .headers({ ...html, 'cache-control': 'no-store' })
      .send(eta.render('login', { title: settings.title, loginUrl: config.loginUrl, csrfField: config.csrf.fieldName, csrfToken: csrfToken(request, reply, config.csrf), ...context }));

  scope.get<{ Querystring: { next?: string } }>(config.loginUrl, { schema: { hide: true } }, async (request, reply) => {
    const next = isSafeNext(request.query.next) ? request.query.next : '';
    return render(request, reply, 200, { next, username: '', error: null });
  });

  scope.post<{ Body: Record<string, unknown> | undefined }>(config.loginUrl, { schema: { hide: true } }, async (request, reply) => {
    const body = request.body && typeof request.body === 'object' ? request.body : {};
    checkOrigin(request, config.csrf);
    checkCsrfToken(request, formToken(body, config.csrf) ?? request.headers[config.csrf.headerName], config.csrf);
    const username = typeof body['username'] === 'string' ? body['username'] : '';
    const password = typeof body['password'] === 'string' ? body['password'] : '';
    const next = isSafeNext(body['next']) ? body['next'] : '';
    const throttled = await throttleLogin(request);
    if (throttled !== null) return render(request, reply, 429, { next, username, error: `Too many log-in attempts. Try again in ${throttled} seconds.` });
    const user = username && password ? await checkCredentials(request.em, username, password) : null;
    if (!user || !user.isActive) return render(request, reply, 200, { next, username, error: INVALID_LOGIN });
    const key = await openSession(request.em, user, config.secretKey, config.sessionCookieAge);
    await touchLastLogin(request.em, user);
    reply.setCookie(config.sessionCookieName, key, authCookieOptions(request, config.sessionCookieAge));
    rotateCsrfSecret(request, reply, config.csrf);
    return reply.redirect(next || config.loginRedirectUrl, 302);
  });

  scope.post<{ Body: Record<string, unknown> | undefined }>(config.logoutUrl, { schema: { hide: true } }, async (request, reply) => {
    const body = request.body && typeof request.body === 'object' ? request.body : {};
    checkOrigin(request, config.csrf);
    checkCsrfToken(request, formToken(body, config.csrf) ?? request.headers[config.csrf.headerName], config.csrf);
    const raw = request.cookies[config.sessionCookieName];
    const unsigned = raw ? request.unsignCookie(raw) : null;
    if (unsigned?.valid && unsigned.value) await closeSession(request.em, unsigned.value);
    reply.clearCookie(config.sessionCookieName, { path: '/' });
    const next = isSafeNext(body['next']) ? body['next'] : '';
    if (next) return reply.redirect(next, 302);
    return reply
      .headers({ ...html, 'cache-control': 'no-store' })
      .send(eta.render('logged-out', { title: settings.title, loginUrl: config.loginUrl }));
  });

  scope.get(config.logoutUrl, { schema: { hide: true } }, async (_request, reply) =>
    reply.code(405).header('allow', 'POST').headers(html).send(eta.render('logged-out', { title: settings.title, loginUrl: config.loginUrl, methodNotAllowed: true })),
  );
}

/** Seconds to wait when the log-in scope's rate is spent, else `null`. */
async function throttleLogin(request: FastifyRequest): Promise<number | null> {
  const view = new APIView();
  for (const throttle of loginThrottle(request)) {
    if (!(await throttle.allowRequest(request, view))) return Math.ceil(throttle.wait(request) ?? 1);
  }
  return null;
}

/** Install after `fastrest`: `app.register(authPlugin, { ... })`. Needs `settings.secretKey`. */
export const authPlugin = fp(authPluginImpl, { name: 'fastrest-auth', fastify: '5.x', dependencies: ['fastrest'] });
