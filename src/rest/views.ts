/**
 * `APIView`: the policies every endpoint runs before its handler, in DRF's order:
 * content negotiation (406) -> authentication -> permissions (401/403) -> throttling (429).
 * Routers call `initial()` from an `onRequest` hook, so the policies run before the body is
 * parsed or validated, and before a 405. Each policy is a list of classes, read per request.
 */
import type { FastifyContextConfig, FastifyReply, FastifyRequest } from 'fastify';
import { APIException, AuthenticationFailed, NotAuthenticated, PermissionDenied, Throttled } from './exceptions.ts';
import { patchVaryHeaders, type BaseContentNegotiation } from './negotiation.ts';
import { andThen, firstWhere, isPromiseLike } from './promises.ts';
import type { BaseParser } from './parsers.ts';
import type { BaseRenderer } from './renderers/base.ts';
import type { RestSettings } from './settings.ts';

/** The user a request is made by; `request.user` is `null` for anonymous requests. */
export interface RequestUser {
  id: number | string;
  username: string;
  isActive: boolean;
  isStaff: boolean;
  isSuperuser: boolean;
}

/**
 * A user an authenticator found but has not made: `request.user` makes it on first use, once (DRF
 * evaluates `request.user` lazily too), so a request that never reads it makes no User entity.
 */
export class LazyUser {
  readonly make: () => RequestUser;

  constructor(make: () => RequestUser) {
    this.make = make;
  }
}

/** The slot `request.user` reads: a user, a `LazyUser`, or `null`. */
export const USER_SLOT = Symbol('fastrest.user');

/** The slot `routeConfig` keeps the route's config in, once read. */
export const ROUTE_CONFIG_SLOT = Symbol('fastrest.routeConfig');

/**
 * The config of the route a request runs (`request.routeOptions.config`: its action, `allow`,
 * name...), read once per request: Fastify builds a new `routeOptions` object on every read.
 */
export function routeConfig(request: FastifyRequest): FastifyContextConfig {
  return (request[ROUTE_CONFIG_SLOT] ??= request.routeOptions.config ?? {});
}

/** Whether the request has a user, without making one an authenticator left lazy (permissions ask this). */
export function hasUser(request: FastifyRequest): boolean {
  return request[USER_SLOT] != null;
}

/** An authenticator's answer: the user (or a `LazyUser`) and the credentials. */
export interface AuthResult {
  user: RequestUser | LazyUser;
  auth: unknown;
}

/**
 * An authentication scheme: returns the user and credentials, `null` to let the next scheme try;
 * a scheme that can tell without I/O (no credentials of its kind) may answer without a promise.
 */
export interface Authenticator {
  authenticate(request: FastifyRequest): AuthResult | null | Promise<AuthResult | null>;
  /** The `WWW-Authenticate` challenge; a scheme with one makes "not authenticated" a 401, not a 403. */
  authenticateHeader?(request: FastifyRequest): string | undefined;
  /** The OpenAPI security scheme this authenticator stands for, by component name. */
  getSecurityScheme?(): { name: string; scheme: Record<string, unknown> } | null;
}

/** A permission: may this request go on, and (on item routes) may it touch this object? */
export interface Permission {
  hasPermission(request: FastifyRequest, view: APIView): boolean | Promise<boolean>;
  hasObjectPermission?(request: FastifyRequest, view: APIView, object: object): boolean | Promise<boolean>;
  /** Custom message of the 403. */
  message?: string;
  /** The message of the 403 for this request, when it depends on which part refused (composed permissions). */
  getMessage?(request: FastifyRequest): string | undefined;
  /** Whether an anonymous client may use `method` (OpenAPI marks such operations' security as optional). */
  allowsAnonymous?(method: string): boolean;
}

