import t from 'tap';
import { buildValidator } from '../src/rest/ajv.ts';
import { serverOptions } from '../src/rest/index.ts';
import { coercionGuard, errorDetailsFromAjv, messageFor, pythonTypeName, type SchemaError } from '../src/rest/validation.ts';

type Schema = Record<string, unknown>;

/** Validates `data` as a request body with the app's own Ajv set-up and returns DRF's error body. */
function errorsOf(schema: Schema, data: unknown, externals: Record<string, Schema> = {}) {
  const validate = buildValidator(externals, serverOptions().ajv)({ schema, httpPart: 'body', method: 'POST', url: '/' });
  return validate(data) ? {} : errorDetailsFromAjv(validate.errors as SchemaError[]);
}

const error = (keyword: string, params: Record<string, unknown> = {}, data?: unknown, extra: Partial<SchemaError> = {}): SchemaError => ({
  instancePath: '/field',
  keyword,
  params,
  data,
  ...extra,
});

t.test('each JSON Schema keyword has its DRF message', async (t) => {
  const cases: [SchemaError, string][] = [
    [error('required', { missingProperty: 'title' }), 'This field is required.'],
    [error('maxLength', { limit: 250 }), 'Ensure this field has no more than 250 characters.'],
    [error('minLength', { limit: 1 }), 'This field may not be blank.'],
    [error('minLength', { limit: 3 }), 'Ensure this field has at least 3 characters.'],
    [error('maximum', { limit: 10 }), 'Ensure this value is less than or equal to 10.'],
    [error('minimum', { limit: 0 }), 'Ensure this value is greater than or equal to 0.'],
    [error('exclusiveMaximum', { limit: 10 }), 'Ensure this value is less than 10.'],
    [error('exclusiveMinimum', { limit: 0 }), 'Ensure this value is greater than 0.'],
    [error('enum', { allowedValues: ['a', 'b'] }, 'c'), '"c" is not a valid choice.'],
    [error('const', { allowedValue: 'a' }, 'z'), '"z" is not a valid choice.'],
    [error('pattern', { pattern: '^x$' }), 'This value does not match the required pattern.'],
    [error('format', { format: 'date-time' }), 'Datetime has wrong format. Use one of these formats instead: YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z].'],
    [error('format', { format: 'date' }), 'Date has wrong format. Use one of these formats instead: YYYY-MM-DD.'],
    [error('format', { format: 'time' }), 'Time has wrong format. Use one of these formats instead: hh:mm[:ss[.uuuuuu]].'],
    [error('format', { format: 'email' }), 'Enter a valid email address.'],
    [error('format', { format: 'uri' }), 'Enter a valid URL.'],
    [error('format', { format: 'uuid' }), 'Must be a valid UUID.'],
    [error('format', { format: 'ipv4' }), 'Enter a valid value.'],
    [error('maxItems', { limit: 2 }), 'Ensure this field has no more than 2 elements.'],
    [error('minItems', { limit: 1 }), 'This list may not be empty.'],
    [error('minItems', { limit: 2 }), 'Ensure this field has at least 2 elements.'],
    [error('multipleOf', { multipleOf: 2 }, 3, { message: 'must be multiple of 2' }), 'Must be multiple of 2.'],
    [error('dependentRequired'), 'Invalid value.'],
  ];
  for (const [e, message] of cases) t.equal(messageFor(e), message, `${e.keyword} ${JSON.stringify(e.params)}`);
});

t.test('a type error names what was expected, and null has its own message', async (t) => {
  const cases: [unknown, unknown, string][] = [
    ['string', null, 'This field may not be null.'],
    ['integer', null, 'This field may not be null.'],
    ['integer', 'abc', 'A valid integer is required.'],
    ['number', 'abc', 'A valid number is required.'],
    ['boolean', 'maybe', 'Must be a valid boolean.'],
    ['string', {}, 'Not a valid string.'],
    [['string', 'null'], 5, 'Not a valid string.'],
    ['array', 'x', 'Expected a list of items but got type "str".'],
    ['object', [1], 'Invalid data. Expected a dictionary, but got list.'],
    ['object', 1.5, 'Invalid data. Expected a dictionary, but got float.'],
    ['null', 1, 'Invalid value.'],
  ];
  for (const [type, data, message] of cases) t.equal(messageFor(error('type', { type }, data)), message, `${JSON.stringify(type)} given ${JSON.stringify(data)}`);
});

t.test('a schema may replace a message with x-error-messages', async (t) => {
  const parentSchema = { type: 'string', pattern: '^[0-9]+$', 'x-error-messages': { pattern: 'Digits only.' } };
  t.equal(messageFor(error('pattern', {}, 'x', { parentSchema })), 'Digits only.');
  t.equal(messageFor(error('maxLength', { limit: 2 }, 'xxx', { parentSchema })), 'Ensure this field has no more than 2 characters.', 'other keywords keep their wording');
  t.same(errorsOf({ type: 'object', properties: { code: parentSchema } }, { code: 'abc' }), { code: ['Digits only.'] });
});

