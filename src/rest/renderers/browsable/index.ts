/**
 * `BrowsableAPIRenderer`: DRF's browsable API, the HTML page of every endpoint (`text/html`,
 * format `api`). The reply's serializer only keeps the data; the page is built in an `onSend`
 * hook (`installBrowsableApi`), where the async parts (permissions, related objects) can run,
 * and only for replies that negotiated this renderer. Assets are served by the app under
 * `/static/rest/`, and every page is sent with a strict Content-Security-Policy.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Eta } from 'eta';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { APIView } from '../../views.ts';
import { BaseRenderer, type RenderContext, type RendererSelection } from '../base.ts';
import { pageContext, type HtmlPart } from './page.ts';
import { installPlainRoutes } from './plain.ts';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/** Where the page's stylesheet and script are served. */
export const STATIC_PREFIX = '/static/rest/';

/** The Content-Security-Policy of every browsable page: nothing but this site's own files. */
export const BROWSABLE_CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

interface Pending {
  view: APIView | null;
  data: unknown;
}

const pending = new WeakMap<FastifyReply, Pending>();

/** The documented GET operation of a URL, for the Swagger UI button of the URL's other routes (OPTIONS). */
export interface DocsOperation {
  operationId?: string;
  tag?: string;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Set by the browsable API on every route: the GET operation of the same URL, once registered. */
    docsOperation?: DocsOperation;
  }
}

/** DRF's `BrowsableAPIRenderer`: the API's responses as HTML pages with forms. */
export class BrowsableAPIRenderer extends BaseRenderer {
  readonly mediaType: string = 'text/html';
  readonly format: string = 'api';
  /** Most related objects a form's select lists (DRF's `HTML_SELECT_CUTOFF`); beyond it, a search box. */
  selectCutoff = 1000;
  /** Template folder; replace to restyle the page (same names: `page`, `pagination/*`, `filters/*`). */
  templates = here('./templates');
  #eta: Eta | undefined;

  /** The Eta instance of this renderer's templates (HTML-escaping by default). */
  get eta(): Eta {
    return (this.#eta ??= new Eta({ views: this.templates, cache: true, autoEscape: true }));
  }

  /** Keeps the data for the `onSend` hook; the reply is sent as a page with the CSP header. */
  override attach(request: FastifyRequest, reply: FastifyReply, selection: RendererSelection, view: object | null): void {
    const contentType = this.contentType(selection);
    reply.header('content-type', contentType);
    reply.header('content-security-policy', BROWSABLE_CSP);
    pending.set(reply, { view: view instanceof APIView ? view : null, data: undefined });
    reply.serializer(((payload: unknown) => {
      pending.set(reply, { view: view instanceof APIView ? view : null, data: payload });
      reply.header('content-type', contentType);
      return '';
    }) as (payload: unknown) => string);
  }

  /** A bare page of `data` (indented JSON) for callers of `render()` outside a reply; replies get the full page from `renderPage()`. */
  override render(data: unknown, context: RenderContext): string {
    return this.eta.render('plain', { status: context.status, json: data === undefined ? '' : JSON.stringify(data, null, 4) });
  }

  /** The browsable page is not part of the OpenAPI document. */
  override openapiMediaTypes(): string[] {
    return [];
  }

  /** The page of a reply that negotiated this renderer, built once the handler (or error handler) is done. */
  async renderPage(request: FastifyRequest, reply: FastifyReply): Promise<string> {
    const state = pending.get(reply) ?? { view: null, data: undefined };
    // A DELETE answered as HTML is a 200, so the page has a body (DRF's rule).
    if (reply.statusCode === 204) reply.code(200);
    reply.header('content-type', `${this.mediaType}; charset=${this.charset}`);
    reply.header('content-security-policy', BROWSABLE_CSP);
    reply.header('cache-control', 'no-store');
    const page = await pageContext(request, reply, state.view, state.data, { cutoff: this.selectCutoff });
    const part = (html: HtmlPart | null) => (html ? this.eta.render(html.template, html.context) : '');
    return this.eta.render('page', { ...page, static: STATIC_PREFIX, paginationHtml: part(page.pagination), filtersHtml: page.filters.map(part) });
  }
}

const assets: Record<string, { file: string; type: string }> = {
  'browsable.css': { file: 'browsable.css', type: 'text/css; charset=utf-8' },
  'browsable.js': { file: 'browsable.js', type: 'text/javascript; charset=utf-8' },
};

/**
 * Installs the browsable API on an app: its assets under `/static/rest/` and the hook that turns
 * replies that negotiated `BrowsableAPIRenderer` into pages (other replies pass untouched).
 */
export function installBrowsableApi(app: FastifyInstance): void {
  const files = Object.fromEntries(Object.entries(assets).map(([name, a]) => [name, { body: readFileSync(here(`./static/${a.file}`)), type: a.type }]));
  app.get<{ Params: { file: string } }>(`${STATIC_PREFIX}:file`, { schema: { hide: true } }, async (request, reply) => {
    const asset = files[request.params.file];
    if (!asset) return reply.code(404).send({ detail: 'Not found.' });
    return reply.headers({ 'content-type': asset.type, 'cache-control': 'public, max-age=3600', 'x-content-type-options': 'nosniff' }).send(asset.body);
  });
  installPlainRoutes(app, (renderer) => renderer instanceof BrowsableAPIRenderer);
  const operations = new Map<string, DocsOperation>();
  app.addHook('onRoute', (route) => {
    let entry = operations.get(route.url);
    if (!entry) operations.set(route.url, (entry = {}));
    const schema = route.schema as { operationId?: string; tags?: string[]; hide?: boolean } | undefined;
    if ([route.method].flat().includes('GET') && schema?.operationId && !schema.hide && !entry.operationId) {
      entry.operationId = schema.operationId;
      if (schema.tags?.[0]) entry.tag = schema.tags[0];
    }
    route.config = { ...(route.config ?? {}), docsOperation: entry };
  });
  // A callback hook, so replies that are not pages pass without a promise.
  app.addHook('onSend', (request, reply, payload, done) => {
    const renderer = request.acceptedRenderer;
    if (!(renderer instanceof BrowsableAPIRenderer)) return done(null, payload);
    const ct = String(reply.getHeader('content-type') ?? '');
    if (ct && !ct.startsWith('text/html')) return done(null, payload);
    renderer.renderPage(request, reply).then((page) => done(null, page), done);
  });
}
