/**
 * Authentication schemes, as DRF's `authentication.py`: each reads its credentials from the
 * request and answers the user, `null` to let the next scheme try, or throws `AuthenticationFailed`
 * (401 when the view's first scheme can challenge, else 403). Session (a signed cookie, with CSRF
 * enforced on unsafe methods), HTTP Basic and tokens (`Token <key>` or `Bearer <key>`).
 */
import '@fastify/cookie';
import { createHmac, randomBytes } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { enforceCsrf } from './auth/csrf.ts';
import type { AuthConfig } from './auth/config.ts';
import type { User } from './auth/models.ts';
import { checkCredentials, findToken, findUser, findTokenRow, readTokenRows, sessionUser, type TokenRow } from './auth/users.ts';
import { readerOf } from './orm.ts';
import { AuthenticationFailed } from './exceptions.ts';
import { LazyUser, type AuthResult, type Authenticator } from './views.ts';

export type { AuthResult } from './views.ts';

/** What `authenticate` answers: without a promise when it can tell without I/O (no credentials of its kind). */
export type AuthAnswer = AuthResult | null | Promise<AuthResult | null>;

/** Base class of authentication schemes: override `authenticate`, and `authenticateHeader` to challenge. */
export abstract class BaseAuthentication implements Authenticator {
  /** The user of the request, `null` when these credentials are absent, or throws when they are wrong. */
  abstract authenticate(request: FastifyRequest): AuthAnswer;

  /** The `WWW-Authenticate` value of a 401; none makes unauthenticated requests 403s. */
  authenticateHeader(_request: FastifyRequest): string | undefined {
    return undefined;
  }

  /** The OpenAPI security scheme this authenticator stands for (Swagger UI's Authorize dialog). */
  getSecurityScheme(): { name: string; scheme: Record<string, unknown> } | null {
    return null;
  }

  /** What the browsable API shows for this scheme (such as a log-in link), or null. */
  toHtml(_request: FastifyRequest): { template: string; context: Record<string, unknown> } | null {
    return null;
  }
}

/** The `Authorization` header split on spaces, as DRF's `get_authorization_header().split()`. */
function authorizationParts(request: FastifyRequest): string[] {
  const header = request.headers.authorization;
  return typeof header === 'string' ? header.split(/\s+/).filter(Boolean) : [];
}

function requireActive(user: User): User {
  if (!user.isActive) throw new AuthenticationFailed('User inactive or deleted.');
  return user;
}

/**
 * The browser's scheme: the user of the signed `sessionid` cookie the log-in page set. Unsafe
 * methods must carry a CSRF token (`X-CSRFToken` or the `csrfmiddlewaretoken` form field).
 */
export class SessionAuthentication extends BaseAuthentication {
  authenticate(request: FastifyRequest): AuthAnswer {
    const config = request.server.authConfig;
    if (!config) return null;
    const raw = request.cookies?.[config.sessionCookieName];
    if (!raw) return null;
    const unsigned = request.unsignCookie(raw);
    if (!unsigned.valid || !unsigned.value) return null;
    return this.#userOf(request, config, unsigned.value);
  }

  async #userOf(request: FastifyRequest, config: Readonly<AuthConfig>, session: string): Promise<AuthResult | null> {
    const user = await sessionUser(request.em, session, config.secretKey);
    if (!user || !user.isActive) return null;
    enforceCsrf(request, config.csrf);
    return { user, auth: null };
  }

  override getSecurityScheme() {
    return { name: 'cookieAuth', scheme: { type: 'apiKey', in: 'cookie', name: 'sessionid', description: 'The session cookie set by the log-in page.' } };
  }

  override toHtml(request: FastifyRequest) {
    const config = request.server.authConfig;
    return config ? { template: 'login-link', context: { loginUrl: config.loginUrl, logoutUrl: config.logoutUrl } } : null;
  }
}

/** HTTP Basic: `Authorization: Basic base64(username:password)`; challenges with `Basic realm="api"`. */
export class BasicAuthentication extends BaseAuthentication {
  /** The realm named in the challenge. */
  realm = 'api';

  authenticate(request: FastifyRequest): AuthAnswer {
    const parts = authorizationParts(request);
    if (!parts.length || parts[0]!.toLowerCase() !== 'basic') return null;
    return this.#credentialsOf(request, parts);
  }