/** A throttle: may this request go on now, and if not, in how many seconds? */
export interface Throttle {
  allowRequest(request: FastifyRequest, view: APIView): boolean | Promise<boolean>;
  /** Seconds until `request`, just refused, would be allowed; `null` when unknown. Instances serve many requests at once. */
  wait(request: FastifyRequest): number | null;
  /** What the throttle adds to an operation's OpenAPI responses (the 429). */
  getOpenApiResponses?(): Record<number, unknown>;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated user, or `null` (anonymous). */
    user: RequestUser | null;
    /** What `request.user` reads: the user, a `LazyUser` not made yet, or `null`. */
    [USER_SLOT]: RequestUser | LazyUser | null;
    /** What `routeConfig` read of `routeOptions.config`, or `null` before. */
    [ROUTE_CONFIG_SLOT]: FastifyContextConfig | null;
    /** The credentials the user was authenticated with (a token, a session...). */
    auth: unknown;
    /** The authenticator that accepted the request. */
    successfulAuthenticator: Authenticator | null;
  }
}

declare module './settings.ts' {
  interface RestSettings {
    /** Renderers of views that name none, in order of preference (DRF's DEFAULT_RENDERER_CLASSES). */
    defaultRendererClasses: readonly BaseRenderer[];
    /** Parsers of views that name none (DRF's DEFAULT_PARSER_CLASSES); the plugin installs them on the app. */
    defaultParserClasses: readonly BaseParser[];
    /** How views pick a renderer (DRF's DEFAULT_CONTENT_NEGOTIATION_CLASS). */
    defaultContentNegotiationClass: BaseContentNegotiation;
    /** Authentication schemes of views that name none (DRF's DEFAULT_AUTHENTICATION_CLASSES); none by default. */
    defaultAuthenticationClasses: readonly Authenticator[];
    /** Permissions of views that name none (DRF's DEFAULT_PERMISSION_CLASSES); none allows every request. */
    defaultPermissionClasses: readonly Permission[];
    /** Throttles of views that name none (DRF's DEFAULT_THROTTLE_CLASSES). */
    defaultThrottleClasses: readonly Throttle[];
  }
}

const VARY_ACCEPT = ['Accept'] as const;

/** What a policy step returns: nothing when it decided without I/O, else a promise. */
export type PolicyResult = void | Promise<void>;

/**
 * The `onRequest` hook that runs a view's `initial()`: a callback hook, so a request whose
 * policies decide without I/O (an anonymous read) goes on without a promise.
 */
export function initialHook(view: APIView) {
  return (request: FastifyRequest, reply: FastifyReply, done: (error?: Error) => void): void => {
    let result: PolicyResult;
    try {
      result = view.initial(request, reply);
    } catch (error) {
      return done(error as Error);
    }
    if (isPromiseLike(result)) result.then(() => done(), done);
    else done();
  };
}

/** Base of every API view: the policies as properties, each read through a `get*()` hook. */
export class APIView {
  /** Authentication schemes tried in order; `undefined` means the app's default. */
  authenticationClasses: Authenticator[] | undefined = undefined;
  /** Permissions that must all pass; `undefined` means the app's default (none: allow any). */
  permissionClasses: Permission[] | undefined = undefined;
  /** Throttles that must all allow the request; `undefined` means the app's default. */
  throttleClasses: Throttle[] | undefined = undefined;
  /** Scope name for scoped throttles. */
  throttleScope: string | undefined = undefined;
  /** Renderers in order of preference; `undefined` means the app's default (JSON). */
  rendererClasses: readonly BaseRenderer[] | undefined = undefined;
  /** Parsers of request bodies; `undefined` means the app's default (JSON, form, multipart). */
  parserClasses: readonly BaseParser[] | undefined = undefined;
  /** The content negotiation policy; `undefined` means the app's default. */
  contentNegotiationClass: BaseContentNegotiation | undefined = undefined;

  /** The authenticators of this request. */
  getAuthenticators(request: FastifyRequest): readonly Authenticator[] {
    return this.authenticationClasses ?? request.server.restSettings?.defaultAuthenticationClasses ?? [];
  }

