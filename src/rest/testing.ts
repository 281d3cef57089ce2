/**
 * Testing helpers: a throw-away database per test run (embedded PGlite in memory, or a fresh
 * PostgreSQL database when DATABASE_URL is set, dropped afterwards) and `APIClient`, a small
 * client over `app.inject()` that speaks JSON by default, as DRF's APIClient does.
 */
import { randomBytes } from 'node:crypto';
import type { MikroORM } from '@mikro-orm/core';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import pg from 'pg';
import type { User } from './auth/models.ts';
import { createToken } from './auth/users.ts';
import { migrate, openDatabase, type DatabaseOptions } from './orm.ts';

export { FaultProxy, type FaultMode } from './fault-proxy.ts';

/** A database made for one test run. */
export interface TestDatabase {
  orm: MikroORM;
  /** The URL of the PostgreSQL database made for the run; absent on PGlite. */
  url?: string;
  driver: 'pglite' | 'postgresql';
  /** Closes the ORM and drops what the run created. */
  drop(): Promise<void>;
}

/** Swaps the database name of a PostgreSQL URL. */
export function withDatabaseName(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}

/**
 * Opens a fresh, migrated database: PostgreSQL when `serverUrl` (default `DATABASE_URL`) is set,
 * otherwise PGlite in memory. Each call gets its own database.
 */
