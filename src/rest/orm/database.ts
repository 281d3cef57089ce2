/**
 * The database seam: one MikroORM instance per app, on PostgreSQL when a URL is given and on
 * embedded PGlite (the same SQL dialect) otherwise. A plugin gives each request its own
 * EntityManager fork and answers the readiness probe.
 */
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { EntityManager, EntitySchema, MikroORM } from '@mikro-orm/core';
import { Migrator } from '@mikro-orm/migrations';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import pg from 'pg';
import { ServiceUnavailable, SetupError } from '../exceptions.ts';
import { checkInternals, primaryPool, releaseBrokenClients } from './internals.ts';
import { replicaAwareEntityManager, replicaConnections } from './replicas.ts';

/** Where the data lives and which entities and migrations it holds. */
export interface DatabaseOptions {
  /** A `postgres://` URL; when absent, the embedded PGlite database is used. */
  url?: string;
  /** PGlite's `shared_buffers` (default `16MB`, PostgreSQL's is 128MB): the embedded database's page cache. */
  pgliteSharedBuffers?: string;
  /** PGlite's data folder, or `memory://` for a throw-away database. */
  dataDir?: string;
  entities: EntitySchema<any, any>[];
  /** Folder holding the TypeScript migrations. */
  migrationsPath: string;
  /**
   * `postgres://` URLs of read replicas: reads outside transactions go to one of them, picked at random,
   * until the EntityManager writes (`orm/replicas.ts`). PostgreSQL only.
   */
  replicaUrls?: readonly string[];
  /** Most connections the app opens to the primary, and to each replica (default 10). */
  poolSize?: number;
  /** How many times to try connecting to PostgreSQL before giving up (the database may still be starting). */
  connectAttempts?: number;
  /**
   * Milliseconds a request waits for a PostgreSQL connection (a new one, or a free one of the pool)
   * before failing with 503 (default 2000): an outage answers quickly instead of hanging.
   */
  connectTimeout?: number;
  debug?: boolean;
}

/** Which driver a set of options selects. */
export function driverOf(options: Pick<DatabaseOptions, 'url'>): 'postgresql' | 'pglite' {
  if (!options.url) return 'pglite';
  if (!/^postgres(ql)?:\/\//.test(options.url)) {
    throw new SetupError('FASTREST_ERR_DATABASE_URL', `expected a postgres:// URL, got "${options.url.replace(/\/\/[^@]*@/, '//***@')}"`);
  }
  return 'postgresql';
}

/**
 * Opens the database (retrying PostgreSQL while it starts) and returns the MikroORM instance, once
 * the internals the adapter uses are found in it (FASTREST_ERR_ORM_INTERNALS otherwise).
 */
export async function openDatabase(options: DatabaseOptions): Promise<MikroORM> {
  const orm = await connect(options);
  try {
    checkInternals(orm);
  } catch (error) {
    await orm.close(true);
    throw error;
  }
  return orm;
}

async function connect(options: DatabaseOptions): Promise<MikroORM> {
  const common = {
    entities: options.entities,
    extensions: [Migrator],
    // No snapshot files: makemigrations diffs the entities against the migrated database itself.
    migrations: { path: options.migrationsPath, pathTs: options.migrationsPath, emit: 'ts' as const, silent: true, snapshot: false },
    debug: options.debug ?? false,
    allowGlobalContext: false,
  };
  if (driverOf(options) === 'pglite') {
    if (options.replicaUrls?.length) throw new SetupError('FASTREST_ERR_DATABASE_URL', 'read replicas need a PostgreSQL primary (DATABASE_URL)');
    const { MikroORM: PgliteORM } = await import('@mikro-orm/pglite');
    const dataDir = options.dataDir ?? 'memory://';
    if (!dataDir.startsWith('memory:')) await mkdir(dirname(dataDir), { recursive: true });
    // PostgreSQL's default 128 MB of shared buffers become touched WASM memory as the cache fills; an
    // embedded database is small, and 16 MB keeps the process's RSS about 200 MiB lower (docs/performance.md).
    // PGlite's own defaults are kept (it is @mikro-orm/pglite's dependency; without it in reach, they are left alone).
    const defaults = await import('@electric-sql/pglite').then((m) => (m.PGlite as unknown as { defaultStartParams?: string[] }).defaultStartParams, () => undefined);
    const startParams = defaults && [...defaults, '-c', `shared_buffers=${options.pgliteSharedBuffers ?? '16MB'}`];
    return PgliteORM.init({ ...common, dbName: dataDir, ...(startParams ? { driverOptions: { startParams } } : {}) });
  }
  const { MikroORM: PostgresORM, EntityManager: PostgresEntityManager } = await import('@mikro-orm/postgresql');
  const replicated = options.replicaUrls?.length
    ? { replicas: replicaConnections(options.replicaUrls), entityManager: replicaAwareEntityManager(PostgresEntityManager) }
    : {};
  const attempts = options.connectAttempts ?? 1;
  for (let attempt = 1; ; attempt++) {
    const orm = await PostgresORM.init({
      ...common,
      ...replicated,
      clientUrl: options.url,
      pool: { min: 0, max: options.poolSize ?? 10 },
      // pg-pool drops a client whose connection broke when it is released, so the pool heals by itself
      // once the database is back; keepAlive notices a peer that vanished without closing.
      driverOptions: { connectionTimeoutMillis: options.connectTimeout ?? 2000, keepAlive: true },
    });
    // MikroORM 7's init() does not connect: connect() marks the pool open, checkConnection() queries.
    const check: { ok: boolean; reason?: string } = await orm.connect().then(
      () => orm.checkConnection(),
      (error: Error) => ({ ok: false, reason: error.message }),
    );
    if (check.ok) return orm;
    await orm.close(true);
    if (attempt >= attempts) throw new Error(`could not connect to PostgreSQL: ${check.reason ?? 'unknown reason'}`);
    await sleep(Math.min(250 * 2 ** attempt, 5000));
  }
}

