/**
 * `BaseRenderer`: turns a response's data into bytes of one media type. Content negotiation picks
 * a renderer per request (see ../negotiation.ts) and calls `attach()`; the renderer then writes
 * the body when Fastify serializes the reply.
 *
 * The seam for renderers other than plain JSON (the browsable HTML API, `text/html`, format
 * `api`): add an instance to a view's `rendererClasses` (or the `defaultRenderers` setting). When
 * negotiation picks it, `attach()` sets the Content-Type and installs `reply.serializer()`, so
 * every body of that reply (the handler's data, and error bodies such as a 400 or 404) goes
 * through `render(data, { request, reply, view, status, mediaType, params })`, which returns the
 * HTML. Fastify's schema-based serializer is then bypassed for that reply only.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { MediaType } from '../mediatypes.ts';

/** What `render()` receives besides the data. */
export interface RenderContext {
  request: FastifyRequest;
  reply: FastifyReply;
  /** The view that handled the request (an `APIView`, which renderers sit below); `null` for routes outside views. */
  view: object | null;
  /** The response's status code. */
  status: number;
  /** The negotiated media type, e.g. `application/json; indent=4`. */
  mediaType: string;
  /** Its parameters, e.g. `{ indent: '4' }`. */
  params: Readonly<Record<string, string>>;
}

/** The renderer negotiation chose and the media type it answers with. */
export interface RendererSelection {
  readonly renderer: BaseRenderer;
  /** The accepted media type: the client's when more specific than the renderer's (`application/json; indent=4`). */
  readonly mediaType: string;
  /** Parameters of `mediaType` (without `q`), such as `indent`. */
  readonly params: Readonly<Record<string, string>>;
}

const escapes: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => escapes[c]!);

/** Base of every renderer: its media type and format, `render()`, and how it hooks into a reply. */
export abstract class BaseRenderer {
  /** The media type this renderer produces, e.g. `application/json`. */
  abstract readonly mediaType: string;
  /** The short name used by `?format=` and URL suffixes, e.g. `json`. */
  abstract readonly format: string;
  /** Charset added to the Content-Type; `null` for binary formats. */
  readonly charset: string | null = 'utf-8';

  #parsed: MediaType | undefined;

  /** `mediaType`, parsed once. */
  get parsedMediaType(): MediaType {
    return (this.#parsed ??= new MediaType(this.mediaType));
  }

  /** The response body for `data` (DRF's `render(data, accepted_media_type, renderer_context)`). */
  abstract render(data: unknown, context: RenderContext): string | Buffer;

  /** The Content-Type header of a reply rendered for `selection`. */
  contentType(selection: RendererSelection): string {
    return this.charset === null ? selection.mediaType : `${selection.mediaType}; charset=${this.charset}`;
  }

  /**
   * Hooks this renderer into a reply once negotiation chose it: sets the Content-Type and routes
   * every body of the reply through `render()`. A renderer that lets Fastify's schema serializer
   * write the body (the fast path of `JSONRenderer`) overrides this to do nothing.
   */
  attach(request: FastifyRequest, reply: FastifyReply, selection: RendererSelection, view: object | null): void {
    const contentType = this.contentType(selection);
    reply.header('content-type', contentType);
    reply.serializer(((payload: unknown) => {
      reply.header('content-type', contentType);
      const context: RenderContext = { request, reply, view, status: reply.statusCode, mediaType: selection.mediaType, params: selection.params };
      return this.render(payload, context);
    }) as (payload: unknown) => string);
  }

  /** OpenAPI side hook: the response media types this renderer documents (none to stay out of the document). */
  openapiMediaTypes(): string[] {
    return [this.mediaType];
  }

  /** Browsable-page side hook: this renderer's entry in the GET button's format menu. */
  toHtml(request: FastifyRequest): string {
    const url = new URL(request.url, 'http://placeholder');
    url.searchParams.set(request.server.restSettings.urlFormatOverride ?? 'format', this.format);
    const href = escapeHtml(`${url.pathname}${url.search}`);
    return `<a class="format-option" href="${href}" rel="nofollow" title="Make a GET request with the format set to ${escapeHtml(this.format)}">${escapeHtml(this.format)}</a>`;
  }
}
