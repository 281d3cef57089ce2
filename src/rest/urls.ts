/**
 * URL names and absolute URLs: routers record each route under a name (`book-list`, `book-detail`)
 * and `reverse()` builds its absolute URL for the current request, as DRF's `reverse` does.
 */
import type { FastifyRequest } from 'fastify';

const ORIGIN = Symbol('fastrest.origin');

/** The scheme and host of a request, e.g. `http://127.0.0.1:3000` (worked out once per request). */
export function origin(request: FastifyRequest): string {
  // Kept on the request itself: a WeakMap keyed by short-lived requests costs the garbage collector more.
  const memo = request as FastifyRequest & { [ORIGIN]?: string };
  return (memo[ORIGIN] ??= `${request.protocol}://${request.host}`);
}

/** An absolute URL for a path on the same host as the request. */
export function absoluteUrl(request: FastifyRequest, path: string): string {
  return `${origin(request)}${path}`;
}

/**
 * The absolute URL of this request with some query parameters set or (with `null`) removed, the
 * others kept. The host is the request's as sent: an explicit `:80` stays, as in DRF's links.
 */
export function withQuery(request: FastifyRequest, changes: Record<string, string | number | null>): string {
  const url = new URL(request.url, 'http://path.only');
  for (const [key, value] of Object.entries(changes)) {
    if (value === null) url.searchParams.delete(key);
    else url.searchParams.set(key, String(value));
  }
  return `${origin(request)}${url.pathname}${url.search}`;
}

/** Route templates by name; filled by routers, read by views and renderers. */
export class UrlRegistry {
  readonly #templates = new Map<string, string>();
  /** Each template split at its parameters: literal parts at even indexes, parameter names at odd ones. */
  readonly #parts = new Map<string, string[]>();

  /** Records a route template such as `/api/books/:id/` under a name. */
  add(name: string, template: string): void {
    this.#templates.set(name, template);
    this.#parts.set(name, template.split(/:([A-Za-z_][A-Za-z0-9_]*)/));
  }

  has(name: string): boolean {
    return this.#templates.has(name);
  }

  names(): string[] {
    return [...this.#templates.keys()];
  }

  /**
   * The named route a path belongs to and its parameters (Django's `resolve`), or `null`. A
   * trailing slash is optional, as on the routes; a literal route wins over a parameterised one.
   */
  resolve(path: string): { name: string; params: Record<string, string> } | null {
    const wanted = path.endsWith('/') ? path : `${path}/`;
    let best: { name: string; params: Record<string, string>; literal: number } | null = null;
    for (const [name, template] of this.#templates) {
      const keys: string[] = [];
      const source = template
        .replace(/\/?$/, '/')
        .split(/(:[A-Za-z_][A-Za-z0-9_]*)/)
        .map((part) => (part.startsWith(':') ? (keys.push(part.slice(1)), '([^/]+)') : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
        .join('');
      const match = new RegExp(`^${source}$`).exec(wanted);
      if (!match) continue;
      const literal = template.replace(/:[A-Za-z_][A-Za-z0-9_]*/g, '').length;
      if (best && best.literal >= literal) continue;
      const params = Object.fromEntries(keys.map((key, i) => [key, decodeURIComponent(match[i + 1]!)]));
      best = { name, params, literal };
    }
    return best && { name: best.name, params: best.params };
  }

  /** The path of a named route with its parameters filled in; throws for an unknown name. */
  path(name: string, params: Record<string, string | number> = {}): string {
    const parts = this.#parts.get(name);
    if (parts === undefined) throw new Error(`no route named "${name}"`);
    let path = parts[0]!;
    for (let i = 1; i < parts.length; i += 2) {
      const value = params[parts[i]!];
      if (value === undefined) throw new Error(`route "${name}" needs parameter "${parts[i]}"`);
      // Integer keys (most lookups) need no escaping.
      path += (typeof value === 'number' && Number.isSafeInteger(value) ? String(value) : encodeURIComponent(String(value))) + parts[i + 1]!;
    }
    return path;
  }

  /** The absolute URL of a named route for this request. */
  reverse(request: FastifyRequest, name: string, params?: Record<string, string | number>): string {
    return absoluteUrl(request, this.path(name, params));
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Named routes of the app. */
    urls: UrlRegistry;
  }
}
