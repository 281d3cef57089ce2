/**
 * The validator compiler: Fastify's own Ajv compiler, with DRF's rules for what a body or a path
 * parameter may coerce (see `coercionGuard`, `numericParamGuard`) and DRF's wording downstream in
 * the error handler.
 */
import AjvCompiler from '@fastify/ajv-compiler';
import { coercionGuard, type SchemaError } from './validation.ts';

type Validate = ((data: unknown) => boolean) & { errors?: unknown[] | null };
type Route = { schema: Record<string, unknown>; httpPart?: string; method?: string; url?: string };

/** `schemaController.compilersFactory.buildValidator` for Fastify's constructor options. */
export function buildValidator(externalSchemas: Record<string, Record<string, unknown>>, options: unknown) {
  const compile = (AjvCompiler as unknown as () => (s: unknown, o: unknown) => (route: Route) => Validate)()(externalSchemas, options);
  const byId = new Map(Object.values(externalSchemas).map((s) => [String(s['$id']).replace(/#$/, ''), s]));
  const resolve = (schema: Record<string, unknown>): Record<string, unknown> => {
    const ref = schema['$ref'];
    if (typeof ref !== 'string') return schema;
    return byId.get(ref.replace(/#.*$/, '')) ?? schema;
  };
  return (route: Route): Validate => {
    const validate = compile(route);
    if (route.httpPart === 'params') return numericParamGuard(route.schema, validate);
    if (route.httpPart !== 'body') return validate;
    const guarded: Validate = (data: unknown) => {
      const guard = coercionGuard(route.schema, data, resolve);
      const valid = validate(data);
      const others = valid ? [] : ((validate.errors ?? []) as SchemaError[]).filter((e) => !guard.some((g) => e.instancePath.startsWith(g.instancePath)));
      const errors = [...guard, ...others];
      guarded.errors = errors.length ? errors : null;
      return errors.length === 0;
    };
    return guarded;
  };
}

/** What Python's `int()` and `float()` read, the way Django converts a lookup value: decimal only. */
const DECIMAL: Record<string, RegExp> = {
  integer: /^\s*[+-]?\d+\s*$/,
  number: /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/,
};

/**
 * Path parameters typed as numbers accept only decimal text. Ajv's coercion reads `0x1`, `1e0`
 * or `0b1` as 1, so `/api/books/0x1/` would answer book 1 where DRF answers 404 (Django's
 * `int()` refuses them). Routes without numeric parameters keep Ajv's validator as it is.
 */
function numericParamGuard(schema: Record<string, unknown>, validate: Validate): Validate {
  const properties = (schema['properties'] ?? {}) as Record<string, { type?: unknown }>;
  const checks = Object.entries(properties).flatMap(([name, prop]) => {
    const pattern = typeof prop.type === 'string' ? DECIMAL[prop.type] : undefined;
    return pattern ? [{ name, pattern, prop }] : [];
  });
  if (!checks.length) return validate;
  const guarded: Validate = (data: unknown) => {
    const params = data as Record<string, unknown>;
    for (const { name, pattern, prop } of checks) {
      const value = params[name];
      if (typeof value === 'string' && !pattern.test(value)) {
        guarded.errors = [{ instancePath: `/${name}`, keyword: 'type', params: { type: prop.type }, data: value, parentSchema: prop }];
        return false;
      }
    }
    const valid = validate(data);
    guarded.errors = validate.errors ?? null;
    return valid;
  };
  return guarded;
}
