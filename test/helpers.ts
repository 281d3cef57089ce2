/**
 * Shared set-up of the tests: a Library app on its own throw-away database
 * (PGlite in memory, or a fresh PostgreSQL database when DATABASE_URL is set).
 */
import type { EntitySchema } from '@mikro-orm/core';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Test } from 'tap';
import { buildApp } from '../src/library/app.ts';
import { migrationsPath } from '../src/library/config.ts';
import { entities } from '../src/library/entities.ts';
import { AuthorViewSet } from '../src/library/views.ts';
import {
  APIClient,
  createTestDatabase,
  databasePlugin,
  DefaultRouter,
  fastrest,
  serverOptions,
  type GenericViewSet,
  type RestSettings,
  type TestDatabase,
} from '../src/rest/index.ts';

/** A valid ISBN-13 not used by the sample books, made from a 12-digit stem. */
export function isbn(stem: number): string {
  const digits = String(978_000_000_000 + stem).padStart(12, '0');
  const sum = [...digits].reduce((acc, d, i) => acc + Number(d) * (i % 2 === 0 ? 1 : 3), 0);
  return `${digits}${(10 - (sum % 10)) % 10}`;
}

/** A Library app on a fresh database, closed and dropped when the test ends. */
export async function libraryApp(t: Test) {
  const db = await createTestDatabase({ entities, migrationsPath });
  const app = await buildApp(db.orm);
  t.teardown(async () => {
    await app.close();
    await db.drop();
  });
  await app.ready();
  return { app, db, client: new APIClient(app) };
}

/**
 * A bare fastrest app serving `viewset` at /api/books/ (DefaultRouter, basename `book`) beside the
 * Library's authors, on a fresh Library database: for book views configured unlike the Library's.
 * `more` may register further viewsets.
 */
export async function booksApiApp(t: Test, viewset: GenericViewSet, settings: Partial<RestSettings> = {}, more: (router: DefaultRouter) => void = () => {}) {
  const db = await createTestDatabase({ entities, migrationsPath });
  const app = Fastify(serverOptions(settings));
  await app.register(databasePlugin, { orm: db.orm });
  await app.register(fastrest, { settings });
  const router = new DefaultRouter().register('books', viewset, { basename: 'book' }).register('authors', new AuthorViewSet(), { basename: 'author' });
  more(router);
  await app.register(router.plugin('/api'));
  t.teardown(async () => {
    await app.close();
    await db.drop();
  });
  await app.ready();
  return { app, db, client: new APIClient(app) };
}

/**
 * A bare fastrest app serving `router` under /api on a fresh database holding only `entities`
 * (their schema created, no migrations), closed and dropped when the test ends; `before` adds to
 * the app (routes, data, hooks) before it is ready. `count(table)` counts a table's rows.
 */
export async function entitiesApp(
  t: Test,
  entities: EntitySchema<any, any>[],
  router: DefaultRouter,
  before: (app: FastifyInstance, db: TestDatabase) => unknown = () => {},
) {
  const db = await createTestDatabase({ entities, migrationsPath, migrate: false });
  await db.orm.schema.create();
  const app = Fastify(serverOptions());
  await app.register(databasePlugin, { orm: db.orm });
  await app.register(fastrest);
  await app.register(router.plugin('/api'));
  await before(app, db);
  t.teardown(async () => {
    await app.close();
    await db.drop();
  });
  await app.ready();
  const count = async (table: string) => Number(((await db.orm.em.getConnection().execute(`select count(*) as n from ${table}`)) as { n: unknown }[])[0]!.n);
  return { app, db, client: new APIClient(app), count };
}
