/**
 * Filter backends: each narrows a list (and item lookups) from the query string, through
 * parameterised SQL only, describes the query parameters it reads for OpenAPI, and gives the
 * browsable page what its Filters dialog shows. One module per backend in `filters/`.
 */
export {
  BaseFilterBackend,
  escapeLike,
  LOOKUPS,
  type FieldNameOf,
  type FieldPathOf,
  type FilteredView,
  type FilterFields,
  type FilterHtml,
  type Lookup,
  type OrderingFields,
  type SearchFields,
} from './filters/base.ts';
export type { AnyQueryBuilder } from './orm.ts';
export { FieldFilterBackend, lookupFits, type FilterParam } from './filters/lookups.ts';
export { SearchFilter, splitSearchTerms, type SearchField } from './filters/search.ts';
export { OrderingFilter } from './filters/ordering.ts';
export { parseDateTime, type FieldPath, type ValueKind } from './filters/values.ts';
