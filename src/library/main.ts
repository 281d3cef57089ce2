/**
 * `npm start`: opens the database (embedded PGlite unless DATABASE_URL is set), applies the
 * migrations, seeds an empty database, serves the Library and closes gracefully on SIGTERM/SIGINT.
 */
import { gracefulShutdown, migrate, openDatabase, stickToPrimary, User, withAdvisoryLock } from 'fastrest';
import { buildApp } from './app.ts';
import { loadConfig, migrationsPath } from './config.ts';
import { entities } from './entities.ts';
import { seedIfEmpty } from './seed.ts';

const config = loadConfig();
const orm = await openDatabase({
  url: config.databaseUrl,
  replicaUrls: config.replicaUrls,
  poolSize: config.poolSize,
  dataDir: config.dataDir,
  entities,
  migrationsPath,
  connectAttempts: config.databaseUrl ? 30 : 1,
});
/** An EntityManager that reads from the primary: whether the database is empty must not depend on a replica's lag. */
function primaryManager() {
  const em = orm.em.fork();
  stickToPrimary(em);
  return em;
}

// Replicas starting together take turns (one advisory lock on PostgreSQL): one migrates and seeds, the others find it done.
const started = await withAdvisoryLock(orm, 'library:start', async () => ({
  applied: config.migrateOnStart ? await migrate(orm) : null,
  seeded: config.seed ? await seedIfEmpty(primaryManager()) : 0,
}));

const app = await buildApp(
  orm,
  {
    // JSON lines in production (for log collectors), readable lines anywhere else.
    logger: config.production ? { level: config.logLevel } : { level: config.logLevel, transport: { target: 'pino-pretty', options: { translateTime: 'HH:MM:ss', ignore: 'pid,hostname' } } },
    trustProxy: config.trustProxy, forceCloseConnections: 'idle', return503OnClosing: true },
  config.shutdownGrace === undefined ? {} : { shutdownGrace: config.shutdownGrace },
);
// SIGTERM/SIGINT: requests in flight finish, later ones get 503 and Connection: close, exit within shutdownGrace.
gracefulShutdown(app);

await app.listen({ host: config.host, port: config.port });
if (started.applied) app.log.info({ migrations: started.applied }, started.applied.length ? `Applied migrations: ${started.applied.join(', ')}` : 'No migrations to apply');
if (started.seeded) app.log.info(`Seeded ${started.seeded} sample books`);
app.log.info(`The Library is served on http://${config.host}:${config.port}/ (${config.databaseUrl ? `PostgreSQL${config.replicaUrls.length ? `, ${config.replicaUrls.length} read replica(s)` : ''}` : 'embedded PGlite'})`);
if (!config.production) process.stdout.write(await banner());

/** What a developer needs after `npm start`: the addresses to open, the database, and the next step. */
async function banner(): Promise<string> {
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
  const base = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const database = config.databaseUrl
    ? `PostgreSQL at ${new URL(config.databaseUrl).host}${new URL(config.databaseUrl).pathname}`
    : `embedded PGlite in ${config.dataDir}`;
  const migrations =
    started.applied === null ? 'not applied on start (MIGRATE_ON_START is off)' : started.applied.length ? `${started.applied.length} applied now` : 'up to date';
  const users = await primaryManager().count(User, {});
  return [
    '',
    'The Library is running.',
    `  Website:        ${base}/`,
    `  Browsable API:  ${base}/api/`,
    `  API docs:       ${base}/docs`,
    `  Log in:         ${base}/api-auth/login/`,
    `  Database:       ${database}`,
    `  Migrations:     ${migrations}`,
    ...(users === 0 ? ['', 'No user yet: run "npm run createsuperuser" to make the first account, then log in.'] : []),
    '',
    '',
  ].join('\n');
}
