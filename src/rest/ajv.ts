/**
 * The validator compiler: Fastify's own Ajv compiler, with DRF's rules for what a body may
 * coerce (see `coercionGuard`) and DRF's wording downstream in the error handler.
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