t.test('JSON types get their Python names, as in DRF messages', async (t) => {
  const cases: [unknown, string][] = [[[], 'list'], ['', 'str'], [true, 'bool'], [3, 'int'], [3.5, 'float'], [{}, 'dict'], [null, 'NoneType'], [undefined, 'NoneType']];
  for (const [value, name] of cases) t.equal(pythonTypeName(value), name, JSON.stringify(value));
});

const Book = {
  type: 'object',
  properties: {
    title: { type: 'string', minLength: 1, maxLength: 10 },
    pages: { type: 'integer', minimum: 1, maximum: 5000 },
    price: { type: ['number', 'null'] },
    available: { type: 'boolean' },
    format: { type: 'string', enum: ['paper', 'ebook'] },
    code: { type: 'string', pattern: '^[A-Z]{2}$', maxLength: 3 },
    publishedAt: { type: 'string', format: 'date-time' },
    tags: { type: 'array', items: { type: 'string', maxLength: 3 } },
    author: {
      type: 'object',
      properties: { name: { type: 'string', minLength: 1 }, born: { type: 'integer' } },
      required: ['name'],
    },
  },
  required: ['title', 'pages'],
  additionalProperties: false,
};

t.test('Ajv errors become field-keyed DRF messages', async (t) => {
  await t.test('every missing required field is listed', async (t) => {
    t.same(errorsOf(Book, {}), { title: ['This field is required.'], pages: ['This field is required.'] });
  });

  await t.test('each field reports its own problem', async (t) => {
    t.same(
      errorsOf(Book, {
        title: '',
        pages: 0,
        available: 'maybe',
        format: 'scroll',
        code: 'x',
        publishedAt: 'yesterday',
      }),
      {
        title: ['This field may not be blank.'],
        pages: ['Ensure this value is greater than or equal to 1.'],
        available: ['Must be a valid boolean.'],
        format: ['"scroll" is not a valid choice.'],
        code: ['This value does not match the required pattern.'],
        publishedAt: ['Datetime has wrong format. Use one of these formats instead: YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z].'],
      },
    );
  });

  await t.test('a field breaking two rules gets both messages, length first as in DRF', async (t) => {
    t.same(errorsOf(Book, { title: 'ok', pages: 1, code: 'abcd' }), {
      code: ['Ensure this field has no more than 3 characters.', 'This value does not match the required pattern.'],
    });
  });

  await t.test('a type error hides the other errors of its field', async (t) => {
    t.same(errorsOf(Book, { title: 'ok', pages: 'many' }), { pages: ['A valid integer is required.'] });
    const raw = errorDetailsFromAjv([error('maxLength', { limit: 1 }, {}), error('type', { type: 'string' }, {})]);
    t.same(raw, { field: ['Not a valid string.'] });
  });

  await t.test('the same message is given once', async (t) => {
    t.same(errorDetailsFromAjv([error('pattern'), error('pattern')]), { field: ['This value does not match the required pattern.'] });
  });

  await t.test('numbers and numeric strings coerce as in DRF', async (t) => {
    t.same(errorsOf(Book, { title: 12345, pages: '12', price: '9.5' }), {});
    t.same(errorsOf(Book, { title: 'ok', pages: 1.5 }), { pages: ['A valid integer is required.'] });
  });

  await t.test('nested objects and lists nest their errors', async (t) => {
    t.same(errorsOf(Book, { title: 'ok', pages: 1, author: { born: 'long ago' } }), {
      author: { name: ['This field is required.'], born: ['A valid integer is required.'] },
    });
    t.same(errorsOf(Book, { title: 'ok', pages: 1, author: { name: '' } }), { author: { name: ['This field may not be blank.'] } });
    t.same(errorsOf(Book, { title: 'ok', pages: 1, tags: ['ok', 'toolong'] }), { tags: { '1': ['Ensure this field has no more than 3 characters.'] } });
    t.same(errorsOf(Book, { title: 'ok', pages: 1, author: 'Ann' }), { author: ['Invalid data. Expected a dictionary, but got str.'] });
  });

  await t.test('JSON pointer escapes are undone in field names', async (t) => {
    const schema = { type: 'object', properties: { 'a/b': { type: 'integer' }, 'c~d': { type: 'integer' } } };
    t.same(errorsOf(schema, { 'a/b': 'x', 'c~d': 'y' }), { 'a/b': ['A valid integer is required.'], 'c~d': ['A valid integer is required.'] });
  });

  await t.test('a body that is not an object is a non-field error naming its Python type', async (t) => {
    const cases: [unknown, string][] = [
      [[], 'Invalid data. Expected a dictionary, but got list.'],
      ['text', 'Invalid data. Expected a dictionary, but got str.'],
      [5, 'Invalid data. Expected a dictionary, but got int.'],
      [2.5, 'Invalid data. Expected a dictionary, but got float.'],
      [true, 'Invalid data. Expected a dictionary, but got bool.'],
      [null, 'This field may not be null.'],
    ];
    for (const [body, message] of cases) t.same(errorsOf(Book, body), { non_field_errors: [message] }, JSON.stringify(body));
  });

  await t.test('combinator errors are not messages of their own', async (t) => {
    const schema = { type: 'object', properties: { id: { anyOf: [{ type: 'integer' }, { type: 'null' }] } } };
    t.same(errorsOf(schema, { id: {} }), { id: ['A valid integer is required.'] });
    const cases = errorDetailsFromAjv([error('oneOf'), error('if'), error('anyOf')]);
    t.same(cases, {});
  });
});

