/**
 * What the browsable page shows, gathered from every concept of the request: the view (name,
 * description, extra actions), the router (allowed methods, breadcrumbs), permissions (which
 * buttons and forms the user may use), the renderers (format menu), the paginator's and filter
 * backends' `toHtml()`, the serializer (forms), and the response itself (status, headers, body).
 */
import { STATUS_CODES } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { csrfToken } from '../../auth/csrf.ts';
import { GenericAPIView } from '../../generics.ts';
import { allowedMethods } from '../../permissions.ts';
import { origin } from '../../urls.ts';
import { routeConfig, type APIView } from '../../views.ts';
import { GenericViewSet } from '../../viewsets.ts';
import { buildForm, exampleBody, printJson, writablePart, type FormField } from './forms.ts';
import { bodyFields } from './plain.ts';
import { jsonTokens, type JsonToken } from './json-tokens.ts';
import { markdownToHtml } from './markdown.ts';

/** A template name and its data, as the paginator's and filter backends' `toHtml()` answer. */
export interface HtmlPart {
  template: string;
  context: Record<string, unknown>;
}

/** One HTML form of the page (POST on a list, PUT/PATCH on an item). */
export interface PageForm {
  /** Methods of the submit buttons; the first is the form's main one. */
  methods: string[];
  fields: FormField[];
  nonFieldErrors: string[];
  /** JSON the Raw data tab starts from. */
  raw: string;
}

/** Everything the page template reads. */
export interface PageContext {
  title: string;
  brandHref: string;
  user: string | null;
  login: { href: string } | null;
  logout: { action: string; next: string } | null;
  csrf: { field: string; header: string; token: string } | null;
  /** The strong ETag of the object shown, which the PUT, PATCH and DELETE forms send as `If-Match`. */
  etag: string | null;
  breadcrumbs: { name: string; href: string; current: boolean }[];
  name: string;
  descriptionHtml: string;
  requestLine: { method: string; url: string };
  status: { code: number; text: string };
  headers: { name: string; value: string }[];
  body: JsonToken[];
  path: string;
  formats: { format: string; href: string; current: boolean }[];
  allow: string[];
  canOptions: boolean;
  canDelete: boolean;
  deleteConfirm: string;
  extraActions: { name: string; href: string }[];
  swaggerHref: string | null;
  pagination: HtmlPart | null;
  filters: HtmlPart[];
  postForm: PageForm | null;
  putForm: PageForm | null;
  parsers: string[];
  errorDetail: string | null;
}

/** Options of the page the renderer passes down. */
export interface PageOptions {
  cutoff: number;
}

const WRITE_METHODS = ['POST', 'PUT', 'PATCH', 'DELETE'];
const titleCase = (text: string) => text.replace(/[-_]+/g, ' ').replace(/([a-z0-9])([A-Z])/g, '$1 $2').replace(/\b\w/g, (c) => c.toUpperCase());

/** The heading of a page: "Book List", "Book Instance", "Api Root", an extra action's name, or a plain view's. */
export function viewNameOf(request: FastifyRequest, view: APIView | null, detail: boolean): string {
  const config = routeConfig(request);
  if (config.routeName === 'api-root') return 'Api Root';
  if (view instanceof GenericAPIView) {
    const action = config.action;
    const extra = view instanceof GenericViewSet ? view.getExtraActions().find((a) => a.name === action) : undefined;
    if (extra) return `${view.name} ${titleCase(extra.name)}`;
    return `${view.name} ${detail ? 'Instance' : 'List'}`;
  }
  if (!view && config.plainRoute) return config.plainRoute.summary ?? titleCase(config.plainRoute.url.split('/').filter((s) => s && !s.startsWith(':')).at(-1) ?? 'Root');
  const explicit = (view as { viewName?: unknown } | null)?.viewName;
  if (typeof explicit === 'string' && explicit) return explicit;
  return view ? titleCase(view.constructor.name.replace(/(ViewSet|View)$/, '')) || 'View' : 'Response';
}

/** A route name as a breadcrumb: `book-list` -> "Book List", `book-detail` -> "Book Instance". */
function crumbName(routeName: string): string {
  if (routeName === 'api-root') return 'Api Root';
  return titleCase(routeName.replace(/-detail$/, '-instance'));
}

