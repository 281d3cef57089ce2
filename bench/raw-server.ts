/**
 * The baseline of the benchmark: the Books API's list, retrieve and create written by hand on
 * plain Fastify and a `pg` Pool, with the same URLs, JSON shapes, status codes and validation work
 * as the Library (token authentication, JSON Schema body validation, ISBN check digit, the author
 * found by name, unique check, insert returning),
 * response schemas so Fastify serializes as fast as it can, and named (prepared) statements.
 *
 * MINIMAL=1 makes it the minimal handler of issue 20 instead: create checks no token and makes one
 * round trip (the author found or added in the same statement as the insert, the unique index
 * refusing a taken ISBN); list and retrieve are the same.
 *
 * Run by bench/run.ts: `DATABASE_URL=... PORT=0 node bench/raw-server.ts`; prints `listening <port>`.
 */
import { createHash } from 'node:crypto';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import pg from 'pg';

const databaseUrl = process.env['DATABASE_URL'];
if (!databaseUrl) throw new Error('DATABASE_URL is required');
// The same pool size as the Library's MikroORM pool (src/rest/database.ts).
const pool = new pg.Pool({ connectionString: databaseUrl, max: 10 });

const columns = `b.id, b.title, b.subtitle, a.name as author, a.id as "authorId", b.isbn, b.created_at as "createdAt", b.updated_at as "updatedAt"`;
const fromBooks = 'from library_book b join library_author a on a.id = b.author_id';
const statements = {
  retrieve: `select ${columns} ${fromBooks} where b.id = $1 limit 1`,
  count: 'select count(*)::int as count from library_book',
  page: `select ${columns} ${fromBooks} order by b.id asc limit $1 offset $2`,
  all: `select ${columns} ${fromBooks} order by b.id asc`,
  token: 'select u.id, u.is_active as "isActive" from authtoken_token t join auth_user u on u.id = t.user_id where t.key_hash = $1 limit 1',
  author: 'select id from library_author where name = $1 limit 1',
  addAuthor: 'insert into library_author (name) values ($1) returning id',
  isbnTaken: 'select 1 from library_book where isbn = $1 limit 1',
  // The minimal create: the author found or added, and the book inserted, in one statement.
  insertWithAuthor: `with found as (select id from library_author where name = $3),
      added as (insert into library_author (name) select $3 where not exists (select 1 from found) on conflict (name) do nothing returning id)
    insert into library_book (title, subtitle, author_id, isbn, created_at, updated_at)
    select $1, $2, coalesce((select id from found), (select id from added)), $4, $5, $5
    returning id, author_id as "authorId", created_at as "createdAt", updated_at as "updatedAt"`,
  insert: 'insert into library_book (title, subtitle, author_id, isbn, created_at, updated_at) values ($1, $2, $3, $4, $5, $5) returning id, created_at as "createdAt", updated_at as "updatedAt"',
};
type Statement = keyof typeof statements;
const minimal = Boolean(process.env['MINIMAL']);
const query = (name: Statement, values: unknown[] = []) => pool.query({ name, text: statements[name], values });

interface BookRow {
  id: number;
  title: string;
  subtitle: string;
  author: string;
  authorId: number;
  isbn: string;
  createdAt: Date;
  updatedAt: Date;
}

