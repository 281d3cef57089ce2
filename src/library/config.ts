/**
 * The Library's configuration, read from the environment when the app starts.
 */
import { fileURLToPath } from 'node:url';

/** Everything the Library reads from its environment. */
export interface LibraryConfig {
  /** `postgres://...`; absent means the embedded PGlite database. */
  databaseUrl?: string;
  /** `postgres://...` URLs of read replicas (DATABASE_REPLICA_URLS, comma-separated); reads go there. */
  replicaUrls: string[];
  /** DATABASE_POOL_SIZE: most connections this process opens to the primary, and to each replica (default 10). */
  poolSize: number;
  /** PGlite's data folder (default `.data/pglite`), or `memory://`. */
  dataDir: string;
  host: string;
  port: number;
  /** Apply pending migrations on start (default true). */
  migrateOnStart: boolean;
  /** Give an empty database the sample books (default true). */
  seed: boolean;
  logLevel: string;
  /** NODE_ENV=production: JSON logs and no start-up banner. */
  production: boolean;
  /** Honour X-Forwarded-* from a proxy in front of the app. */
  trustProxy: boolean;
  /** SHUTDOWN_GRACE: milliseconds a SIGTERM waits for requests in flight (default: the framework's, 10 s). */
  shutdownGrace?: number;
}

/** Absolute path of the committed migrations. */
export const migrationsPath = fileURLToPath(new URL('../../migrations', import.meta.url));

const truthy = (value: string | undefined, fallback: boolean) =>
  value === undefined || value === '' ? fallback : !/^(0|false|no|off)$/i.test(value);

/** Reads the configuration from `env` (defaults to `process.env`). */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): LibraryConfig {
  const port = Number(env['PORT'] ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT must be a port number, got "${env['PORT']}"`);
  const poolSize = Number(env['DATABASE_POOL_SIZE'] || 10);
  if (!Number.isInteger(poolSize) || poolSize < 1 || poolSize > 1000) throw new Error(`DATABASE_POOL_SIZE must be a number of connections (1-1000), got "${env['DATABASE_POOL_SIZE']}"`);
  return {
    poolSize,
    databaseUrl: env['DATABASE_URL'] || undefined,
    replicaUrls: (env['DATABASE_REPLICA_URLS'] ?? '')
      .split(',')
      .map((url) => url.trim())
      .filter(Boolean),
    dataDir: env['DATA_DIR'] || fileURLToPath(new URL('../../.data/pglite', import.meta.url)),
    host: env['HOST'] || '127.0.0.1',
    port,
    migrateOnStart: truthy(env['MIGRATE_ON_START'], true),
    seed: truthy(env['SEED'], true),
    logLevel: env['LOG_LEVEL'] || 'info',
    production: env['NODE_ENV'] === 'production',
    trustProxy: truthy(env['TRUST_PROXY'], false),
    shutdownGrace: env['SHUTDOWN_GRACE'] ? Number(env['SHUTDOWN_GRACE']) : undefined,
  };
}
