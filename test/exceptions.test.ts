import { readFile } from 'node:fs/promises';
import t from 'tap';
import {
  APIException,
  MethodNotAllowed,
  NotFound,
  SetupError,
  setupErrorCodes,
  Throttled,
  toAPIException,
  ValidationError,
} from '../src/rest/index.ts';

t.test('every setup error code is in the docs table and the table lists no other', async (t) => {
  const doc = await readFile(new URL('../docs/errors.md', import.meta.url), 'utf8');
  const documented = [...doc.matchAll(/^\| `(FASTREST_ERR_[A-Z_]+)` \|/gm)].map((m) => m[1]).sort();
  t.same(documented, Object.keys(setupErrorCodes).sort());
});

t.test('every HTTP error class is in the docs table', async (t) => {
  const doc = await readFile(new URL('../docs/errors.md', import.meta.url), 'utf8');
  const exported = Object.entries(await import('../src/rest/exceptions.ts'))
    .filter(([, value]) => typeof value === 'function' && (value as { prototype: unknown }).prototype instanceof APIException)
    .map(([name]) => name)
    .sort();
  for (const name of exported) t.match(doc, new RegExp(`^\\| \`${name}\` \\|`, 'm'), name);
});

t.test('a setup error carries its stable code in the message', async (t) => {
  const error = new SetupError('FASTREST_ERR_SETTINGS', 'pageSize must be positive');
  t.equal(error.code, 'FASTREST_ERR_SETTINGS');
  t.equal(error.message, 'FASTREST_ERR_SETTINGS: pageSize must be positive');
});

t.test('HTTP errors carry status, detail, code and headers', async (t) => {
  const notFound = new NotFound();
  t.equal(notFound.status, 404);
  t.same(notFound.toBody(), { detail: 'Not found.' });
  t.equal(notFound.code, 'not_found');
  const custom = new NotFound('No Book matches the given query.', 'missing');
  t.same(custom.toBody(), { detail: 'No Book matches the given query.' });
  t.equal(custom.code, 'missing');
  const method = new MethodNotAllowed('put', ['GET', 'HEAD']);
  t.same(method.toBody(), { detail: 'Method "PUT" not allowed.' });
  t.equal(method.headers['allow'], 'GET, HEAD');
  const throttled = new Throttled(59.2);
  t.same(throttled.toBody(), { detail: 'Request was throttled. Expected available in 60 seconds.' });
  t.equal(throttled.headers['retry-after'], '60');
  t.same(new Throttled(1).toBody(), { detail: 'Request was throttled. Expected available in 1 second.' });
  t.same(new Throttled().toBody(), { detail: 'Request was throttled.' });
});

t.test('a validation error body is keyed by field, a bare message becomes a list', async (t) => {
  t.same(new ValidationError({ title: ['This field is required.'] }).toBody(), { title: ['This field is required.'] });
  t.same(new ValidationError('Bad.').toBody(), ['Bad.']);
  t.same(new ValidationError().toBody(), ['Invalid input.']);
});

t.test("Fastify's errors become DRF-shaped API exceptions", async (t) => {
  const plain = Object.assign(new Error('boom'), { code: 'X' });
  t.equal(toAPIException(plain as never).status, 500, 'an unknown error is a 500');
  t.same(toAPIException(plain as never).toBody(), { detail: 'A server error occurred.' }, 'its message is not leaked');
  const teapot = Object.assign(new Error('I am a teapot'), { statusCode: 418 });
  t.equal(toAPIException(teapot as never).status, 418, 'a 4xx keeps its status');
  const params = Object.assign(new Error('params/id must be integer'), { validation: [], validationContext: 'params' });
  t.equal(toAPIException(params as never).status, 404, 'a bad path parameter is a 404, as in DRF');
  const tooLarge = Object.assign(new Error('too large'), { code: 'FST_ERR_CTP_BODY_TOO_LARGE', statusCode: 413 });
  t.equal(toAPIException(tooLarge as never).status, 413);
  const syntax = Object.assign(new SyntaxError('Unexpected end of JSON input'), { statusCode: 400 });
  t.same(toAPIException(syntax as never).toBody(), { detail: 'JSON parse error - Unexpected end of JSON input' });
});
