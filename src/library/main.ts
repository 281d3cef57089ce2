/**
 * `npm start`: opens the database (embedded PGlite unless DATABASE_URL is set), applies the
 * migrations, seeds an empty database, serves the Library and closes gracefully on SIGTERM/SIGINT.
 */
import { migrate, openDatabase, stickToPrimary, withAdvisoryLock } from 'fastrest';
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

const app = await buildApp(orm, {
  logger: { level: config.logLevel },
  trustProxy: config.trustProxy,
  forceCloseConnections: 'idle',
  return503OnClosing: true,
});

let closing = false;
// Fastify only closes connections idle when the close starts: an answer sent while closing
// must end its keep-alive connection, or the close waits for the client (72 s keep-alive).
app.addHook('onSend', async (_request, reply, payload) => {
  if (closing) reply.header('connection', 'close');
  return payload;
});

async function shutdown(signal: string) {
  if (closing) return;
  closing = true;
  app.log.info({ signal }, 'closing: finishing in-flight requests');
  const timer = setTimeout(() => {
    app.log.error('graceful close took longer than 10 s, exiting');
    process.exit(1);
  }, 10_000);
  timer.unref();
  await app.close();
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));

await app.listen({ host: config.host, port: config.port });
if (started.applied) app.log.info({ migrations: started.applied }, started.applied.length ? `Applied migrations: ${started.applied.join(', ')}` : 'No migrations to apply');
if (started.seeded) app.log.info(`Seeded ${started.seeded} sample books`);
app.log.info(`The Library is served on http://${config.host}:${config.port}/ (${config.databaseUrl ? `PostgreSQL${config.replicaUrls.length ? `, ${config.replicaUrls.length} read replica(s)` : ''}` : 'embedded PGlite'})`);
