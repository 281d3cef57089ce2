/**
 * `APIView`: the policies every endpoint runs before its handler, in DRF's order:
 * content negotiation (406) -> authentication -> permissions (401/403) -> throttling (429).
 * Routers call `initial()` from an `onRequest` hook, so the policies run before the body is
 * parsed or validated, and before a 405. Each policy is a list of classes, read per request.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { NotAuthenticated, PermissionDenied, Throttled } from './exceptions.ts';

/** The user a request is made by; `null` for anonymous requests until authentication lands. */
export interface RequestUser {
  id: number | string;
  username: string;
  isActive: boolean;
  isStaff: boolean;
  isSuperuser: boolean;
}

/** An authentication scheme: returns the user and credentials, `null` to let the next scheme try. */
export interface Authenticator {
  authenticate(request: FastifyRequest): Promise<{ user: RequestUser; auth: unknown } | null>;
  /** The `WWW-Authenticate` challenge; a scheme with one makes "not authenticated" a 401, not a 403. */
  authenticateHeader?(request: FastifyRequest): string | undefined;
}

/** A permission: may this request go on, and (on item routes) may it touch this object? */
export interface Permission {
  hasPermission(request: FastifyRequest, view: APIView): boolean | Promise<boolean>;
  hasObjectPermission?(request: FastifyRequest, view: APIView, object: object): boolean | Promise<boolean>;
  /** Custom message of the 403. */
  message?: string;
}

/** A throttle: may this request go on now, and if not, in how many seconds? */
export interface Throttle {
  allowRequest(request: FastifyRequest, view: APIView): boolean | Promise<boolean>;
  wait(): number | null;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated user, or `null` (anonymous). */
    user: RequestUser | null;
    /** The credentials the user was authenticated with (a token, a session...). */
    auth: unknown;
    /** The authenticator that accepted the request. */
    successfulAuthenticator: Authenticator | null;
  }
}

/** Base of every API view: the policies as properties, each read through a `get*()` hook. */
export class APIView {
  /** Authentication schemes tried in order; `undefined` means the app's default. */
  authenticationClasses: Authenticator[] | undefined = undefined;
  /** Permissions that must all pass; `undefined` means the app's default (allow any). */
  permissionClasses: Permission[] | undefined = undefined;
  /** Throttles that must all allow the request. */
  throttleClasses: Throttle[] | undefined = undefined;
  /** Scope name for scoped throttles. */
  throttleScope: string | undefined = undefined;

  /** The authenticators of this request. */
  getAuthenticators(_request: FastifyRequest): Authenticator[] {
    return this.authenticationClasses ?? [];
  }

  /** The permissions of this request. */
  getPermissions(_request: FastifyRequest): Permission[] {
    return this.permissionClasses ?? [];
  }

  /** The throttles of this request. */
  getThrottles(_request: FastifyRequest): Throttle[] {
    return this.throttleClasses ?? [];
  }

  /** Runs the policies before the handler (DRF's `initial`). */
  async initial(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    await this.performContentNegotiation(request, reply);
    await this.performAuthentication(request);
    await this.checkPermissions(request);
    await this.checkThrottles(request);
  }

  /** Picks the renderer for this request; 406 when none fits. Renderers plug in here. */
  async performContentNegotiation(_request: FastifyRequest, _reply: FastifyReply): Promise<void> {}

  /** Sets `request.user` and `request.auth` from the first authenticator that accepts. */
  async performAuthentication(request: FastifyRequest): Promise<void> {
    request.user = null;
    request.auth = null;
    request.successfulAuthenticator = null;
    for (const authenticator of this.getAuthenticators(request)) {
      const result = await authenticator.authenticate(request);
      if (result) {
        request.user = result.user;
        request.auth = result.auth;
        request.successfulAuthenticator = authenticator;
        return;
      }
    }
  }

  /** Refuses the request unless every permission allows it. */
  async checkPermissions(request: FastifyRequest): Promise<void> {
    for (const permission of this.getPermissions(request)) {
      if (!(await permission.hasPermission(request, this))) this.permissionDenied(request, permission.message);
    }
  }

  /** Refuses access to one object unless every permission allows it (item routes). */
  async checkObjectPermissions(request: FastifyRequest, object: object): Promise<void> {
    for (const permission of this.getPermissions(request)) {
      if (permission.hasObjectPermission && !(await permission.hasObjectPermission(request, this, object))) {
        this.permissionDenied(request, permission.message);
      }
    }
  }

  /** 401 for an anonymous request when the first scheme can challenge, else 403 (DRF's rule). */
  permissionDenied(request: FastifyRequest, message?: string): never {
    if (request.user === null && request.successfulAuthenticator === null) {
      const challenge = this.getAuthenticators(request)[0]?.authenticateHeader?.(request);
      if (challenge) {
        const error = new NotAuthenticated();
        error.headers['www-authenticate'] = challenge;
        throw error;
      }
      if (this.getAuthenticators(request).length) {
        const error = new NotAuthenticated();
        (error as { status: number }).status = 403;
        throw error;
      }
    }
    throw new PermissionDenied(message);
  }

  /** 429 with `Retry-After` (the longest wait) when a throttle refuses. */
  async checkThrottles(request: FastifyRequest): Promise<void> {
    const waits: number[] = [];
    for (const throttle of this.getThrottles(request)) {
      if (!(await throttle.allowRequest(request, this))) waits.push(throttle.wait() ?? 0);
    }
    if (waits.length) throw new Throttled(Math.max(...waits));
  }
}
