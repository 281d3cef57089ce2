/**
 * Pagination: a paginator cuts a list query into a page and wraps the rows in an envelope
 * with absolute links; it also names its query parameters and its envelope schema for OpenAPI,
 * and gives the browsable page its controls. One module per paginator in `pagination/`.
 */
export {
  BasePagination,
  displayedPageNumbers,
  eitherShapeSerializerCompiler,
  queryErrorsBeyond,
  type JsonSchema,
  type ListQuery,
  type PageLink,
  type PaginatedView,
  type PaginationHtml,
} from './pagination/base.ts';
export { estimatedCount, exactCount, type CountMode, type RowCount } from './orm.ts';
export { PageNumberPagination } from './pagination/page-number.ts';
export { LimitOffsetPagination } from './pagination/limit-offset.ts';
export { CursorPagination, keysetCondition, type CursorOrderingTerm, type CursorPosition } from './pagination/cursor.ts';
