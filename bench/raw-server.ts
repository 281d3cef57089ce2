/**
 * The baseline of the benchmark: the Books API's list, retrieve and create written by hand on
 * plain Fastify and a `pg` Pool, with the same URLs, JSON shapes, status codes and validation work
 * as the Library (JSON Schema body validation, ISBN check digit, unique check, insert returning),
 * response schemas so Fastify serializes as fast as it can, and named (prepared) statements.
 *
 * Run by bench/run.ts: `DATABASE_URL=... PORT=0 node bench/raw-server.ts`; prints `listening <port>`.
 */
import Fastify, { type FastifyRequest } from 'fastify';
import pg from 'pg';

const databaseUrl = process.env['DATABASE_URL'];
if (!databaseUrl) throw new Error('DATABASE_URL is required');
// The same pool size as the Library's MikroORM pool (src/rest/database.ts).
const pool = new pg.Pool({ connectionString: databaseUrl, max: 10 });

const columns = 'id, title, subtitle, author, isbn, created_at as "createdAt", updated_at as "updatedAt"';
const statements = {
  retrieve: `select ${columns} from library_book where id = $1 limit 1`,
  count: 'select count(*)::int as count from library_book',
  page: `select ${columns} from library_book order by id asc limit $1 offset $2`,
  all: `select ${columns} from library_book order by id asc`,
  isbnTaken: 'select 1 from library_book where isbn = $1 limit 1',
  insert: `insert into library_book (title, subtitle, author, isbn, created_at, updated_at) values ($1, $2, $3, $4, $5, $5) returning ${columns}`,
};
type Statement = keyof typeof statements;
const query = (name: Statement, values: unknown[] = []) => pool.query({ name, text: statements[name], values });

const isbnMessage = 'Enter a valid ISBN-13: exactly 13 digits.';
const Book = {
  $id: 'Book',
  type: 'object',
  properties: {
    id: { type: 'integer' },
    title: { type: 'string' },
    subtitle: { type: 'string' },
    author: { type: 'string' },
    isbn: { type: 'string' },
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
  },
  required: ['id', 'title', 'subtitle', 'author', 'isbn', 'createdAt', 'updatedAt'],
  additionalProperties: false,
} as const;
const BookRequest = {
  type: 'object',
  properties: {
    title: { type: 'string', minLength: 1, maxLength: 250 },
    subtitle: { type: 'string', maxLength: 250 },
    author: { type: 'string', minLength: 1, maxLength: 100 },
    isbn: { type: 'string', minLength: 1, maxLength: 13, pattern: '^[0-9]{13}$' },
  },
  required: ['title', 'author', 'isbn'],
  additionalProperties: false,
} as const;
const Detail = { type: 'object', properties: { detail: { type: 'string' } }, required: ['detail'] } as const;
const FieldErrors = { type: 'object', additionalProperties: { type: 'array', items: { type: 'string' } } } as const;

function isValidIsbn13(isbn: string): boolean {
  if (!/^[0-9]{13}$/.test(isbn)) return false;
  let sum = 0;
  for (let i = 0; i < 12; i++) sum += (isbn.charCodeAt(i) - 48) * (i % 2 === 0 ? 1 : 3);
  return (10 - (sum % 10)) % 10 === isbn.charCodeAt(12) - 48;
}

/** A DRF-shaped 400 from Ajv's errors: `{"field": ["message"]}`. */
function fieldErrors(errors: Array<{ instancePath: string; keyword: string; params: Record<string, unknown>; message?: string }>) {
  const body: Record<string, string[]> = {};
  for (const error of errors) {
    const field = error.keyword === 'required' ? String(error.params['missingProperty']) : error.instancePath.slice(1) || 'non_field_errors';
    const message =
      error.keyword === 'required'
        ? 'This field is required.'
        : field === 'isbn' && (error.keyword === 'pattern' || error.keyword === 'maxLength')
          ? isbnMessage
          : (error.message ?? 'Invalid input.');
    (body[field] ??= []).push(message);
  }
  return body;
}

const origin = (request: FastifyRequest) => `${request.protocol}://${request.host}`;

/** DRF's LimitOffsetPagination links: the request URL with `limit`/`offset` replaced. */
function pageUrl(request: FastifyRequest, limit: number, offset: number): string {
  const url = new URL(request.url, origin(request));
  url.searchParams.set('limit', String(limit));
  if (offset <= 0) url.searchParams.delete('offset');
  else url.searchParams.set('offset', String(offset));
  return url.toString();
}

