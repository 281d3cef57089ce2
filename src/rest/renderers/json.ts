/**
 * `JSONRenderer`: compact UTF-8 JSON (non-ASCII characters are not escaped). Without an `indent`
 * parameter it renders nothing itself: Fastify's serializer, compiled from the route's response
 * schema (fast-json-stringify), writes the body. `Accept: application/json; indent=4` pretty-prints
 * the same document.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { BaseRenderer, type RenderContext, type RendererSelection } from './base.ts';

/** DRF's `JSONRenderer`. */
export class JSONRenderer extends BaseRenderer {
  readonly mediaType: string = 'application/json';
  readonly format: string = 'json';
  /** Largest indent a client may ask for (DRF's cap). */
  maxIndent = 8;

  /** The indent asked for through the media type's `indent` parameter, or `null` for compact output. */
  getIndent(params: Readonly<Record<string, string>>): number | null {
    const raw = params['indent'];
    if (raw === undefined) return null;
    const indent = Number.parseInt(raw, 10);
    return Number.isNaN(indent) ? null : Math.min(Math.max(indent, 0), this.maxIndent);
  }

  /** Compact output is left to Fastify's schema serializer (the fast path); an indent renders here. */
  override attach(request: FastifyRequest, reply: FastifyReply, selection: RendererSelection, view: object | null): void {
    if (this.getIndent(selection.params) === null) return;
    super.attach(request, reply, selection, view);
  }

  override render(data: unknown, context: RenderContext): string {
    if (data === undefined) return '';
    if (typeof data === 'string') return data;
    const indent = this.getIndent(context.params);
    return JSON.stringify(schemaShaped(data, context), null, indent ?? undefined);
  }
}

/**
 * `data` as the route's response schema for the status shapes it (the fields the compact output
 * has), so a pretty-printed body is the same document; data without a schema is returned as is.
 */
export function schemaShaped(data: unknown, context: RenderContext): unknown {
  const { reply, status } = context;
  for (const key of [status, `${Math.floor(status / 100)}xx`, 'default']) {
    try {
      return JSON.parse(reply.serializeInput(data as Record<string, unknown>, String(key)) as string);
    } catch {
      // no serializer for this key: try the next one
    }
  }
  return data;
}