/** The Library's book: its own URL and its author's, the author's name and a summary of them. */
function represent(request: FastifyRequest, row: BookRow) {
  const base = origin(request);
  return {
    url: `${base}/api/books/${row.id}/`,
    id: row.id,
    title: row.title,
    subtitle: row.subtitle,
    author: row.author,
    authorDetail: { id: row.authorId, name: row.author, url: `${base}/api/authors/${row.authorId}/` },
    isbn: row.isbn,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

const isbnMessage = 'Enter a valid ISBN-13: exactly 13 digits.';
const Book = {
  $id: 'Book',
  type: 'object',
  properties: {
    url: { type: 'string' },
    id: { type: 'integer' },
    title: { type: 'string' },
    subtitle: { type: 'string' },
    author: { type: 'string' },
    authorDetail: {
      type: 'object',
      properties: { id: { type: 'integer' }, name: { type: 'string' }, url: { type: 'string' } },
      required: ['id', 'name', 'url'],
    },
    isbn: { type: 'string' },
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
  },
  required: ['url', 'id', 'title', 'subtitle', 'author', 'authorDetail', 'isbn', 'createdAt', 'updatedAt'],
  additionalProperties: false,
} as const;
const BookRequest = {
  type: 'object',
  properties: {
    title: { type: 'string', minLength: 1, maxLength: 250 },
    subtitle: { type: 'string', maxLength: 250 },
    author: { type: 'string', minLength: 1 },
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
    if (!paginated) return (await query('all')).rows.map((row) => represent(request, row));
    const { limit = 100, offset = 0 } = request.query;
    // Count, then the page: the two queries DRF's LimitOffsetPagination makes.
    const count = (await query('count')).rows[0].count as number;
    const page = await query('page', [limit, offset]);
    return {
      count,
      next: offset + limit < count ? pageUrl(request, limit, offset + limit) : null,
      previous: offset > 0 ? pageUrl(request, limit, offset - limit) : null,
      results: page.rows.map((row) => represent(request, row)),
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
    return represent(request, rows[0]);
  },
);

app.post<{ Body: { title: string; subtitle?: string; author: string; isbn: string } }>(
  '/api/books/',
  { schema: { body: BookRequest, response: { 201: { $ref: 'Book#' }, 400: FieldErrors } } },
  async (request, reply) => {
    if (minimal) return createMinimal(request, reply);
    // Token authentication, as the Library's TokenAuthentication: the key's SHA-256 names the token.
    const [keyword, key, extra] = (request.headers.authorization ?? '').split(' ');
    if (keyword?.toLowerCase() !== 'token' || !key || extra !== undefined) {
      return reply.code(401).header('www-authenticate', 'Token').send({ detail: 'Authentication credentials were not provided.' });
    }
    const user = (await query('token', [createHash('sha256').update(key).digest('hex')])).rows[0];
    if (!user?.isActive) return reply.code(401).header('www-authenticate', 'Token').send({ detail: 'Invalid token.' });
    const { title, subtitle = '', author, isbn } = request.body;
    if (!isValidIsbn13(isbn)) return reply.code(400).send({ isbn: ['Enter a valid ISBN-13: the check digit is wrong.'] });
    // The author by name, added when the Library has none of that name (SlugRelatedField with createIfMissing).
    const authorId: number = (await query('author', [author])).rows[0]?.id ?? (await query('addAuthor', [author])).rows[0].id;
    if ((await query('isbnTaken', [isbn])).rows.length) return reply.code(400).send({ isbn: ['book with this isbn already exists.'] });
    try {
      const { rows } = await query('insert', [title, subtitle, authorId, isbn, new Date()]);
      const book = { ...rows[0], title, subtitle, author, authorId, isbn } as BookRow;
      reply.code(201).header('location', `${origin(request)}/api/books/${book.id}/`);
      return represent(request, book);
    } catch (error) {
      if ((error as { code?: string }).code === '23505') return reply.code(400).send({ isbn: ['book with this isbn already exists.'] });
      throw error;
    }
  },
);

/** The minimal create: body schema and check digit, then one statement; the unique index answers for a taken ISBN. */
async function createMinimal(request: FastifyRequest<{ Body: { title: string; subtitle?: string; author: string; isbn: string } }>, reply: FastifyReply) {
  const { title, subtitle = '', author, isbn } = request.body;
  if (!isValidIsbn13(isbn)) return reply.code(400).send({ isbn: ['Enter a valid ISBN-13: the check digit is wrong.'] });
  try {
    const { rows } = await query('insertWithAuthor', [title, subtitle, author, isbn, new Date()]);
    const book = { ...rows[0], title, subtitle, author, isbn } as BookRow;
    reply.code(201).header('location', `${origin(request)}/api/books/${book.id}/`);
    return represent(request, book);
  } catch (error) {
    if ((error as { code?: string }).code === '23505') return reply.code(400).send({ isbn: ['book with this isbn already exists.'] });
    throw error;
  }
}

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
