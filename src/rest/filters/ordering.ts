/**
 * `OrderingFilter`: `?ordering=title,-id` orders a list by fields the view allows
 * (`orderingFields`), ignoring the others, and falls back to the view's `ordering`, as DRF's
 * OrderingFilter does. The primary key always ends the ordering, so equal values keep one
 * order from page to page.
 */
import type { FastifyRequest } from 'fastify';
import type { ModelSerializer } from '../serializers.ts';
import { withQuery } from '../urls.ts';
import type { AnyQueryBuilder } from '../orm.ts';
import { BaseFilterBackend, queryParam, type FilteredView, type FilterHtml } from './base.ts';
import { type FieldPath, nest, resolvePath } from './values.ts';

const compiled = new WeakMap<FilteredView, { serializer: ModelSerializer; fields: Map<string, FieldPath> }>();

/** Orders lists by the `ordering` parameter over the view's `orderingFields` (DRF's `OrderingFilter`). */
export class OrderingFilter extends BaseFilterBackend {
  /** The query parameter read (DRF's `ORDERING_PARAM`). */
  orderingParam = 'ordering';
  /** Its description in OpenAPI. */
  orderingDescription = 'Which field to use when ordering the results.';

  constructor(options: { orderingParam?: string; orderingDescription?: string } = {}) {
    super();
    if (options.orderingParam) this.orderingParam = options.orderingParam;
    if (options.orderingDescription) this.orderingDescription = options.orderingDescription;
  }

  /**
   * The fields a client may order by, keyed by name (DRF's `get_valid_fields`); without
   * `orderingFields`, every readable serializer field, as in DRF.
   */
  getValidFields(view: FilteredView, serializer: ModelSerializer = view.serializer): Map<string, FieldPath> {
    const cached = compiled.get(view);
    if (cached?.serializer === serializer) return cached.fields;
    const declared = view.orderingFields;
    const names: readonly string[] =
      declared === undefined || declared === '__all__' ? serializer.fields.filter((f) => !f.writeOnly && ['scalar', 'm:1', '1:1'].includes(f.kind)).map((f) => f.name) : declared;
    const where = `${view.constructor.name}.orderingFields`;
    const fields = new Map(names.map((name) => [name, resolvePath(serializer, name, where)] as const));
    compiled.set(view, { serializer, fields });
    return fields;
  }

  /** The view's default ordering as terms such as `['title', '-id']` (DRF's `get_default_ordering`). */
  getDefaultOrdering(view: FilteredView): string[] {
    return Object.entries(view.ordering ?? {}).map(([field, direction]) => (direction === 'desc' ? `-${field}` : field));
  }

  /**
   * The ordering of this request (DRF's `get_ordering`): the valid terms of the parameter, else
   * the view's default. Paginators that need a stable order (cursors) read it from here.
   */
  getOrdering(request: FastifyRequest, view: FilteredView): string[] {
    const param = queryParam(request, this.orderingParam);
    if (param === undefined || param === '') return this.getDefaultOrdering(view);
    const valid = this.getValidFields(view, view.getSerializer(request));
    const terms = param
      .split(',')
      .map((t) => t.trim())
      .filter((t) => valid.has(t.replace(/^-/, '')));
    const seen = new Set<string>();
    const unique = terms.filter((t) => !seen.has(t.replace(/^-/, '')) && Boolean(seen.add(t.replace(/^-/, ''))));
    return unique.length ? unique : this.getDefaultOrdering(view);
  }

  /** The ordering terms: requests ordered alike share one query. */
  override queryShape(request: FastifyRequest, view: FilteredView): string | null {
    return this.getOrdering(request, view).join(',');
  }

  filterQueryset(request: FastifyRequest, qb: AnyQueryBuilder, view: FilteredView): AnyQueryBuilder {
    const serializer = view.getSerializer(request);
    const valid = this.getValidFields(view, serializer);
    const pk = serializer.primaryKey;
    const terms = this.getOrdering(request, view);
    if (!terms.some((t) => t.replace(/^-/, '') === pk)) terms.push(pk);
    const orderBy = terms.map((term) => {
      const desc = term.startsWith('-');
      const name = desc ? term.slice(1) : term;
      return nest(valid.get(name)?.segments ?? name.split('__'), desc ? 'desc' : 'asc');
    });
    return qb.orderBy(orderBy as never);
  }

  override getQuerystringProperties(view: FilteredView): Record<string, Record<string, unknown>> {
    const names = [...this.getValidFields(view).keys()];
    if (!names.length) return {};
    return {
      [this.orderingParam]: {
        type: 'string',
        description: `${this.orderingDescription} Comma-separated names among ${names.join(', ')}; a leading "-" orders descending.`,
        examples: [`${names[0]},-${names[names.length - 1]}`],
      },
    };
  }

  /** The Filters dialog's ordering links, the current one marked (DRF's `get_template_context`). */
  override toHtml(request: FastifyRequest, view: FilteredView): FilterHtml | null {
    const valid = this.getValidFields(view, view.getSerializer(request));
    if (!valid.size) return null;
    const current = this.getOrdering(request, view)[0] ?? null;
    const options = [...valid.values()].flatMap((field) =>
      [field.name, `-${field.name}`].map((key) => ({
        key,
        label: `${field.label} - ${key.startsWith('-') ? 'descending' : 'ascending'}`,
        url: withQuery(request, { [this.orderingParam]: key }),
        active: key === current,
      })),
    );
    return { template: 'filters/ordering', context: { param: this.orderingParam, current, options } };
  }
}
