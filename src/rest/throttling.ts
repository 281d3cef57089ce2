/**
 * Throttling, as DRF's `throttling.py`: each throttle keeps a sliding window of request times per
 * client in a store (memory for one process, Redis so a limit holds across app instances) and
 * refuses a request when the window is full, saying how long to wait. Time comes from `now()`.
 * A store that fails (Redis down) fails open: the request passes and a warning is logged.
 */
import type { FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import { SetupError } from './exceptions.ts';
import type { RestSettings } from './settings.ts';
import { hasUser, type APIView, type Throttle } from './views.ts';

/** What a store answers for one request: recorded or refused, and the wait when refused. */
export interface ThrottleHit {
  allowed: boolean;
  /** Seconds until the window has room again (DRF's `wait()`); `null` when allowed. */
  wait: number | null;
}

/** Keeps request times per key; `hit` checks and records atomically. */
export interface ThrottleStore {
  /** Records a request at `now` unless `limit` requests already fall within the last `duration` seconds. */
  hit(key: string, now: number, duration: number, limit: number): Promise<ThrottleHit>;
  /** Forgets every key (tests, or after changing rates). */
  clear(): Promise<void>;
}

declare module './settings.ts' {
  interface RestSettings {
    /** Where throttles keep request history; `null` gives each app its own memory store. */
    throttleStore: ThrottleStore | null;
  }
}

/** `limit` requests per `duration` seconds, from a rate such as `100/min`, `1000/day` or `5/10s`. */
export interface Rate {
  limit: number;
  duration: number;
}

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** Parses a rate: a count, a slash, an optional multiplier and a unit whose first letter is s, m, h or d. */
export function parseRate(rate: string): Rate {
  const match = /^\s*(\d+)\s*\/\s*(\d*)\s*([smhd])[a-z]*\s*$/i.exec(rate);
  const limit = Number(match?.[1]);
  const multiplier = match?.[2] ? Number(match[2]) : 1;
  if (!match || !Number.isSafeInteger(limit) || multiplier < 1) {
    throw new SetupError('FASTREST_ERR_THROTTLE_RATE', `"${rate}" is not a rate such as "100/min" or "1000/day"`);
  }
  return { limit, duration: multiplier * UNITS[match[3]!.toLowerCase()]! };
}

/** DRF's wait: the time until the oldest request in the window leaves it. */
function waitFor(history: number[], now: number, duration: number, limit: number): number | null {
  const available = limit - history.length + 1;
  if (available <= 0 || history.length === 0) return null;
  return (duration - (now - history[0]!)) / available;
}

/** Request history in this process's memory: right for one instance and for tests. */
export class MemoryThrottleStore implements ThrottleStore {
  readonly #windows = new Map<string, { history: number[]; duration: number }>();
  #hits = 0;

  async hit(key: string, now: number, duration: number, limit: number): Promise<ThrottleHit> {
    if (++this.#hits % 1000 === 0) this.#sweep(now);
    const window = this.#windows.get(key) ?? { history: [], duration };
    window.duration = duration;
    const history = window.history.filter((time) => time > now - duration);
    window.history = history;
    this.#windows.set(key, window);
    if (history.length >= limit) return { allowed: false, wait: waitFor(history, now, duration, limit) };
    history.push(now);
    return { allowed: true, wait: null };
  }

  async clear(): Promise<void> {
    this.#windows.clear();
  }

  /** Drops keys whose newest request has left its window, so memory stays bounded. */
  #sweep(now: number): void {
    for (const [key, { history, duration }] of this.#windows) {
      if (!history.length || history[history.length - 1]! <= now - duration) this.#windows.delete(key);
    }
  }
}

/** One round trip: drop what left the window, count, then record or answer the oldest time. */
const HIT_SCRIPT = `
local key = KEYS[1]
local now = tonumber(ARGV[1])
local duration = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - duration)
local count = redis.call('ZCARD', key)
if count < limit then
  redis.call('ZADD', key, now, ARGV[4])
  redis.call('PEXPIRE', key, math.ceil(duration * 1000))
  return {1, count + 1, ''}
end
local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
return {0, count, oldest[2]}
`;

type HitCommand = (key: string, now: string, duration: string, limit: string, member: string) => Promise<[number, number, string]>;

/** Request history in Redis, shared by every app instance; each hit is one atomic Lua script. */
export class RedisThrottleStore implements ThrottleStore {
  /** The ioredis client; the caller owns it (and closes it). */
  readonly client: Redis;
  /** Prefix of every key this store writes. */
  readonly prefix: string;
  #sequence = 0;

  constructor(options: { client: Redis; prefix?: string }) {
    this.client = options.client;
    this.prefix = options.prefix ?? 'fastrest:';
    if (!(this.client as unknown as { fastrestThrottleHit?: unknown }).fastrestThrottleHit) {
      this.client.defineCommand('fastrestThrottleHit', { numberOfKeys: 1, lua: HIT_SCRIPT });
    }
  }

  async hit(key: string, now: number, duration: number, limit: number): Promise<ThrottleHit> {
    const command = (this.client as unknown as { fastrestThrottleHit: HitCommand }).fastrestThrottleHit.bind(this.client);
    const member = `${now}:${process.pid}:${++this.#sequence}:${Math.random().toString(36).slice(2, 8)}`;
    const [allowed, count, oldest] = await command(this.prefix + key, String(now), String(duration), String(limit), member);
    if (allowed === 1) return { allowed: true, wait: null };
    const available = limit - count + 1;
    return { allowed: false, wait: available > 0 ? (duration - (now - Number(oldest))) / available : null };
  }

  /** Deletes every key under the prefix. */
  async clear(): Promise<void> {
    let cursor = '0';
    do {
      const [next, keys] = await this.client.scan(cursor, 'MATCH', `${this.prefix}*`, 'COUNT', 500);
      if (keys.length) await this.client.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  }
}

const defaultStores = new WeakMap<object, ThrottleStore>();

/** The store of throttles that name none: the app's `throttleStore` setting, else one memory store per app. */
export function defaultThrottleStore(settings: Readonly<RestSettings>): ThrottleStore {
  if (settings.throttleStore) return settings.throttleStore;
  let store = defaultStores.get(settings);
  if (!store) defaultStores.set(settings, (store = new MemoryThrottleStore()));
  return store;
}

/** Base class of throttles: override `allowRequest`; `wait` answers for the request just refused. */
export abstract class BaseThrottle implements Throttle {
  readonly #waits = new WeakMap<FastifyRequest, number | null>();

  /** Whether the request may go on now. */
  abstract allowRequest(request: FastifyRequest, view: APIView): Promise<boolean>;

  /** Seconds to wait before `request` would be allowed, or `null` when unknown. */
  wait(request: FastifyRequest): number | null {
    return this.#waits.get(request) ?? null;
  }

  /** Remembers the wait of a refused request (for `wait`). */
  protected refuse(request: FastifyRequest, wait: number | null): false {
    this.#waits.set(request, wait);
    return false;
  }

  /** The client's address: `request.ip`, which follows X-Forwarded-For only through Fastify's `trustProxy`. */
  getIdent(request: FastifyRequest): string {
    return request.ip;
  }

  /** What the throttle adds to an operation's OpenAPI responses. */
  getOpenApiResponses(): Record<number, unknown> {
    return { 429: { description: 'Throttled: retry after the number of seconds in `Retry-After`.', $ref: 'ErrorDetail#' } };
  }

  /** What the browsable API shows about this throttle, or null. */
  toHtml(_request: FastifyRequest, _view: APIView): { template: string; context: Record<string, unknown> } | null {
    return null;
  }
}

/** Options of a rate throttle; each is a typed property of the throttle too. */
export interface RateThrottleOptions {
  /** The rate, e.g. `100/min`; default: the app's `throttleRates[scope]`; `null` turns the throttle off. */
  rate?: string | null;
  /** The scope naming the rate and the keys. */
  scope?: string;
  /** Where the history is kept; default: the app's throttle store. */
  store?: ThrottleStore;
  /** The clock in seconds (DRF's `timer`); tests pass a fake one. */
  now?: () => number;
  /** Milliseconds to wait for the store before letting the request through (default 500). */
  storeTimeout?: number;
}

/**
 * Asks the store, failing open: a store that errs or does not answer within `timeout` ms (Redis
 * down) lets the request through with a warning, rather than failing every request with it.
 */
async function hitOrFailOpen(request: FastifyRequest, store: ThrottleStore, timeout: number, ...args: Parameters<ThrottleStore['hit']>): Promise<ThrottleHit> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      store.hit(...args),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`the throttle store did not answer within ${timeout} ms`)), timeout);
      }),
    ]);
  } catch (error) {
    request.log.warn({ err: error }, 'throttle store unavailable: request allowed without throttling');
    return { allowed: true, wait: null };
  } finally {
    clearTimeout(timer);
  }
}

