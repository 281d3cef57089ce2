/**
 * CSRF protection for cookie-authenticated requests, as Django's: a secret in a signed cookie,
 * tokens made from it (@fastify/csrf) that pages put in forms (`csrfmiddlewaretoken`) and scripts
 * send as `X-CSRFToken`, and an Origin check. Failures are DRF's `CSRF Failed: <reason>` 403s.
 */
import '@fastify/cookie';
import Tokens from '@fastify/csrf';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { PermissionDenied } from '../exceptions.ts';

/** Names and origins of the CSRF check; the auth plugin resolves them. */
export interface CsrfOptions {
  /** The cookie holding the secret. */
  cookieName: string;
  /** The header scripts send the token in (lower case). */
  headerName: string;
  /** The form field pages send the token in. */
  fieldName: string;
  /** Origins other than the request's own that may send unsafe requests, e.g. `https://admin.example.com`. */
  trustedOrigins: readonly string[];
}

export const defaultCsrfOptions: Readonly<CsrfOptions> = Object.freeze({
  cookieName: 'csrftoken',
  headerName: 'x-csrftoken',
  fieldName: 'csrfmiddlewaretoken',
  trustedOrigins: [],
});

const tokens = Tokens();
const SECRET = Symbol('fastrest.csrfSecret');
/** Marks a request whose token travels in its form body, so it is checked once the body is parsed. */
export const CSRF_PENDING = Symbol('fastrest.csrfPending');

type CsrfRequest = FastifyRequest & { [SECRET]?: string; [CSRF_PENDING]?: boolean };

/** Methods that never change anything, so need no CSRF token. */
export function isSafeMethod(method: string): boolean {
  return method === 'GET' || method === 'HEAD' || method === 'OPTIONS' || method === 'TRACE';
}

function secretOf(request: CsrfRequest, options: CsrfOptions): string | undefined {
  if (request[SECRET]) return request[SECRET];
  const raw = request.cookies?.[options.cookieName];
  if (!raw) return undefined;
  const unsigned = request.unsignCookie(raw);
  return unsigned.valid && unsigned.value ? unsigned.value : undefined;
}

/** A token for the forms and scripts of this page; sets the secret cookie when there is none yet. */
export function csrfToken(request: FastifyRequest, reply: FastifyReply, options: CsrfOptions = defaultCsrfOptions): string {
  const req = request as CsrfRequest;
  let secret = secretOf(req, options);
  if (!secret) secret = rotateCsrfSecret(request, reply, options);
  return tokens.create(secret);
}

/** The options of fastrest's own cookies (session and CSRF secret): signed, HttpOnly, SameSite=Lax, Secure over HTTPS. */
export function authCookieOptions(request: FastifyRequest, maxAge: number) {
  return { signed: true, httpOnly: true, sameSite: 'lax' as const, secure: request.protocol === 'https', path: '/', maxAge };
}

/** Replaces the secret (on log-in, as Django does), so tokens taken before no longer pass. */
export function rotateCsrfSecret(request: FastifyRequest, reply: FastifyReply, options: CsrfOptions = defaultCsrfOptions): string {
  const secret = tokens.secretSync();
  (request as CsrfRequest)[SECRET] = secret;
  reply.setCookie(options.cookieName, secret, authCookieOptions(request, 365 * 24 * 3600));
  return secret;
}

function fail(reason: string): never {
  throw new PermissionDenied(`CSRF Failed: ${reason}`, 'permission_denied');
}

/** Refuses an unsafe request whose Origin (or, over HTTPS, Referer) is neither the app's nor trusted. */
export function checkOrigin(request: FastifyRequest, options: CsrfOptions): void {
  const own = `${request.protocol}://${request.host}`;
  const origin = request.headers.origin;
  if (origin !== undefined) {
    if (origin !== own && !options.trustedOrigins.includes(origin)) fail(`Origin checking failed - ${origin} does not match any trusted origins.`);
    return;
  }
  if (request.protocol !== 'https') return;
  const referer = request.headers.referer;
  if (!referer) fail('Referer checking failed - no Referer.');
  let refererOrigin: string;
  try {
    refererOrigin = new URL(referer).origin;
  } catch {
    return fail('Referer checking failed - Referer is malformed.');
  }
  if (refererOrigin !== own && !options.trustedOrigins.includes(refererOrigin)) {
    fail(`Referer checking failed - ${referer} does not match any trusted origins.`);
  }
}

/** Refuses the request unless `token` was made from the secret in its cookie. */
export function checkCsrfToken(request: FastifyRequest, token: unknown, options: CsrfOptions): void {
  const secret = secretOf(request as CsrfRequest, options);
  if (!secret) fail('CSRF cookie not set.');
  if (typeof token !== 'string' || token === '') fail('CSRF token missing.');
  if (!tokens.verify(secret, token)) fail('CSRF token incorrect.');
}

/** The token a form body carries (urlencoded, or multipart with fields attached to the body). */
export function formToken(body: unknown, options: CsrfOptions): unknown {
  if (!body || typeof body !== 'object') return undefined;
  const value = (body as Record<string, unknown>)[options.fieldName];
  return value && typeof value === 'object' && 'value' in value ? (value as { value: unknown }).value : value;
}

/**
 * DRF's `enforce_csrf` for an unsafe request: the Origin check, then the header token now, or the
 * form field once the body is parsed (the auth plugin's preValidation hook finishes the check).
 */
export function enforceCsrf(request: FastifyRequest, options: CsrfOptions): void {
  if (isSafeMethod(request.method)) return;
  checkOrigin(request, options);
  const header = request.headers[options.headerName];
  if (typeof header === 'string' && header !== '') return checkCsrfToken(request, header, options);
  const type = String(request.headers['content-type'] ?? '');
  if (/^(application\/x-www-form-urlencoded|multipart\/form-data)\b/i.test(type)) {
    (request as CsrfRequest)[CSRF_PENDING] = true;
    return;
  }
  checkCsrfToken(request, undefined, options);
}

/** Finishes a check `enforceCsrf` left for the parsed form body. */
export function finishPendingCsrf(request: FastifyRequest, options: CsrfOptions): void {
  const req = request as CsrfRequest;
  if (!req[CSRF_PENDING]) return;
  req[CSRF_PENDING] = false;
  checkCsrfToken(request, formToken(request.body, options), options);
}