  /** The permissions of this request. */
  getPermissions(request: FastifyRequest): readonly Permission[] {
    return this.permissionClasses ?? request.server.restSettings?.defaultPermissionClasses ?? [];
  }

  /** The throttles of this request. */
  getThrottles(request: FastifyRequest): readonly Throttle[] {
    return this.throttleClasses ?? request.server.restSettings?.defaultThrottleClasses ?? [];
  }

  /** The renderers of this request. */
  getRenderers(request: FastifyRequest): readonly BaseRenderer[] {
    return this.rendererClasses ?? request.server.restSettings.defaultRendererClasses;
  }

  /** The parsers of this request's body. */
  getParsers(request: FastifyRequest): readonly BaseParser[] {
    return this.parserClasses ?? request.server.restSettings.defaultParserClasses;
  }

  /** The content negotiation policy of this request. */
  getContentNegotiator(request: FastifyRequest): BaseContentNegotiation {
    return this.contentNegotiationClass ?? request.server.restSettings.defaultContentNegotiationClass;
  }

  /**
   * Runs the policies before the handler (DRF's `initial`). Each step may return a promise; one
   * that returns nothing decided without I/O, and the next runs at once.
   */
  initial(request: FastifyRequest, reply: FastifyReply): PolicyResult {
    request.parsers = this.getParsers(request);
    if (request.body === undefined && request.method !== 'GET' && request.method !== 'HEAD') request.body = {};
    return andThen(this.performContentNegotiation(request, reply), () =>
      andThen(this.performAuthentication(request), () => andThen(this.checkPermissions(request), () => this.checkThrottles(request))),
    );
  }

  /** Picks the renderer of this request (406 when none fits, 404 for an unknown format) and attaches it to the reply. */
  performContentNegotiation(request: FastifyRequest, reply: FastifyReply): PolicyResult {
    const renderers = this.getRenderers(request);
    const selection = this.getContentNegotiator(request).selectRenderer(request, renderers, request.formatSuffix);
    request.acceptedRenderer = selection.renderer;
    request.acceptedMediaType = selection.mediaType;
    if (renderers.length > 1) patchVaryHeaders(reply, VARY_ACCEPT);
    selection.renderer.attach(request, reply, selection, this);
  }

  /** Sets `request.user` and `request.auth` from the first authenticator that accepts; wrong credentials are a 401/403. */
  performAuthentication(request: FastifyRequest): PolicyResult {
    request.user = null;
    request.auth = null;
    request.successfulAuthenticator = null;
    return authenticateWith(this, request, this.getAuthenticators(request));
  }

  /** Refuses the request unless every permission allows it. */
  checkPermissions(request: FastifyRequest): PolicyResult {
    return permitWith(this, request, this.getPermissions(request));
  }

  /** Refuses access to one object unless every permission allows it (item routes). */
  async checkObjectPermissions(request: FastifyRequest, object: object): Promise<void> {
    for (const permission of this.getPermissions(request)) {
      if (permission.hasObjectPermission && !(await permission.hasObjectPermission(request, this, object))) {
        this.permissionDenied(request, permission.getMessage?.(request) ?? permission.message);
      }
    }
  }

  /** 401 for an anonymous request when the first scheme can challenge, else 403 (DRF's rule). */
  permissionDenied(request: FastifyRequest, message?: string): never {
    if (!hasUser(request) && request.successfulAuthenticator === null && this.getAuthenticators(request).length) {
      this.challenge(request, new NotAuthenticated());
    }
    throw new PermissionDenied(message);
  }

  /** Throws an authentication error as a 401 with the first scheme's `WWW-Authenticate`, or as a 403 when it has none. */
  challenge(request: FastifyRequest, error: APIException): never {
    const header = this.getAuthenticators(request)[0]?.authenticateHeader?.(request);
    if (header) error.headers['www-authenticate'] = header;
    else (error as { status: number }).status = 403;
    throw error;
  }