/** DRF's `SimpleRateThrottle`: a rate, a cache key per request, a sliding window in the store. */
export abstract class SimpleRateThrottle extends BaseThrottle {
  scope: string | undefined;
  rate: string | null | undefined;
  store: ThrottleStore | undefined;
  now: () => number;
  storeTimeout: number;

  constructor(options: RateThrottleOptions = {}) {
    super();
    this.scope = options.scope;
    this.rate = options.rate;
    this.store = options.store;
    this.now = options.now ?? (() => Date.now() / 1000);
    this.storeTimeout = options.storeTimeout ?? 500;
  }

  /** The key of this request's window, or `null` to leave the request alone. */
  abstract getCacheKey(request: FastifyRequest, view: APIView): string | null;

  /** The scope of this request. */
  getScope(_request: FastifyRequest, _view: APIView): string | undefined {
    return this.scope;
  }

  /** The rate of this request: the throttle's own, else the app's rate for the scope. */
  getRate(request: FastifyRequest, view: APIView): string | null {
    if (this.rate !== undefined) return this.rate;
    const scope = this.getScope(request, view);
    const rates = request.server.restSettings.throttleRates;
    if (scope === undefined || !(scope in rates)) {
      throw new SetupError('FASTREST_ERR_THROTTLE_RATE', `no throttle rate is set for the "${scope}" scope (settings.throttleRates)`);
    }
    return rates[scope] ?? null;
  }