export async function createTestDatabase(
  options: Omit<DatabaseOptions, 'url' | 'dataDir'> & { serverUrl?: string; migrate?: boolean },
): Promise<TestDatabase> {
  const serverUrl = options.serverUrl ?? process.env['DATABASE_URL'];
  if (!serverUrl) {
    const orm = await openDatabase({ ...options, dataDir: 'memory://' });
    if (options.migrate !== false) await migrate(orm);
    return { orm, driver: 'pglite', drop: () => closeQuietly(orm) };
  }
  const name = `fastrest_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  await adminQuery(serverUrl, `create database "${name}"`);
  const url = withDatabaseName(serverUrl, name);
  const dropDatabase = () => adminQuery(serverUrl, `drop database if exists "${name}" with (force)`);
  let orm: MikroORM;
  try {
    orm = await openDatabase({ ...options, url });
    if (options.migrate !== false) await migrate(orm);
  } catch (error) {
    await dropDatabase();
    throw error;
  }
  return {
    orm,
    url,
    driver: 'postgresql',
    drop: async () => {
      await closeQuietly(orm);
      await dropDatabase();
    },
  };
}

async function closeQuietly(orm: MikroORM): Promise<void> {
  if (await orm.isConnected()) await orm.close(true);
}

async function adminQuery(serverUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** A response with its JSON body parsed (when there is one). */
export type APIResponse = LightMyRequestResponse & { data: any };

/** A file part of a `multipart` body sent by `APIClient`. */
export interface TestFile {
  filename: string;
  content: string | Buffer;
  contentType?: string;
}

function isTestFile(value: unknown): value is TestFile {
  return typeof value === 'object' && value !== null && 'filename' in value && 'content' in value;
}

function formEntries(body: unknown): [string, unknown][] {
  return Object.entries(body as Record<string, unknown>).flatMap(([key, value]) =>
    (Array.isArray(value) ? value : [value]).map((item): [string, unknown] => [key, item]),
  );
}

/** The payload and Content-Type of a body in one of `APIClient`'s formats. */
function encodeBody(body: unknown, format: NonNullable<RequestOptions['format']>): { payload: string | Buffer; contentType: string } {
  switch (format) {
    case 'raw':
      return { payload: body as string | Buffer, contentType: 'text/plain' };
    case 'form':
      return {
        payload: new URLSearchParams(formEntries(body).map(([key, value]): [string, string] => [key, value === null ? '' : String(value)])).toString(),
        contentType: 'application/x-www-form-urlencoded',
      };
    case 'multipart': {
      const boundary = `----fastrest${randomBytes(8).toString('hex')}`;
      const parts = formEntries(body).map(([key, value]) => {
        const name = key.replace(/"/g, '%22');
        if (isTestFile(value)) {
          const head = `--${boundary}\r\nContent-Disposition: form-data; name="${name}"; filename="${value.filename.replace(/"/g, '%22')}"\r\nContent-Type: ${value.contentType ?? 'application/octet-stream'}\r\n\r\n`;
          return Buffer.concat([Buffer.from(head), Buffer.from(value.content), Buffer.from('\r\n')]);
        }
        return Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value === null ? '' : String(value)}\r\n`);
      });
      return { payload: Buffer.concat([...parts, Buffer.from(`--${boundary}--\r\n`)]), contentType: `multipart/form-data; boundary=${boundary}` };
    }
    default:
      return { payload: JSON.stringify(body), contentType: 'application/json' };
  }
}

/** Options of one `APIClient` request. */
export interface RequestOptions {
  /** Query parameters. */
  query?: Record<string, string>;
  headers?: Record<string, string>;
  /**
   * How the body is encoded: `json` (default); `form` (urlencoded) and `multipart` (form-data), where
   * arrays repeat their key and `TestFile` values are file parts; `raw` sends it as is with the given Content-Type.
   */
  format?: 'json' | 'form' | 'multipart' | 'raw';
  contentType?: string;
}

/** DRF's APIClient over `app.inject()`: JSON bodies by default, parsed JSON answers, default headers. */
export class APIClient {
  readonly #app: FastifyInstance;
  #headers: Record<string, string> = {};

  constructor(app: FastifyInstance) {
    this.#app = app;
  }

  /** Headers sent with every later request, e.g. `Authorization`; `credentials({})` clears them. */
  credentials(headers: Record<string, string>): this {
    this.#headers = { ...headers };
    return this;
  }

  /**
   * Makes later requests as `user` (DRF's `force_authenticate`), through a real token issued for
   * them, so every policy still runs; `null` goes back to anonymous. Needs the auth entities.
   */
  async forceAuthenticate(user: User | null): Promise<this> {
    const { authorization: _, ...others } = this.#headers;
    this.#headers = others;
    if (user) this.#headers['authorization'] = `Token ${(await createToken(this.#app.orm.em.fork(), user)).key}`;
    return this;
  }

  get(url: string, options?: RequestOptions) {
    return this.request('GET', url, undefined, options);
  }
  head(url: string, options?: RequestOptions) {
    return this.request('HEAD', url, undefined, options);
  }
  options(url: string, options?: RequestOptions) {
    return this.request('OPTIONS', url, undefined, options);
  }
  post(url: string, body?: unknown, options?: RequestOptions) {
    return this.request('POST', url, body, options);
  }
  put(url: string, body?: unknown, options?: RequestOptions) {
    return this.request('PUT', url, body, options);
  }
  patch(url: string, body?: unknown, options?: RequestOptions) {
    return this.request('PATCH', url, body, options);
  }
  delete(url: string, options?: RequestOptions) {
    return this.request('DELETE', url, undefined, options);
  }

  /** Sends one request and parses a JSON answer into `data`. */
  async request(method: InjectOptions['method'], url: string, body?: unknown, options: RequestOptions = {}): Promise<APIResponse> {
    const headers: Record<string, string> = { ...this.#headers, ...options.headers };
    let payload: string | Buffer | undefined;
    if (body !== undefined) {
      const encoded = encodeBody(body, options.format ?? 'json');
      payload = encoded.payload;
      headers['content-type'] ??= options.contentType ?? encoded.contentType;
    }
    const response = (await this.#app.inject({ method, url, query: options.query, headers, payload })) as APIResponse;
    const type = String(response.headers['content-type'] ?? '');
    response.data = type.includes('json') && response.body ? JSON.parse(response.body) : undefined;
    return response;
  }
}
