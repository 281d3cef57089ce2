/**
 * Content negotiation: which renderer answers a request and which parser reads its body.
 * Renderers are chosen from the Accept header, ranked by q-value then specificity (DRF ignores
 * q-values; fastrest honours them), and an explicit format (`?format=json`, a `.json` suffix)
 * narrows the choice and wins over Accept. An unknown format is a 404, nothing acceptable a 406.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { NotAcceptable, NotFound } from './exceptions.ts';
import { MediaType, parseAccept } from './mediatypes.ts';
import type { BaseParser } from './parsers.ts';
import type { BaseRenderer, RendererSelection } from './renderers/base.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The renderer chosen by content negotiation (DRF's `accepted_renderer`); `null` before it ran. */
    acceptedRenderer: BaseRenderer | null;
    /** The media type the response is rendered as (DRF's `accepted_media_type`). */
    acceptedMediaType: string | null;
    /** The format forced by a URL suffix such as `.json`; set by routers. */
    formatSuffix: string | null;
  }
}

/** Base of content negotiation policies: pick the renderer of a request and the parser of its body. */
export abstract class BaseContentNegotiation {
  /** The renderer answering `request`; throws `NotAcceptable` (406) or `NotFound` (404, unknown format). */
  abstract selectRenderer(request: FastifyRequest, renderers: readonly BaseRenderer[], formatSuffix?: string | null): RendererSelection;

  /** The parser for the request's Content-Type among `parsers`, or `null` (a 415 for the caller). */
  selectParser(request: FastifyRequest, parsers: readonly BaseParser[]): BaseParser | null {
    const header = request.headers['content-type'];
    if (!header) return null;
    const contentType = new MediaType(header);
    return parsers.find((parser) => parser.parsedMediaType.matches(contentType)) ?? null;
  }

  /** What negotiation adds to an operation in OpenAPI: the `produces` list. */
  openapiProduces(renderers: readonly BaseRenderer[]): string[] {
    return [...new Set(renderers.flatMap((renderer) => renderer.openapiMediaTypes()))];
  }
}

type Outcome = RendererSelection | typeof NOT_FOUND | typeof NOT_ACCEPTABLE;
const NOT_FOUND = Symbol('not found');
const NOT_ACCEPTABLE = Symbol('not acceptable');

/** Per renderer list: the renderers' parsed media types, the no-Accept answer and remembered outcomes. */
interface Table {
  entries: { renderer: BaseRenderer; type: MediaType }[];
  first: RendererSelection;
  outcomes: Map<string, Outcome>;
}

/**
 * DRF's `DefaultContentNegotiation`, plus q-values and "an explicit format wins". Outcomes are
 * remembered per renderer list and Accept header (a bounded map), so the parsing runs once per
 * distinct header; treat renderer lists as immutable once requests flow.
 */
export class DefaultContentNegotiation extends BaseContentNegotiation {
  /** How many distinct (format, Accept) pairs are remembered per renderer list. */
  cacheSize = 512;
  readonly #tables = new WeakMap<readonly BaseRenderer[], Table>();

  override selectRenderer(request: FastifyRequest, renderers: readonly BaseRenderer[], formatSuffix: string | null = null): RendererSelection {
    if (renderers.length === 0) throw new NotAcceptable();
    const table = this.#tables.get(renderers) ?? this.#table(renderers);
    const format = formatSuffix ?? this.getFormatQuery(request);
    const accept = request.headers.accept;
    if (format === null && (accept === undefined || accept === '*/*' || accept === '')) return table.first;
    const key = format === null ? accept! : `${format}\n${accept ?? ''}`;
    let outcome = table.outcomes.get(key);
    if (outcome === undefined) {
      outcome = this.negotiate(table.entries, format, accept);
      if (table.outcomes.size >= this.cacheSize) table.outcomes.clear();
      table.outcomes.set(key, outcome);
    }
    if (outcome === NOT_FOUND) throw new NotFound();
    if (outcome === NOT_ACCEPTABLE) throw new NotAcceptable();
    return outcome;
  }

  /** The `?format=` value (DRF's `URL_FORMAT_OVERRIDE`, named by the `urlFormatOverride` setting), or `null`. */
  getFormatQuery(request: FastifyRequest): string | null {
    const name = request.server.restSettings.urlFormatOverride;
    if (name === null) return null;
    const value = (request.query as Record<string, unknown> | undefined)?.[name];
    const last = Array.isArray(value) ? value[value.length - 1] : value;
    return typeof last === 'string' && last !== '' ? last : null;
  }

  /** Chooses among `entries`: the best quality, then the most specific Accept entry, then the renderers' order. */
  protected negotiate(entries: Table['entries'], format: string | null, accept: string | undefined): Outcome {
    const candidates = format === null ? entries : entries.filter((e) => e.renderer.format === format);
    if (candidates.length === 0) return NOT_FOUND;
    const ranges = parseAccept(accept);
    let best: { entry: Table['entries'][number]; range: MediaType } | null = null;
    for (const entry of candidates) {
      let range: MediaType | null = null;
      for (const candidate of ranges) {
        if (entry.type.matches(candidate) && (range === null || candidate.precedence > range.precedence)) range = candidate;
      }
      if (range === null || range.quality <= 0) continue;
      if (best === null || range.quality > best.range.quality || (range.quality === best.range.quality && range.precedence > best.range.precedence)) {
        best = { entry, range };
      }
    }
    if (best === null) return format === null ? NOT_ACCEPTABLE : selection(candidates[0]!.renderer, candidates[0]!.type);
    const { entry, range } = best;
    return selection(entry.renderer, range.precedence > entry.type.precedence ? range : entry.type);
  }

  #table(renderers: readonly BaseRenderer[]): Table {
    const entries = renderers.map((renderer) => ({ renderer, type: renderer.parsedMediaType }));
    const table: Table = { entries, first: selection(entries[0]!.renderer, entries[0]!.type), outcomes: new Map() };
    this.#tables.set(renderers, table);
    return table;
  }
}

function selection(renderer: BaseRenderer, type: MediaType): RendererSelection {
  return Object.freeze({ renderer, mediaType: type.toString(), params: type.params });
}

/** Adds names to the `Vary` header without repeating one (Django's `patch_vary_headers`). */
export function patchVaryHeaders(reply: FastifyReply, names: readonly string[]): void {
  const current = reply.getHeader('vary');
  if (current === undefined || current === '') {
    reply.header('vary', names.length === 1 ? names[0]! : names.join(', '));
    return;
  }
  const existing = String(current)
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);
  if (existing.includes('*')) return;
  const lower = new Set(existing.map((v) => v.toLowerCase()));
  const added = names.filter((n) => !lower.has(n.toLowerCase()));
  if (added.length) reply.header('vary', [...existing, ...added].join(', '));
}
