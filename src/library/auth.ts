/**
 * The Library's security: who may do what (anyone reads books, members add and edit them, only
 * staff delete them), which schemes authenticate (session, basic, token), and throttling (a
 * log-in rate always; anonymous and per-user rates when configured; Redis when REDIS_URL is set).
 */
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { Redis } from 'ioredis';
import {
  AnonRateThrottle,
  BasePermission,
  BasicAuthentication,
  IsAuthenticatedOrReadOnly,
  RedisThrottleStore,
  SessionAuthentication,
  TokenAuthentication,
  UserRateThrottle,
  type RestSettings,
  type Throttle,
} from 'fastrest';

/** What the Library reads from its environment about security. */
export interface LibraryAuthConfig {
  /** SECRET_KEY (or the file SECRET_KEY_FILE names): signs cookies; without it a random key per process is used (sessions end on restart). */
  secretKey: string | null;
  /** REDIS_URL: keeps throttle history in Redis so limits hold across instances. */
  redisUrl: string | null;
  /** REDIS_PREFIX: the prefix of the keys written there (default `library:`), so apps can share one Redis. */
  redisPrefix: string;
  /** THROTTLE_ANON, THROTTLE_USER, THROTTLE_LOGIN: rates such as `100/min`; anon and user are off when unset. */
  rates: { anon: string | null; user: string | null; login: string };
}

/** Reads the security configuration from `env`. */
export function loadAuthConfig(env: NodeJS.ProcessEnv = process.env): LibraryAuthConfig {
  return {
    secretKey: env['SECRET_KEY'] || (env['SECRET_KEY_FILE'] ? readFileSync(env['SECRET_KEY_FILE'], 'utf8').trim() || null : null),
    redisUrl: env['REDIS_URL'] || null,
    redisPrefix: env['REDIS_PREFIX'] || 'library:',
    rates: { anon: env['THROTTLE_ANON'] || null, user: env['THROTTLE_USER'] || null, login: env['THROTTLE_LOGIN'] || '10/min' },
  };
}

let processSecret: string | undefined;

/** The secret of this process when SECRET_KEY is unset. */
function fallbackSecret(): string {
  processSecret ??= randomBytes(32).toString('base64url');
  return processSecret;
}

/** Only staff may delete; other methods pass (combined with IsAuthenticatedOrReadOnly). */
export class IsStaffToDelete extends BasePermission {
  override message: string | undefined = 'Only staff may delete books.';

  override hasPermission(request: FastifyRequest): boolean {
    return request.method !== 'DELETE' || Boolean(request.user?.isStaff);
  }

  override allowsAnonymous(method: string): boolean {
    return method !== 'DELETE';
  }
}

/** The Library's security settings, and what to close with the app (the Redis connection). */
export function librarySecurity(config: LibraryAuthConfig): { settings: Partial<RestSettings>; close(): Promise<void> } {
  // Bounded: a command fails after 500 ms or one reconnect attempt, and nothing queues while Redis is
  // away; the throttles then fail open (fastrest logs a warning per request and lets it through).
  const redis = config.redisUrl
    ? new Redis(config.redisUrl, { lazyConnect: false, maxRetriesPerRequest: 1, commandTimeout: 500, enableOfflineQueue: false, retryStrategy: (times) => Math.min(times * 100, 1000) })
    : null;
  // ioredis reports each failed reconnect as an 'error' event: without a listener it prints each to stderr.
  let lastWarning = 0;
  redis?.on('error', (error: Error) => {
    if (Date.now() - lastWarning < 10_000) return;
    lastWarning = Date.now();
    console.warn(`Redis (throttle store) unavailable, throttles fail open: ${error.message}`);
  });
  const throttles: Throttle[] = [];
  if (config.rates.anon) throttles.push(new AnonRateThrottle());
  if (config.rates.user) throttles.push(new UserRateThrottle());
  return {
    settings: {
      secretKey: config.secretKey ?? fallbackSecret(),
      // The token's row, not a Token entity, as `request.auth`: nothing here needs the entity.
      defaultAuthenticationClasses: [new SessionAuthentication(), new BasicAuthentication(), new TokenAuthentication({ auth: 'row' })],
      defaultPermissionClasses: [new IsAuthenticatedOrReadOnly()],
      defaultThrottleClasses: throttles,
      throttleRates: { anon: config.rates.anon, user: config.rates.user, login: config.rates.login },
      throttleStore: redis ? new RedisThrottleStore({ client: redis, prefix: config.redisPrefix }) : null,
    },
    close: async () => {
      // QUIT waits for Redis's answer: bounded, so a Redis that went away cannot hold up a shutdown.
      if (redis) await Promise.race([redis.quit(), new Promise((resolve) => setTimeout(resolve, 500).unref())]).catch(() => {});
      redis?.disconnect();
    },
  };
}
