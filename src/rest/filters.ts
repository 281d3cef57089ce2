/**
 * Filter backends: each narrows a list (and item lookups) from the query string, through
 * parameterised SQL only, describes the query parameters it reads for OpenAPI, and gives the
 * browsable page what its Filters dialog shows. One module per backend in `filters/`.
 */
export { BaseFilterBackend, escapeLike, type AnyQueryBuilder, type FilterHtml } from './filters/base.ts';
export {
  FieldFilterBackend,
  LOOKUPS,
  lookupFits,
  type FieldNameOf,
  type FieldPathOf,
  type FilterFields,
  type FilterParam,
  type Lookup,
} from './filters/lookups.ts';
export { SearchFilter, splitSearchTerms, type SearchField, type SearchFields } from './filters/search.ts';
export { OrderingFilter, type OrderingFields } from './filters/ordering.ts';
export { parseDateTime, type FieldPath, type ValueKind } from './filters/values.ts';
