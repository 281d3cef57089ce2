/**
 * The schema compilers: Fastify's own Ajv compiler, with DRF's rules for what a body or a path
 * parameter may coerce (see `coercionGuard`, `numericParamGuard`) and DRF's wording downstream in
 * the error handler, and Fastify's fast-json-stringify serializers. Both compile a route's schema
 * on its first request instead of at `ready`: most routes (format twins, HEAD, OPTIONS, the pages
 * and forms) are never asked for by most processes, and compiling them all cost the start-up
 * seconds of CPU and tens of MiB of memory V8 does not give back.
 */
import AjvCompiler from '@fastify/ajv-compiler';
import fastJson from 'fast-json-stringify';
import { coercionGuard, type SchemaError } from './validation.ts';

type Validate = ((data: unknown) => boolean) & { errors?: unknown[] | null };
type Route = { schema: Record<string, unknown>; httpPart?: string; method?: string; url?: string };

/** `schemaController.compilersFactory.buildValidator` for Fastify's constructor options. */
export function buildValidator(externalSchemas: Record<string, Record<string, unknown>>, options: unknown) {
  // Made on the first route compiled: every encapsulated context asks for a compiler at ready, and
  // each is an Ajv instance that compiles its meta-schema and every shared schema.
  let compiler: ((route: Route) => Validate) | undefined;
  const compile = (route: Route) => (compiler ??= (AjvCompiler as unknown as () => (s: unknown, o: unknown) => (route: Route) => Validate)()(externalSchemas, options))(route);
  const byId = new Map(Object.values(externalSchemas).map((s) => [String(s['$id']).replace(/#$/, ''), s]));
  const resolve = (schema: Record<string, unknown>): Record<string, unknown> => {
    const ref = schema['$ref'];
    if (typeof ref !== 'string') return schema;
    return byId.get(ref.replace(/#.*$/, '')) ?? schema;
  };
  return (route: Route): Validate => lazyValidator(() => guardedValidator(compile(route), route, resolve));
}

/** A validator that compiles on its first call, then forwards to the compiled one (and its `errors`). */
function lazyValidator(build: () => Validate): Validate {
  let compiled: Validate | undefined;
  const lazy: Validate = (data: unknown) => {
    compiled ??= build();
    const valid = compiled(data);
    lazy.errors = compiled.errors ?? null;
    return valid;
  };
  return lazy;
}

/** `schemaController.compilersFactory.buildSerializer`: Fastify's own serializer compiler, compiling on first use. */
export function buildSerializer(externalSchemas: Record<string, unknown>, options: Record<string, unknown> | undefined) {
  return ({ schema }: { schema: Record<string, unknown> }) => {
    let compiled: ((data: unknown) => string) | undefined;
    return (data: unknown) => {
      if (!compiled) {
        // As @fastify/fast-json-stringify-compiler: a schema shared by $id is not also passed as an external one.
        const id = schema['$id'];
        const external = typeof id === 'string' && id in externalSchemas ? Object.fromEntries(Object.entries(externalSchemas).filter(([key]) => key !== id)) : externalSchemas;
        compiled = fastJson(schema as never, { ...options, schema: external as never }) as (data: unknown) => string;
      }
      return compiled(data);
    };
  };
}

/** The compiled validator with DRF's coercion rules for bodies and numeric path parameters. */
function guardedValidator(validate: Validate, route: Route, resolve: (schema: Record<string, unknown>) => Record<string, unknown>): Validate {
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