t.test("the coercion guard refuses what Ajv's coercion would wrongly accept", async (t) => {
  await t.test('null is refused where the field does not allow it', async (t) => {
    t.same(errorsOf(Book, { title: null, pages: null, available: null, price: null }), {
      title: ['This field may not be null.'],
      pages: ['This field may not be null.'],
      available: ['This field may not be null.'],
    });
  });

  await t.test('a boolean is refused where a string or a number is expected', async (t) => {
    t.same(errorsOf(Book, { title: true, pages: false, price: true, available: true }), {
      title: ['Not a valid string.'],
      pages: ['A valid integer is required.'],
      price: ['A valid number is required.'],
    });
  });

  await t.test('nested fields and referenced schemas are guarded too', async (t) => {
    t.same(errorsOf(Book, { title: 'ok', pages: 1, author: { name: null } }), { author: { name: ['This field may not be null.'] } });
    const externals = { Author: { $id: 'Author', type: 'object', properties: { name: { type: 'string' } } } };
    const schema = { type: 'object', properties: { author: { $ref: 'Author#' } } };
    t.same(errorsOf({ $ref: 'Author#' }, { name: false }, externals), { name: ['Not a valid string.'] });
    t.same(errorsOf(schema, { author: { name: null } }, externals), { author: { name: ['This field may not be null.'] } });
  });

  await t.test('the guard reports JSON pointer paths and ignores what it cannot judge', async (t) => {
    const resolve = (s: Schema) => s;
    const schema = { type: 'object', properties: { 'a/b~c': { type: 'string' }, any: {}, n: { type: 'integer' } } };
    const found = coercionGuard(schema, { 'a/b~c': null, any: null, unknown: null, n: 3 }, resolve);
    t.equal(found.length, 1);
    t.match(found[0], { instancePath: '/a~1b~0c', keyword: 'type', params: { type: 'string' }, data: null });
    t.same(coercionGuard(schema, [null], resolve), [], 'a list body is left to the type check');
    t.same(coercionGuard(schema, null, resolve), []);
    t.same(coercionGuard({ type: 'string' }, 'x', resolve), [], 'a schema without properties has nothing to guard');
  });
});

t.test('numeric path parameters accept decimal text only, as Python reads numbers; other parameters are left to Ajv', async (t) => {
  const schema = {
    type: 'object',
    properties: { id: { type: 'integer' }, price: { type: 'number' }, slug: { type: 'string' } },
    required: ['id', 'price', 'slug'],
  };
  const validate = buildValidator({}, serverOptions().ajv)({ schema, httpPart: 'params', method: 'GET', url: '/:id/:price/:slug/' });
  const check = (id: string, price: string, slug = '0x1') => {
    const params: Record<string, unknown> = { id, price, slug };
    return { valid: validate(params), params, errors: validate.errors };
  };
  const ok = check(' +7 ', '-1.5e3');
  t.equal(ok.valid, true);
  t.same(ok.params, { id: 7, price: -1500, slug: '0x1' }, 'decimal text is coerced as before; a string parameter keeps any text');
  t.equal(check('1', '.5').valid, true);
  for (const id of ['0x1', '1e0', '0b1', '1.0', 'Infinity', '']) t.equal(check(id, '1').valid, false, `id ${JSON.stringify(id)}`);
  for (const price of ['0x1', '0b1', 'Infinity', 'NaN', '1e', '.']) t.equal(check('1', price).valid, false, `price ${JSON.stringify(price)}`);
  t.match(check('0x1', '1').errors, [{ instancePath: '/id', keyword: 'type', params: { type: 'integer' } }], 'the refusal is a type error on the parameter');
  t.equal(validate({ id: '1', price: '1' }), false, "Ajv's own checks still run after the guard (slug is required)");
  t.match(validate.errors, [{ keyword: 'required', params: { missingProperty: 'slug' } }]);
});
