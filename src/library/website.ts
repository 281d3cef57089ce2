/**
 * The Library website: server-rendered HTML pages listing the books, no JavaScript needed.
 * Templates live in ./templates (Eta), the stylesheet and the icon in ./static. The pages query
 * the database themselves: they do not depend on the shape of the API's answers.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Eta } from 'eta';
import type { FastifyInstance } from 'fastify';
import { Author, Book } from './entities.ts';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/** Books on one page of "All books". */
export const BOOKS_PER_PAGE = 20;

/** A positive id or page number from the URL: digits only, since Number() would also read "0x1", "1e0" or " 1". */
const positive = (value: string | undefined) => (value !== undefined && /^[0-9]{1,15}$/.test(value) ? Number(value) : 0);

/** `text` as a LIKE pattern matching it anywhere, its wildcards taken literally. */
const containing = (text: string) => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/** The query string of a page of "All books", keeping the search. */
function pageHref(q: string, page: number): string {
  const params = new URLSearchParams();
  if (q) params.set('q', q);
  if (page > 1) params.set('page', String(page));
  const query = params.toString();
  return query ? `/?${query}` : '/';
}

/** Registers `/` (searchable, paginated), `/books/:id/`, `/authors/:id/`, the stylesheet and `/favicon.ico`. */
export async function website(app: FastifyInstance): Promise<void> {
  const eta = new Eta({ views: here('./templates'), cache: true, autoEscape: true });
  const css = await readFile(here('./static/library.css'));
  const icon = await readFile(here('./static/favicon.ico'));
  const html = { 'content-type': 'text/html; charset=utf-8' };
  const cached = { 'cache-control': 'public, max-age=3600' };

  app.get<{ Querystring: { q?: string; page?: string } }>('/', { schema: { hide: true } }, async (request, reply) => {
    const q = typeof request.query.q === 'string' ? request.query.q.trim() : '';
    const page = request.query.page === undefined ? 1 : positive(request.query.page);
    const where = q ? { $or: [{ title: { $ilike: containing(q) } }, { author: { name: { $ilike: containing(q) } } }] } : {};
    const [books, total] = page
      ? await request.em.findAndCount(Book, where, {
          orderBy: { title: 'asc', id: 'asc' },
          populate: ['author'],
          limit: BOOKS_PER_PAGE,
          offset: (page - 1) * BOOKS_PER_PAGE,
        })
      : [[], 0];
    const pages = Math.max(1, Math.ceil(total / BOOKS_PER_PAGE));
    if (!page || page > pages) return reply.code(404).headers(html).send(eta.render('not-found', { what: 'page' }));
    const links = {
      previous: page > 1 ? pageHref(q, page - 1) : null,
      next: page < pages ? pageHref(q, page + 1) : null,
    };
    return reply.headers(html).send(eta.render('books', { books, total, q, page, pages, links }));
  });

  app.get<{ Params: { id: string } }>('/books/:id/', { schema: { hide: true } }, async (request, reply) => {
    const id = positive(request.params.id);
    const book = id > 0 ? await request.em.findOne(Book, { id }, { populate: ['author'] }) : null;
    if (!book) return reply.code(404).headers(html).send(eta.render('not-found', { what: 'book' }));
    return reply.headers(html).send(eta.render('book', { book }));
  });

  app.get<{ Params: { id: string } }>('/authors/:id/', { schema: { hide: true } }, async (request, reply) => {
    const id = positive(request.params.id);
    const author = id > 0 ? await request.em.findOne(Author, { id }) : null;
    if (!author) return reply.code(404).headers(html).send(eta.render('not-found', { what: 'author' }));
    const books = await request.em.find(Book, { author }, { orderBy: { title: 'asc', id: 'asc' } });
    return reply.headers(html).send(eta.render('author', { author, books }));
  });

  app.get('/static/library.css', { schema: { hide: true } }, async (_request, reply) =>
    reply.headers({ 'content-type': 'text/css; charset=utf-8', ...cached }).send(css),
  );
  // Browsers ask for /favicon.ico on every page without a <link rel="icon">, the API's pages too.
  app.get('/favicon.ico', { schema: { hide: true } }, async (_request, reply) => reply.headers({ 'content-type': 'image/x-icon', ...cached }).send(icon));
}