/** The page of one response. */
export async function pageContext(request: FastifyRequest, reply: FastifyReply, view: APIView | null, data: unknown, options: PageOptions): Promise<PageContext> {
  const app = request.server;
  const settings = app.restSettings;
  const config = routeConfig(request);
  const url = new URL(request.url, origin(request));
  const path = url.pathname;
  const generic = view instanceof GenericAPIView ? view : null;
  const lookup = generic ? (request.params as Record<string, unknown> | undefined)?.[generic.lookupUrlKwarg] : undefined;
  const extra = generic instanceof GenericViewSet ? generic.getExtraActions().find((a) => a.name === config.action) : undefined;
  const detail = lookup !== undefined && !extra;
  const isList = Boolean(generic) && lookup === undefined && !extra;
  const allow = config.allow ?? [];
  const status = reply.statusCode;

  const auth = app.hasDecorator('authConfig') ? app.authConfig : null;
  const here = `${path}${url.search}`;
  const csrf = auth ? { field: auth.csrf.fieldName, header: auth.csrf.headerName, token: csrfToken(request, reply, auth.csrf) } : null;

  let permitted: string[] = [];
  if (view && status !== 404) {
    const candidates = allow.filter((m) => WRITE_METHODS.includes(m));
    permitted = await allowedMethods(request, view, candidates, detail && generic ? { object: (clone) => generic.getObject(clone) } : {});
  }

  const failed = status === 400 && ['POST', 'PUT', 'PATCH'].includes(request.method) && data !== null && typeof data === 'object' && !Array.isArray(data);
  const errors = failed ? (data as Record<string, unknown>) : {};
  const sent = failed && request.body && typeof request.body === 'object' && !Array.isArray(request.body) ? (request.body as Record<string, unknown>) : {};
  // What a failed submit sent, for the raw-data tab; the form's own example when it cannot be printed.
  const rawOf = (own: boolean, example: unknown) => (own && failed && printJson(sent, 4)) || JSON.stringify(example, null, 4);
  const nonFieldErrors = failed ? [...toList(errors['non_field_errors'])] : [];

  let postForm: PageForm | null = null;
  let putForm: PageForm | null = null;
  if (generic && isList && permitted.includes('POST')) {
    const serializer = generic.serializerFor('create');
    const own = request.method === 'POST';
    postForm = {
      methods: ['POST'],
      fields: await buildForm(request, serializer, { values: own ? sent : {}, errors: own ? errors : {}, cutoff: options.cutoff }),
      nonFieldErrors: own ? nonFieldErrors : [],
      raw: rawOf(own, exampleBody(serializer)),
    };
  }
  const editMethods = ['PUT', 'PATCH'].filter((m) => permitted.includes(m));
  if (generic && detail && editMethods.length) {
    const serializer = generic.serializerFor(permitted.includes('PUT') ? 'update' : 'partialUpdate');
    const own = request.method === 'PUT' || request.method === 'PATCH';
    const current = status < 300 && data && typeof data === 'object' ? (data as Record<string, unknown>) : {};
    putForm = {
      methods: editMethods,
      fields: await buildForm(request, serializer, { values: own && failed ? sent : current, errors: own ? errors : {}, cutoff: options.cutoff }),
      nonFieldErrors: own ? nonFieldErrors : [],
      raw: rawOf(own, writablePart(serializer, current)),
    };
  }

  const plain = view ? undefined : config.plainRoute;
  if (plain) {
    // A plain route's forms: one per body schema of the URL's POST, then PUT/PATCH routes.
    for (const methods of [['POST'], ['PUT', 'PATCH']]) {
      const offered = methods.filter((m) => plain.bodies.has(m));
      if (!offered.length) continue;
      const source = { fields: bodyFields(app, plain.bodies.get(offered[0]!)!) };
      const own = offered.includes(request.method);
      const form: PageForm = {
        methods: offered,
        fields: await buildForm(request, source, { values: own ? sent : {}, errors: own ? errors : {}, cutoff: options.cutoff }),
        nonFieldErrors: own ? nonFieldErrors : [],
        raw: rawOf(own, exampleBody(source)),
      };
      if (methods[0] === 'POST') postForm = form;
      else putForm = form;
    }
  }

  const listing = isList && request.method === 'GET' && status === 200;
  // The Filters button stays on the OPTIONS page of a list: it is the same list's page.
  const filtering = isList && (request.method === 'GET' || request.method === 'OPTIONS') && status === 200;
  const paginator = listing ? generic!.getPaginator(request) : null;
  const filters = filtering ? generic!.getFilterBackends(request).map((b) => b.toHtml(request, generic!)).filter((p): p is HtmlPart => p !== null) : [];

  const schema = request.routeOptions.schema as { operationId?: string; tags?: string[]; hide?: boolean } | undefined;
  const docs = app.hasRoute({ method: 'GET', url: settings.docsPath }) || app.hasRoute({ method: 'GET', url: `${settings.docsPath}/` });
  // A route without an operation of its own (OPTIONS) links to the GET operation of its URL.
  const operation = schema?.operationId && !schema.hide ? { operationId: schema.operationId, tag: schema.tags?.[0] } : config.docsOperation;
  const swaggerHref =
    docs && operation?.operationId ? `${settings.docsPath}#/${encodeURIComponent(operation.tag ?? 'default')}/${encodeURIComponent(operation.operationId)}` : null;

  const formatParam = settings.urlFormatOverride ?? 'format';
  const renderers = view ? view.getRenderers(request) : plain ? settings.defaultRendererClasses : [];
  const formats = renderers.map((r) => {
    const target = new URL(url);
    target.searchParams.set(formatParam, r.format);
    return { format: r.format, href: `${target.pathname}${target.search}`, current: r === request.acceptedRenderer };
  });

  const name = viewNameOf(request, view, detail);
  const description = extra?.description ?? (view as { description?: unknown } | null)?.description ?? plain?.description;
  // As DRF: the Content-Type shown is the represented content's (the first other renderer's), not the page's.
  const content = renderers.find((r) => r !== request.acceptedRenderer && r.format !== request.acceptedRenderer?.format);
  const headers = Object.entries(reply.getHeaders())
    .filter(([, v]) => v !== undefined)
    .map(([key, value]) => ({
      name: key.replace(/(^|-)\w/g, (c) => c.toUpperCase()),
      value: key === 'content-type' && content ? content.mediaType : Array.isArray(value) ? value.join(', ') : String(value),
    }));
  const errorDetail = status >= 400 && data && typeof data === 'object' && typeof (data as { detail?: unknown }).detail === 'string' ? (data as { detail: string }).detail : null;

  return {
    title: settings.title,
    brandHref: app.urls.has('api-root') ? app.urls.path('api-root') : '/',
    user: request.user?.username ?? null,
    login: auth && !request.user ? { href: `${auth.loginUrl}?next=${encodeURIComponent(here)}` } : null,
    logout: auth && request.user ? { action: auth.logoutUrl, next: here } : null,
    csrf,
    etag: status < 300 && typeof reply.getHeader('etag') === 'string' && !String(reply.getHeader('etag')).startsWith('W/') ? String(reply.getHeader('etag')) : null,
    breadcrumbs: breadcrumbs(request, path),
    name,
    descriptionHtml: markdownToHtml(typeof description === 'string' ? description : ''),
    requestLine: { method: request.method, url: requestLineUrl(request, url, formatParam) },
    status: { code: status, text: STATUS_CODES[status] ?? '' },
    headers,
    body: jsonTokens(data, origin(request)),
    path,
    formats,
    allow,
    canOptions: allow.includes('OPTIONS'),
    canDelete: detail && permitted.includes('DELETE'),
    deleteConfirm: `Delete this ${generic?.name ?? 'object'}? This cannot be undone.`,
    extraActions:
      generic instanceof GenericViewSet && !extra && status < 400
        ? generic
            .getExtraActions()
            .filter((a) => a.detail === detail && a.methods.includes('GET'))
            .map((a) => ({ name: titleCase(a.name), href: `${path.replace(/\/?$/, '/')}${a.urlPath}/` }))
        : [],
    swaggerHref,
    pagination: paginator?.toHtml(request, generic!, data) ?? null,
    filters,
    postForm,
    putForm,
    parsers: (view ? view.getParsers(request) : plain ? settings.defaultParserClasses : []).map((p) => p.mediaType),
    errorDetail,
  };
}

/**
 * The URL the request line shows: the request's, without the `?format=` the page's own forms and
 * script add to writes and OPTIONS (a GET shows what was asked for, format included).
 */
function requestLineUrl(request: FastifyRequest, url: URL, formatParam: string): string {
  const format = request.acceptedRenderer?.format;
  if (request.method === 'GET' || request.method === 'HEAD' || !format || url.searchParams.get(formatParam) !== format) return request.url;
  const shown = new URL(url);
  shown.searchParams.delete(formatParam);
  return `${shown.pathname}${shown.search}`;
}

function toList(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value.map(String) : [String(value)];
}

/** Each ancestor path that is a route of the app, from the root down to this page. */
function breadcrumbs(request: FastifyRequest, path: string): PageContext['breadcrumbs'] {
  const parts = path.split('/').filter(Boolean);
  const crumbs: PageContext['breadcrumbs'] = [];
  for (let i = 1; i <= parts.length; i++) {
    const href = `/${parts.slice(0, i).join('/')}/`;
    const found = request.server.urls.resolve(href);
    if (found) crumbs.push({ name: crumbName(found.name), href, current: i === parts.length });
  }
  if (crumbs.length) crumbs[crumbs.length - 1]!.current = true;
  return crumbs;
}
