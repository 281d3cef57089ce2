/**
 * Test helpers for authentication, permissions and throttling: real users and tokens in the test
 * database, a browser-like client that keeps cookies (for the log-in pages and sessions), and apps
 * with policies of the test's choosing on the Library's entities.
 */
import type { MikroORM } from '@mikro-orm/core';
import Fastify, { type FastifyInstance, type FastifyServerOptions, type LightMyRequestResponse } from 'fastify';
import type { Test } from 'tap';
import { migrationsPath } from '../src/library/config.ts';
import { entities, ReadingList } from '../src/library/entities.ts';
import {
  authPlugin,
  createTestDatabase,
  createToken,
  createUser,
  databasePlugin,
  DefaultRouter,
  fastrest,
  ModelSerializer,
  serverOptions,
  type GenericViewSet,
  type NewUser,
  type RestSettings,
  type User,
} from '../src/rest/index.ts';

/** The password every test user gets unless the test says otherwise. */
export const PASSWORD = 'correct-horse-battery';

/** A saved user with `PASSWORD`. */
export function makeUser(app: FastifyInstance, data: Partial<NewUser> & { username: string }): Promise<User> {
  return createUser(app.orm.em.fork(), { password: PASSWORD, ...data });
}

/** A new token key for a user. */
export async function tokenFor(app: FastifyInstance, user: User): Promise<string> {
  return (await createToken(app.orm.em.fork(), user)).key;
}

/** An `Authorization: Basic` value. */
export function basic(username: string, password = PASSWORD): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

/** The CSRF token a page's form carries. */
export function csrfFromHtml(html: string): string {
  const match = /name="csrfmiddlewaretoken" value="([^"]+)"/.exec(html);
  if (!match) throw new Error('no CSRF token in the page');
  return match[1]!;
}

/** A client that keeps cookies between requests, as a browser does. */
export class Browser {
  readonly app: FastifyInstance;
  readonly cookies = new Map<string, string>();

  constructor(app: FastifyInstance) {
    this.app = app;
  }

  /** Sends a request with the jar's cookies; stores the cookies the answer sets or clears. */
  async request(
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'OPTIONS',
    url: string,
    options: { form?: Record<string, string>; json?: unknown; headers?: Record<string, string> } = {},
  ): Promise<LightMyRequestResponse> {
    const headers: Record<string, string> = { ...options.headers };
    if (this.cookies.size) headers['cookie'] = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    let payload: string | undefined;
    if (options.form) {
      payload = new URLSearchParams(options.form).toString();
      headers['content-type'] = 'application/x-www-form-urlencoded';
    } else if (options.json !== undefined) {
      payload = JSON.stringify(options.json);
      headers['content-type'] = 'application/json';
    }
    const response = await this.app.inject({ method, url, headers, payload });
    for (const cookie of response.cookies as { name: string; value: string; maxAge?: number; expires?: Date }[]) {
      const expired = cookie.maxAge === 0 || (cookie.expires !== undefined && cookie.expires.getTime() <= Date.now()) || cookie.value === '';
      if (expired) this.cookies.delete(cookie.name);
      else this.cookies.set(cookie.name, cookie.value);
    }
    return response;
  }

  /** Logs in through the log-in page; answers the page's response to the form. */
  async login(username: string, password = PASSWORD, next = ''): Promise<LightMyRequestResponse> {
    const page = await this.request('GET', `/api-auth/login/${next ? `?next=${encodeURIComponent(next)}` : ''}`);
    return this.request('POST', '/api-auth/login/', { form: { username, password, next, csrfmiddlewaretoken: csrfFromHtml(page.body) } });
  }

  /** A fresh CSRF token for scripts (`X-CSRFToken`), taken from the log-in page. */
  async csrfToken(): Promise<string> {
    return csrfFromHtml((await this.request('GET', '/api-auth/login/')).body);
  }
}

/** A migrated test database, dropped when the test ends. */
export async function testDatabase(t: Test): Promise<MikroORM> {
  const db = await createTestDatabase({ entities, migrationsPath });
  t.teardown(() => db.drop());
  return db.orm;
}

/**
 * An app serving `viewsets` under `/api` with the auth plugin and the given settings, on `orm`
 * (which it does not close, so two apps may share one database). Closed when the test ends.
 */
export async function policyApp(
  t: Test,
  orm: MikroORM,
  viewsets: Record<string, GenericViewSet>,
  settings: Partial<RestSettings> = {},
  fastifyOptions: FastifyServerOptions = {},
  extra?: (app: FastifyInstance) => void,
): Promise<FastifyInstance> {
  const full: Partial<RestSettings> = { secretKey: 'a-test-secret-key-of-at-least-32-characters', ...settings };
  const app = Fastify({ ...serverOptions(full), ...fastifyOptions });
  await app.register(databasePlugin, { orm, closeOnExit: false });
  await app.register(fastrest, { settings: full });
  await app.register(authPlugin);
  const router = new DefaultRouter();
  for (const [prefix, viewset] of Object.entries(viewsets)) router.register(prefix, viewset);
  await app.register(router.plugin('/api'));
  extra?.(app);
  await app.ready();
  t.teardown(() => app.close());
  return app;
}

/** Reading lists with their own columns only (no links): for views registered under any name. */
export class PlainListSerializer extends ModelSerializer.for(ReadingList, {
  name: 'PlainReadingList',
  fields: ['id', 'name', 'description', 'isPublic', 'createdAt', 'updatedAt'],
  readOnlyFields: ['id', 'createdAt', 'updatedAt'],
}) {}

/** A clock tests move by hand. */
export class FakeClock {
  seconds = 1_000_000;
  readonly now = () => this.seconds;

  advance(seconds: number): void {
    this.seconds += seconds;
  }
}
