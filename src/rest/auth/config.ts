/**
 * The auth plugin's resolved configuration, `app.authConfig`: what the session scheme, the CSRF
 * check and the browsable page read of the log-in URLs, the session cookie and the secret key.
 */
import type { CsrfOptions } from './csrf.ts';

/** The resolved options, as `app.authConfig`. */
export interface AuthConfig {
  secretKey: string;
  loginUrl: string;
  logoutUrl: string;
  loginRedirectUrl: string;
  tokenUrl: string | null;
  sessionCookieName: string;
  sessionCookieAge: number;
  loginThrottleScope: string;
  csrf: CsrfOptions;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The auth plugin's resolved options; absent without the plugin. */
    authConfig: Readonly<AuthConfig>;
  }
}
