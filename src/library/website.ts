/**
 * The Library website: server-rendered HTML pages listing the books, no JavaScript needed.
 * Templates live in ./templates (Eta), the stylesheet in ./static.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Eta } from 'eta';
import type { FastifyInstance } from 'fastify';
import { Book } from './entities.ts';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/** Registers `/`, `/books/:id/` and the site's stylesheet. */
export async function website(app: FastifyInstance): Promise<void> {
  const eta = new Eta({ views: here('./templates'), cache: true, autoEscape: true });
  const css = await readFile(here('./static/library.css'));
  const html = { 'content-type': 'text/html; charset=utf-8' };

  app.get('/', { schema: { hide: true } }, async (request, reply) => {
    const books = await request.em.find(Book, {}, { orderBy: { title: 'asc', id: 'asc' }, populate: ['author'] });
    return reply.headers(html).send(eta.render('books', { books }));
  });

  app.get<{ Params: { id: string } }>('/books/:id/', { schema: { hide: true } }, async (request, reply) => {
    // Digits only: Number() would also read "0x1", "1e0" or " 1" as book 1.
    const id = /^[0-9]{1,15}$/.test(request.params.id) ? Number(request.params.id) : 0;
    const book = id > 0 ? await request.em.findOne(Book, { id }, { populate: ['author'] }) : null;
    if (!book) return reply.code(404).headers(html).send(eta.render('not-found', {}));
    return reply.headers(html).send(eta.render('book', { book }));
  });

  app.get('/static/library.css', { schema: { hide: true } }, async (_request, reply) =>
    reply.headers({ 'content-type': 'text/css; charset=utf-8', 'cache-control': 'public, max-age=3600' }).send(css),
  );
}