/** The advisory lock `migrate` holds: one migrating process per database, whatever the number of replicas. */
export const MIGRATION_LOCK = 'fastrest:migrate';

/**
 * Applies every pending migration; returns the names applied. On PostgreSQL it holds the advisory
 * lock `MIGRATION_LOCK` meanwhile, so replicas starting together migrate one after the other: the
 * first applies the migrations, the others wait, then find none pending.
 */
export async function migrate(orm: MikroORM): Promise<string[]> {
  return withAdvisoryLock(orm, MIGRATION_LOCK, async () => (await orm.migrator.up()).map((m) => m.name));
}

/**
 * Runs `work` holding PostgreSQL's session advisory lock named `name` (`pg_advisory_lock(hashtext(name))`),
 * waiting for whoever holds it; released when `work` settles. The lock lives on a connection of its
 * own, made with the primary pool's options, so it takes none of the pool's (`work` may need them all).
 * On PGlite, which one process opens alone, `work` simply runs.
 */
export async function withAdvisoryLock<T>(orm: MikroORM, name: string, work: () => Promise<T>): Promise<T> {
  const pool = await primaryPool(orm);
  if (!pool) return work();
  const client = new pg.Client(pool.options as pg.ClientConfig);
  // A dropped lock connection must not take the process down; the lock ends with it.
  client.on('error', () => {});
  await client.connect();
  try {
    await client.query('select pg_advisory_lock(hashtext($1))', [name]);
    return await work();
  } finally {
    // Ending the session releases the lock.
    await client.end().catch(() => undefined);
  }
}

/** Whether the entities describe a schema that the migrations do not create. */
export async function schemaDrifted(orm: MikroORM): Promise<boolean> {
  return (orm.migrator as Migrator).checkSchema();
}

/** Whether the database answers a trivial query; a closed ORM never does (a query would silently reconnect it). */
export async function databaseAnswers(orm: MikroORM): Promise<boolean> {
  try {
    return await orm.isConnected();
  } catch {
    return false;
  }
}

/** Node's socket errors and pg's messages that mean the database cannot be reached. */
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
const UNREACHABLE_MESSAGES = /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection is closed|the database system is (starting up|shutting down|in recovery mode)|terminating connection due to administrator command|ECONNREFUSED|ECONNRESET|ETIMEDOUT/i;

/**
 * Whether `error` says the database is unreachable rather than the query wrong: a socket error, a
 * connection timeout, SQLSTATE class 08 (connection exception), 57P01-57P03 (the server shuts down or
 * is starting) or 53300 (too many connections).
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (let cause = error, depth = 0; cause instanceof Error && depth < 4; cause = cause.cause, depth++) {
    const { code, sqlState } = cause as { code?: unknown; sqlState?: unknown };
    const state = typeof sqlState === 'string' ? sqlState : typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : '';
    if (state.startsWith('08') || /^57P0[123]$/.test(state) || state === '53300') return true;
    if (typeof code === 'string' && UNREACHABLE_CODES.has(code)) return true;
    if (UNREACHABLE_MESSAGES.test(cause.message)) return true;
  }
  return false;
}

/** 503 with `Retry-After` when the database cannot be reached; nothing was written (each write is one transaction). */
export class DatabaseUnavailable extends ServiceUnavailable {
  constructor(retryAfter = 2) {
    super();
    this.headers['retry-after'] = String(retryAfter);
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The app's MikroORM instance. */
    orm: MikroORM;
  }
  interface FastifyRequest {
    /** An EntityManager forked for this request only. */
    em: EntityManager;
  }
}

const EM = Symbol('fastrest.em');

/** Decorates the app with `orm` and each request with a lazily forked `em`; closes the ORM on close. */
export const databasePlugin = fp(
  async function database(app: FastifyInstance, opts: { orm: MikroORM; closeOnExit?: boolean }) {
    app.decorate('orm', opts.orm);
    app.decorateRequest('em', {
      getter() {
        const request = this as unknown as { [EM]?: EntityManager };
        return (request[EM] ??= opts.orm.em.fork());
      },
    });
    if (opts.closeOnExit !== false) app.addHook('onClose', async () => opts.orm.close());
  },
  { name: 'fastrest-database', fastify: '5.x' },
);

/**
 * The EntityManager a read-only query of this request runs on: the request's own once it has one
 * (it may be in a transaction), else the app's, sparing a fork for requests that only read rows.
 */
export function readerOf(request: FastifyRequest): EntityManager {
  return (request as unknown as { [EM]?: EntityManager })[EM] ?? request.server.orm.em;
}

/**
 * Runs `work` in a database transaction on `em` (Django's `transaction.atomic`): committed when
 * it returns, rolled back when it throws. Inside an open transaction it simply joins it.
 */
export async function atomic<T>(em: EntityManager, work: () => Promise<T>): Promise<T> {
  if (em.isInTransaction()) return work();
  await em.begin();
  let result: T;
  try {
    result = await work();
  } catch (error) {
    await em.rollback().catch(async (rollbackError: Error) => {
      await releaseBrokenClients(em, rollbackError);
      throw error;
    });
    throw error;
  }
  try {
    await em.commit();
  } catch (error) {
    // A COMMIT on a cut connection fails without giving the connection back (see releaseBrokenClients).
    await releaseBrokenClients(em, error as Error);
    throw error;
  }
  return result;
}