  /** The store of this request. */
  getStore(request: FastifyRequest): ThrottleStore {
    return this.store ?? defaultThrottleStore(request.server.restSettings);
  }

  /** `throttle_{scope}_{ident}`, as DRF's cache keys. */
  protected formatKey(scope: string | undefined, ident: string | number): string {
    return `throttle_${scope ?? ''}_${ident}`;
  }

  async allowRequest(request: FastifyRequest, view: APIView): Promise<boolean> {
    const rate = this.getRate(request, view);
    if (rate === null) return true;
    const key = this.getCacheKey(request, view);
    if (key === null) return true;
    const { limit, duration } = parseRate(rate);
    const hit = await hitOrFailOpen(request, this.getStore(request), this.storeTimeout, key, this.now(), duration, limit);
    return hit.allowed || this.refuse(request, hit.wait);
  }
}

/** Limits anonymous requests by client address (scope `anon`); authenticated requests pass. */
export class AnonRateThrottle extends SimpleRateThrottle {
  constructor(options: RateThrottleOptions = {}) {
    super({ scope: 'anon', ...options });
  }

  getCacheKey(request: FastifyRequest, view: APIView): string | null {
    if (hasUser(request)) return null;
    return this.formatKey(this.getScope(request, view), this.getIdent(request));
  }
}

/** Limits each user (scope `user`), and anonymous requests by client address. */
export class UserRateThrottle extends SimpleRateThrottle {
  constructor(options: RateThrottleOptions = {}) {
    super({ scope: 'user', ...options });
  }

  getCacheKey(request: FastifyRequest, view: APIView): string | null {
    const ident = request.user ? request.user.id : this.getIdent(request);
    return this.formatKey(this.getScope(request, view), ident);
  }
}

/** Limits by the view's `throttleScope`, with that scope's rate; views without a scope pass. */
export class ScopedRateThrottle extends SimpleRateThrottle {
  override getScope(_request: FastifyRequest, view: APIView): string | undefined {
    return this.scope ?? view.throttleScope;
  }

  override async allowRequest(request: FastifyRequest, view: APIView): Promise<boolean> {
    if (this.getScope(request, view) === undefined) return true;
    return super.allowRequest(request, view);
  }

  getCacheKey(request: FastifyRequest, view: APIView): string | null {
    const ident = request.user ? request.user.id : this.getIdent(request);
    return this.formatKey(this.getScope(request, view), ident);
  }
}