const app = Fastify({
  logger: false,
  routerOptions: { ignoreTrailingSlash: true },
  ajv: { customOptions: { allErrors: true, coerceTypes: 'array', useDefaults: false, removeAdditional: true } },
});
app.addSchema(Book);

app.setErrorHandler((error, _request, reply) => {
  const validation = (error as { validation?: Parameters<typeof fieldErrors>[0]; validationContext?: string }).validation;
  if (validation && (error as { validationContext?: string }).validationContext === 'body') return reply.code(400).send(fieldErrors(validation));
  if (validation) return reply.code(404).send({ detail: 'Not found.' });
  const status = (error as { statusCode?: number }).statusCode ?? 500;
  return reply.code(status).send({ detail: status >= 500 ? 'A server error occurred.' : (error as Error).message });
});

// One list shape per process, so the response schema needs no `anyOf` (which serializes slower):
// LIST=page answers `?limit=&offset=` with DRF's LimitOffsetPagination envelope, LIST=all a plain array.
const paginated = (process.env['LIST'] ?? 'page') === 'page';
const Page = {
  type: 'object',
  properties: {
    count: { type: 'integer' },
    next: { type: ['string', 'null'] },
    previous: { type: ['string', 'null'] },
    results: { type: 'array', items: { $ref: 'Book#' } },
  },
  required: ['count', 'next', 'previous', 'results'],
} as const;

app.get<{ Querystring: { limit?: number; offset?: number } }>(
  '/api/books/',
  {
    schema: {
      querystring: { type: 'object', properties: { limit: { type: 'integer', minimum: 1 }, offset: { type: 'integer', minimum: 0 } } },
      response: { 200: paginated ? Page : { type: 'array', items: { $ref: 'Book#' } } },
    },
  },
  async (request) => {
    if (!paginated) return (await query('all')).rows;
    const { limit = 100, offset = 0 } = request.query;
    // Count, then the page: the two queries DRF's LimitOffsetPagination makes.
    const count = (await query('count')).rows[0].count as number;
    const page = await query('page', [limit, offset]);
    return {
      count,
      next: offset + limit < count ? pageUrl(request, limit, offset + limit) : null,
      previous: offset > 0 ? pageUrl(request, limit, offset - limit) : null,
      results: page.rows,
    };
  },
);

app.get<{ Params: { id: number } }>(
  '/api/books/:id/',
  {
    schema: {
      params: { type: 'object', properties: { id: { type: 'integer' } }, required: ['id'] },
      response: { 200: { $ref: 'Book#' }, 404: Detail },
    },
  },
  async (request, reply) => {
    const { rows } = await query('retrieve', [request.params.id]);
    if (!rows.length) return reply.code(404).send({ detail: 'Not found.' });
    return rows[0];
  },
);

app.post<{ Body: { title: string; subtitle?: string; author: string; isbn: string } }>(
  '/api/books/',
  { schema: { body: BookRequest, response: { 201: { $ref: 'Book#' }, 400: FieldErrors } } },
  async (request, reply) => {
    const { title, subtitle = '', author, isbn } = request.body;
    if (!isValidIsbn13(isbn)) return reply.code(400).send({ isbn: ['Enter a valid ISBN-13: the check digit is wrong.'] });
    if ((await query('isbnTaken', [isbn])).rows.length) return reply.code(400).send({ isbn: ['book with this isbn already exists.'] });
    try {
      const { rows } = await query('insert', [title, subtitle, author, isbn, new Date()]);
      const book = rows[0];
      reply.code(201).header('location', `${origin(request)}/api/books/${book.id}/`);
      return book;
    } catch (error) {
      if ((error as { code?: string }).code === '23505') return reply.code(400).send({ isbn: ['book with this isbn already exists.'] });
      throw error;
    }
  },
);

let closing = false;
async function shutdown() {
  if (closing) return;
  closing = true;
  await app.close();
  await pool.end();
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown());
process.on('SIGINT', () => void shutdown());

await app.listen({ host: process.env['HOST'] ?? '127.0.0.1', port: Number(process.env['PORT'] ?? 0) });
const address = app.server.address();
console.log(`listening ${typeof address === 'object' && address ? address.port : address}`);
