/**
 * The Library app: the website, the Books API, its OpenAPI document and the probes,
 * put together on a database the caller opened.
 */
import type { MikroORM } from '@mikro-orm/core';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Health, Ready } from '../../schemas/health.ts';
import { addSharedSchema, authPlugin, databaseAnswers, databasePlugin, DefaultRouter, fastrest, serverOptions, type RestSettings } from 'fastrest';
import { librarySecurity, loadAuthConfig } from './auth.ts';
import { ReadingListViewSet } from './reading-lists.ts';
import { AuthorViewSet, BookViewSet } from './views.ts';
import { website } from './website.ts';

/** Settings of the Library's API. */
export const librarySettings: Partial<RestSettings> = {
  title: 'The Library',
  version: '1.0.0',
  description: 'The Books API of the Library, built with fastrest. Every endpoint can also be explored in the [browsable API](/api/).',
};

/** The API's routes, as data. */
export function libraryRouter(): DefaultRouter {
  return new DefaultRouter()
    .register('books', new BookViewSet(), { basename: 'book' })
    .register('authors', new AuthorViewSet(), { basename: 'author' })
    .register('reading-lists', new ReadingListViewSet(), { basename: 'readinglist' });
}

/**
 * Builds the Library on an open database; the app closes the database when it closes.
 * `overrides` replace settings (tests pass throttles with a fake clock, or a shared store).
 */
export async function buildApp(orm: MikroORM, fastifyOptions: FastifyServerOptions = {}, overrides: Partial<RestSettings> = {}): Promise<FastifyInstance> {
  const security = librarySecurity(loadAuthConfig());
  const settings: Partial<RestSettings> = { ...librarySettings, ...security.settings, ...overrides };
  const app = Fastify({ ...serverOptions(settings), ...fastifyOptions }).withTypeProvider<TypeBoxTypeProvider>();
  app.addHook('onClose', () => security.close());
  await app.register(databasePlugin, { orm });
  await app.register(fastrest, { settings });
  await app.register(authPlugin);
  addSharedSchema(app, Health);
  addSharedSchema(app, Ready);
  await app.register(libraryRouter().plugin('/api'));

  // The probes answer JSON to orchestrators only: no browsable page, no ?format=.
  app.get('/health', { config: { browsable: false }, schema: { operationId: 'health', tags: ['probes'], summary: 'Liveness probe', response: { 200: Health } } }, async () => ({
    status: 'ok' as const,
  }));
  app.get(
    '/ready',
    { config: { browsable: false }, schema: { operationId: 'ready', tags: ['probes'], summary: 'Readiness probe: the database answers', response: { 200: Ready, 503: Ready } } },
    async (_request, reply) => {
      const ok = await databaseAnswers(orm);
      return reply.code(ok ? 200 : 503).send({ status: ok ? 'ok' : 'unavailable', database: ok ? 'ok' : 'unavailable' });
    },
  );
  await app.register(website);
  return app;
}
