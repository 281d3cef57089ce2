/**
 * `SearchFilter`: `?search=django rest` keeps the objects where every term matches at least one
 * of the view's `searchFields`, as DRF's SearchFilter does. A field name may start with `^`
 * (starts with) or `=` (exact); both, like the default (contains), ignore case.
 */
import type { FastifyRequest } from 'fastify';
import { SetupError, ValidationError } from '../exceptions.ts';
import type { ModelSerializer } from '../serializers.ts';
import type { AnyQueryBuilder } from '../orm.ts';
import { BaseFilterBackend, formTarget, queryParam, type FilteredView, type FilterHtml, type Lookup } from './base.ts';
import { lookupCondition } from './lookups.ts';
import { type FieldPath, kindName, nest, parseValue, resolvePath } from './values.ts';

/** One searched field with the lookup each term uses on it. */
export interface SearchField {
  field: FieldPath;
  lookup: Extract<Lookup, 'icontains' | 'istartswith' | 'iexact' | 'exact'>;
}

const PREFIXES: Record<string, SearchField['lookup']> = { '^': 'istartswith', '=': 'iexact' };
const UNSUPPORTED: Record<string, string> = { '@': 'full-text search (@)', $: 'regular expression search ($)' };

/** Django's `smart_split`: words, with quoted phrases (and their escapes) kept whole. */
const SMART_SPLIT = /((?:[^\s'"]*(?:(?:"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')[^\s'"]*)+)|\S+)/g;

/** DRF's `search_smart_split`: terms split on whitespace and commas; quoted phrases stay whole, unquoted. */
export function splitSearchTerms(text: string): string[] {
  const terms: string[] = [];
  // matchAll compiles a copy of its pattern each call: most requests have no search at all.
  if (text === '') return terms;
  for (const [token] of text.matchAll(SMART_SPLIT)) {
    const term = token.replace(/^,+|,+$/g, '');
    if (term.length >= 2 && (term[0] === '"' || term[0] === "'") && term[0] === term[term.length - 1]) {
      const quote = term[0];
      terms.push(term.slice(1, -1).replaceAll(`\\${quote}`, quote).replaceAll('\\\\', '\\'));
    } else {
      for (const sub of term.split(',')) if (sub) terms.push(sub.trim());
    }
  }
  return terms.filter((t) => t !== '');
}

const compiled = new WeakMap<FilteredView, { serializer: ModelSerializer; fields: SearchField[] }>();

/** Searches the view's `searchFields` for every term of the `search` parameter (DRF's `SearchFilter`). */
export class SearchFilter extends BaseFilterBackend {
  /** The query parameter read (DRF's `SEARCH_PARAM`). */
  searchParam = 'search';
  /** Its description in OpenAPI. */
  searchDescription = 'A search term.';

  constructor(options: { searchParam?: string; searchDescription?: string } = {}) {
    super();
    if (options.searchParam) this.searchParam = options.searchParam;
    if (options.searchDescription) this.searchDescription = options.searchDescription;
  }

  /** The searched fields of this view, checked against its serializer (DRF's `get_search_fields`). */
  getSearchFields(view: FilteredView, serializer: ModelSerializer = view.serializer): SearchField[] {
    const cached = compiled.get(view);
    if (cached?.serializer === serializer) return cached.fields;
    const where = `${view.constructor.name}.searchFields`;
    const fields = (view.searchFields ?? []).map((declared: string): SearchField => {
      const prefix = declared[0]!;
      if (UNSUPPORTED[prefix]) throw new SetupError('FASTREST_ERR_FILTER_CONFIG', `${where} names "${declared}": ${UNSUPPORTED[prefix]} is not supported`);
      const field = resolvePath(serializer, PREFIXES[prefix] ? declared.slice(1) : declared, where);
      const lookup = PREFIXES[prefix] ?? 'icontains';
      if (field.kind === 'string') return { field, lookup };
      if (lookup === 'iexact' && field.kind !== 'other') return { field, lookup: 'exact' };
      throw new SetupError('FASTREST_ERR_FILTER_CONFIG', `${where} names "${declared}": ${kindName(field.kind)} can only be searched exactly ("=${field.name}")`);
    });
    compiled.set(view, { serializer, fields });
    return fields;
  }

  /** The terms of this request; a term with a null character is a 400 (DRF's `get_search_terms`). */
  getSearchTerms(request: FastifyRequest): string[] {
    const text = queryParam(request, this.searchParam) ?? '';
    if (text.includes('\u0000')) throw new ValidationError({ [this.searchParam]: ['Null characters are not allowed.'] });
    return splitSearchTerms(text);
  }

  /** Requests without search terms share one query. */
  override queryShape(request: FastifyRequest, view: FilteredView): string | null {
    return this.getSearchFields(view, view.getSerializer(request)).length && this.getSearchTerms(request).length ? null : '';
  }

  filterQueryset(request: FastifyRequest, qb: AnyQueryBuilder, view: FilteredView): AnyQueryBuilder {
    const fields = this.getSearchFields(view, view.getSerializer(request));
    const terms = this.getSearchTerms(request);
    if (!fields.length || !terms.length) return qb;
    for (const term of terms) {
      const matches = fields.flatMap(({ field, lookup }) => {
        if (lookup !== 'exact') return [nest(field.segments, lookupCondition(lookup, [term]))];
        const parsed = parseValue(field, term);
        return parsed.ok ? [nest(field.segments, lookupCondition('exact', [parsed.value]))] : [];
      });
      // A term no field can hold (a word against numeric fields only) matches nothing.
      qb.andWhere((matches.length ? { $or: matches } : { [view.getSerializer(request).primaryKey]: { $in: [] } }) as never);
    }
    return qb;
  }

  override getQuerystringProperties(view: FilteredView): Record<string, Record<string, unknown>> {
    const fields = this.getSearchFields(view);
    if (!fields.length) return {};
    const how = (f: SearchField) => `${f.field.name} (${f.lookup === 'icontains' ? 'contains' : f.lookup === 'istartswith' ? 'starts with' : 'exact'})`;
    return {
      [this.searchParam]: {
        type: 'string',
        description: `${this.searchDescription} Every word (or "quoted phrase") must match one of: ${fields.map(how).join(', ')}; case is ignored.`,
      },
    };
  }

  /** The Filters dialog's search box with the current terms. */
  override toHtml(request: FastifyRequest, view: FilteredView): FilterHtml | null {
    if (!this.getSearchFields(view, view.getSerializer(request)).length) return null;
    return {
      template: 'filters/search',
      context: { ...formTarget(request, view, [this.searchParam]), param: this.searchParam, term: queryParam(request, this.searchParam) ?? '' },
    };
  }
}