  /** 429 with `Retry-After` (the longest wait) when a throttle refuses. */
  checkThrottles(request: FastifyRequest): PolicyResult {
    const throttles = this.getThrottles(request);
    return throttles.length ? this.#throttle(request, throttles) : undefined;
  }

  async #throttle(request: FastifyRequest, throttles: readonly Throttle[]): Promise<void> {
    let refused = false;
    const waits: number[] = [];
    for (const throttle of throttles) {
      if (await throttle.allowRequest(request, this)) continue;
      refused = true;
      const wait = throttle.wait(request);
      if (wait !== null) waits.push(wait);
    }
    if (refused) throw new Throttled(waits.length ? Math.max(...waits) : undefined);
  }

  /**
   * What the view's policies add to the OpenAPI operation of `method`: the security requirements
   * (an empty one when anonymous clients may call it) and the 401/403/429 answers they can give.
   */
  openapiPolicies(method: string, settings: Readonly<RestSettings>): { security?: Record<string, string[]>[]; responses: Record<number, unknown> } {
    const authenticators = this.authenticationClasses ?? settings.defaultAuthenticationClasses;
    const permissions = this.permissionClasses ?? settings.defaultPermissionClasses;
    const throttles = this.throttleClasses ?? settings.defaultThrottleClasses;
    const names = authenticators.map((a) => a.getSecurityScheme?.()?.name).filter((name): name is string => Boolean(name));
    const anonymous = permissions.every((p) => p.allowsAnonymous?.(method) ?? false);
    const detail = (description: string) => ({ description, $ref: 'ErrorDetail#' });
    const responses: Record<number, unknown> = {};
    if (permissions.length) {
      // DRF's rule: a 401 only when the first scheme challenges (the schemes' headers do not depend on the request).
      if (authenticators[0]?.authenticateHeader?.({} as FastifyRequest)) responses[401] = detail('Not authenticated, or wrong credentials');
      responses[403] = detail('Permission denied (or not authenticated, with a scheme that cannot challenge)');
    }
    for (const throttle of throttles) Object.assign(responses, throttle.getOpenApiResponses?.() ?? { 429: detail('Throttled') });
    if (!names.length) return { responses };
    return { security: [...names.map((name) => ({ [name]: [] })), ...(anonymous ? [{}] : [])], responses };
  }
}

/** Tries the authenticators in turn; the first that answers with a user wins. */
function authenticateWith(view: APIView, request: FastifyRequest, authenticators: readonly Authenticator[]): PolicyResult {
  try {
    const found = firstWhere(authenticators, (a) => a.authenticate(request), Boolean);
    if (!isPromiseLike(found)) {
      if (found) accept(request, found.item, found.answer!);
      return;
    }
    return Promise.resolve(found).then(
      (hit) => {
        if (hit) accept(request, hit.item, hit.answer!);
      },
      (error: unknown) => authenticationFailed(view, request, error),
    );
  } catch (error) {
    return authenticationFailed(view, request, error);
  }
}

function accept(request: FastifyRequest, authenticator: Authenticator, result: AuthResult): void {
  request[USER_SLOT] = result.user;
  request.auth = result.auth;
  request.successfulAuthenticator = authenticator;
}

function authenticationFailed(view: APIView, request: FastifyRequest, error: unknown): never {
  if (error instanceof AuthenticationFailed || error instanceof NotAuthenticated) view.challenge(request, error);
  throw error;
}

/** Asks the permissions in turn; the first that refuses ends the request. */
function permitWith(view: APIView, request: FastifyRequest, permissions: readonly Permission[]): PolicyResult {
  const refused = firstWhere(permissions, (p) => p.hasPermission(request, view), (ok) => !ok);
  return andThen(refused, (found) => {
    if (found) refuse(view, request, found.item);
  });
}

function refuse(view: APIView, request: FastifyRequest, permission: Permission): never {
  return view.permissionDenied(request, permission.getMessage?.(request) ?? permission.message);
}