  async #credentialsOf(request: FastifyRequest, parts: string[]): Promise<AuthResult> {
    if (parts.length === 1) throw new AuthenticationFailed('Invalid basic header. No credentials provided.');
    if (parts.length > 2) throw new AuthenticationFailed('Invalid basic header. Credentials string should not contain spaces.');
    const encoded = parts[1]!;
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded) || encoded.length % 4 !== 0) {
      throw new AuthenticationFailed('Invalid basic header. Credentials not correctly base64 encoded.');
    }
    const decoded = Buffer.from(encoded, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const username = colon === -1 ? decoded : decoded.slice(0, colon);
    const password = colon === -1 ? '' : decoded.slice(colon + 1);
    return this.authenticateCredentials(request, username, password);
  }

  /**
   * Seconds a verified username and password are remembered, so repeated requests skip the scrypt
   * hash (about 100 ms of CPU each under load); `0` verifies every request. An entry holds only an
   * HMAC of the credentials under a per-process key and the password hash it was checked against,
   * so changing the password ends it at once.
   */
  verifiedCacheSeconds = 60;
  /** Most credentials remembered; the oldest go first. */
  verifiedCacheSize = 1000;
  readonly #verified = new Map<string, { hash: string; expires: number }>();
  readonly #cacheKey = randomBytes(32);

  /** Checks a username and password (DRF's `authenticate_credentials`). */
  async authenticateCredentials(request: FastifyRequest, username: string, password: string): Promise<AuthResult> {
    const key = this.verifiedCacheSeconds > 0 ? createHmac('sha256', this.#cacheKey).update(username).update('\0').update(password).digest('base64') : null;
    const cached = key === null ? undefined : this.#verified.get(key);
    if (cached && cached.expires > Date.now()) {
      const user = await findUser(request.em, username);
      if (user && user.password === cached.hash) return { user: requireActive(user), auth: null };
    }
    if (cached) this.#verified.delete(key!);
    const user = await checkCredentials(request.em, username, password);
    if (!user) throw new AuthenticationFailed('Invalid username/password.');
    if (key !== null) {
      this.#verified.set(key, { hash: user.password, expires: Date.now() + this.verifiedCacheSeconds * 1000 });
      if (this.#verified.size > this.verifiedCacheSize) this.#verified.delete(this.#verified.keys().next().value!);
    }
    return { user: requireActive(user), auth: null };
  }

  override authenticateHeader(): string {
    return `Basic realm="${this.realm}"`;
  }

  override getSecurityScheme() {
    return { name: 'basicAuth', scheme: { type: 'http', scheme: 'basic' } };
  }
}

/** Options of `TokenAuthentication`. */
export interface TokenAuthenticationOptions {
  /** Keywords accepted before the key; the first one is the challenge. Default `Token` and `Bearer`. */
  keywords?: readonly string[];
  /**
   * What `request.auth` is: the managed `Token` entity (`'entity'`, the default, as DRF's token
   * instance), or its `TokenRow` (`'row'`: id, keyHash, prefix, created, user), which spares making
   * one entity per request. `request.user` is the User entity either way; the log-out view and
   * `revokeTokens` take both.
   */
  auth?: 'entity' | 'row';
}

/** Tokens: `Authorization: Token <key>` (or `Bearer <key>`); keys are looked up by their SHA-256. */
export class TokenAuthentication extends BaseAuthentication {
  keywords: readonly string[];
  /** What `request.auth` is (see `TokenAuthenticationOptions.auth`). */
  auth: 'entity' | 'row';

  constructor(options: TokenAuthenticationOptions = {}) {
    super();
    this.keywords = options.keywords ?? ['Token', 'Bearer'];
    this.auth = options.auth ?? 'entity';
  }

  authenticate(request: FastifyRequest): AuthAnswer {
    const parts = authorizationParts(request);
    if (!parts.length || !this.keywords.some((k) => k.toLowerCase() === parts[0]!.toLowerCase())) return null;
    return this.#keyOf(request, parts);
  }

  async #keyOf(request: FastifyRequest, parts: string[]): Promise<AuthResult> {
    if (parts.length === 1) throw new AuthenticationFailed('Invalid token header. No credentials provided.');
    if (parts.length > 2) throw new AuthenticationFailed('Invalid token header. Token string should not contain spaces.');
    if (!/^[\x21-\x7e]+$/.test(parts[1]!)) throw new AuthenticationFailed('Invalid token header. Token string should not contain invalid characters.');
    return this.authenticateCredentials(request, parts[1]!);
  }

  /**
   * Looks a key up (DRF's `authenticate_credentials`). With `auth: 'row'` and a direct read, no
   * entity is made and the request's EntityManager is not forked: `request.user` is a `LazyUser`.
   */
  async authenticateCredentials(request: FastifyRequest, key: string): Promise<AuthResult> {
    if (this.auth === 'row') {
      const rows = await readTokenRows(readerOf(request), key);
      if (rows !== undefined) {
        if (!rows?.user) throw new AuthenticationFailed('Invalid token.');
        requireActive(rows.user as unknown as User);
        const user = new LazyUser(() => rows.make(request.em));
        const auth: TokenRow = Object.defineProperty(rows.token, 'user', { get: () => request.user, enumerable: true, configurable: true }) as TokenRow;
        return { user, auth };
      }
    }
    const token = this.auth === 'row' ? await findTokenRow(request.em, key) : await findToken(request.em, key);
    if (!token) throw new AuthenticationFailed('Invalid token.');
    return { user: requireActive(token.user as unknown as User), auth: token };
  }

  override authenticateHeader(): string {
    return this.keywords[0] ?? 'Token';
  }

  /**
   * The scheme as clients send it: an `Authorization` API key whose value starts with the first
   * keyword (`Token <key>`, so Swagger UI's curl matches the docs), or HTTP bearer when `Bearer` comes first.
   */
  override getSecurityScheme() {
    const [first = 'Token', ...others] = this.keywords;
    if (first.toLowerCase() === 'bearer') {
      return { name: 'tokenAuth', scheme: { type: 'http', scheme: 'bearer', description: 'A key from the obtain-token endpoint, sent as `Authorization: Bearer <key>`.' } };
    }
    const also = others.length ? ` (${others.map((k) => `\`${k} <key>\``).join(' or ')} is accepted too)` : '';
    const description = `A key from the obtain-token endpoint, sent as \`Authorization: ${first} <key>\`${also}. In Swagger UI, enter \`${first} <key>\` as the value.`;
    return { name: 'tokenAuth', scheme: { type: 'apiKey', in: 'header', name: 'Authorization', description } };
  }
}
