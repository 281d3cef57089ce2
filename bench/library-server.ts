/**
 * The Library as the benchmark serves it: the real app (`buildApp`, as `npm start` builds it) on
 * PostgreSQL, logger off, no migrations or seeding (bench/run.ts prepares the database).
 *
 * Run by bench/run.ts: `DATABASE_URL=... PORT=0 node bench/library-server.ts`; prints `listening <port>`.
 */
import { buildApp } from '../src/library/app.ts';
import { migrationsPath } from '../src/library/config.ts';
import { entities } from '../src/library/entities.ts';
import { gracefulShutdown, openDatabase } from 'fastrest';

const url = process.env['DATABASE_URL'];
if (!url) throw new Error('DATABASE_URL is required');
const orm = await openDatabase({ url, entities, migrationsPath });
const app = await buildApp(orm, { logger: { level: 'error', stream: process.stderr }, forceCloseConnections: 'idle', return503OnClosing: true });

gracefulShutdown(app, { grace: process.env['SHUTDOWN_GRACE'] ? Number(process.env['SHUTDOWN_GRACE']) : undefined });

await app.listen({ host: process.env['HOST'] ?? '127.0.0.1', port: Number(process.env['PORT'] ?? 0) });
const address = app.server.address();
console.log(`listening ${typeof address === 'object' && address ? address.port : address}`);
