/**
 * Conditional requests (RFC 9110 §13): `ConditionalRequests` gives what model views answer an
 * entity-tag (strong on one object, weak on lists), answers `If-None-Match` on reads with a 304,
 * and checks `If-Match` on writes inside the write's transaction: the row is locked (`SELECT ...
 * FOR UPDATE`), its current ETag computed from the same representation a GET shows, and a stale
 * tag is a 412 before anything is written, so concurrent conditional writes never lose an update.
 * Set per app (`conditionalRequests` setting) or per view (`GenericAPIView.conditionalRequests`).
 */
import { hash } from 'node:crypto';
import { LockMode, type EntityManager } from '@mikro-orm/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { PreconditionFailed, PreconditionRequired } from './exceptions.ts';
import type { ModelSerializer } from './serializers.ts';

/** What conditional requests read of a model view; `GenericAPIView` implements it. */
export interface ConditionalView {
  /** The serializer of an action: the ETag is the one of the `retrieve` representation. */
  serializerFor(action: string | undefined): ModelSerializer;
  /** The response bodies of entities, related objects loaded. */
  represent(request: FastifyRequest, items: readonly object[], serializer?: ModelSerializer): Promise<unknown[]>;
}

/** The standard actions whose answers carry an ETag, and the kind of tag. */
const TAGGED: Readonly<Record<string, 'strong' | 'weak'>> = { retrieve: 'strong', update: 'strong', partialUpdate: 'strong', create: 'strong', list: 'weak' };

/** The standard actions that check `If-Match` (and `If-None-Match`) against the stored object. */
const WRITES: ReadonlySet<string> = new Set(['update', 'partialUpdate', 'destroy']);

/** The entity-tags of an `If-Match`/`If-None-Match` header, or `'*'` for any. */
export function parseEntityTags(header: string): '*' | { weak: boolean; opaque: string }[] {
  if (header.trim() === '*') return '*';
  const tags: { weak: boolean; opaque: string }[] = [];
  for (const match of header.matchAll(/(W\/)?"([^"]*)"/g)) tags.push({ weak: Boolean(match[1]), opaque: match[2]! });
  return tags;
}

/** Whether `header` names `tag`: strong comparison (both strong, same opaque tag) or weak (same opaque tag). */
export function matchesEntityTag(header: string, tag: string, comparison: 'strong' | 'weak'): boolean {
  const tags = parseEntityTags(header);
  if (tags === '*') return true;
  const [own] = parseEntityTags(tag) as { weak: boolean; opaque: string }[];
  if (!own) return false;
  return tags.some((t) => t.opaque === own.opaque && (comparison === 'weak' || (!t.weak && !own.weak)));
}

function headerOf(request: FastifyRequest, name: 'if-match' | 'if-none-match'): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

/** The policy of ETags and preconditions: options as properties, per-request `get*()` hooks, side hooks for OpenAPI. */
export class ConditionalRequests {
  /** Whether lists carry a weak ETag (and answer `If-None-Match` with a 304). */
  listETags = true;
  /** Whether PUT, PATCH and DELETE must send `If-Match` (428 Precondition Required without). */
  requireIfMatch = false;
  /** The digest of representations (any of `node:crypto`'s hashes). */
  algorithm = 'sha1';

  /** Whether writes of this request must be conditional. */
  getRequireIfMatch(_request: FastifyRequest): boolean {
    return this.requireIfMatch;
  }

  /** The strong ETag of one object's representation: a digest of its JSON; `null` sends none. */
  getETag(_request: FastifyRequest, representation: unknown): string | null {
    return `"${hash(this.algorithm, JSON.stringify(representation) ?? '', 'base64url')}"`;
  }

  /** The weak ETag of a list body (a page of one, or every row); `null` sends none. */
  getListETag(request: FastifyRequest, body: unknown): string | null {
    if (!this.listETags) return null;
    const tag = this.getETag(request, body);
    return tag === null ? null : `W/${tag}`;
  }

  /**
   * Read side, after a standard action made its body: sets the ETag of what `action` answers and,
   * on GET and HEAD, answers a failed `If-Match` with a 412 and a matching `If-None-Match` with a
   * 304 without a body. Returns the body to send (the reply itself once a 304 is sent).
   */
  respond(request: FastifyRequest, reply: FastifyReply, view: ConditionalView, action: string | undefined, body: unknown): unknown {
    const kind = action === undefined ? undefined : TAGGED[action];
    if (!kind || body === undefined || reply.statusCode >= 300) return body;
    // The tag names the retrieve representation: an action with a serializer of its own sends none.
    if (kind === 'strong' && view.serializerFor(action) !== view.serializerFor('retrieve')) return body;
    const tag = kind === 'weak' ? this.getListETag(request, body) : this.getETag(request, body);
    if (tag === null) return body;
    reply.header('etag', tag);
    if (request.method !== 'GET' && request.method !== 'HEAD') return body;
    const ifMatch = headerOf(request, 'if-match');
    if (ifMatch !== undefined && !matchesEntityTag(ifMatch, tag, 'strong')) throw new PreconditionFailed();
    const ifNoneMatch = headerOf(request, 'if-none-match');
    if (ifNoneMatch !== undefined && matchesEntityTag(ifNoneMatch, tag, 'weak')) return reply.code(304).send();
    return body;
  }

  /**
   * Write side, inside the write's transaction and before it changes anything: when the request
   * is conditional, locks the object's row, reloads it, and compares its current ETag with
   * `If-Match` (strongly; `*` passes as the object exists) and `If-None-Match` (weakly). A write
   * that does not hold is a 412; the lock keeps the row as compared until the transaction ends.
   */
  async checkWrite(request: FastifyRequest, view: ConditionalView, instance: object, em: EntityManager = request.em): Promise<void> {
    const ifMatch = headerOf(request, 'if-match');
    const ifNoneMatch = headerOf(request, 'if-none-match');
    if (ifMatch === undefined && ifNoneMatch === undefined) {
      if (this.getRequireIfMatch(request)) throw new PreconditionRequired();
      return;
    }
    const current = await em.refresh(instance, { lockMode: LockMode.PESSIMISTIC_WRITE });
    if (!current) throw new PreconditionFailed();
    const [representation] = await view.represent(request, [current], view.serializerFor('retrieve'));
    const tag = this.getETag(request, representation);
    if (tag === null) return;
    if (ifMatch !== undefined && !matchesEntityTag(ifMatch, tag, 'strong')) throw new PreconditionFailed();
    if (ifNoneMatch !== undefined && matchesEntityTag(ifNoneMatch, tag, 'weak')) throw new PreconditionFailed();
  }

  /**
   * OpenAPI side hook: what `action` adds to its operation, the request headers it reads (route
   * `headers` schema properties), the responses it may give and the statuses whose answer carries
   * an ETag. `null` for an action this policy leaves alone.
   */
  openapiOperation(action: string, status: number): { headers: Record<string, unknown>; responses: Record<number, unknown>; etag: number[] } | null {
    const kind = TAGGED[action];
    const write = WRITES.has(action);
    if (!kind && !write) return null;
    if (kind === 'weak' && !this.listETags) return null;
    const detail = (description: string) => ({ description, $ref: 'ErrorDetail#' });
    const headers: Record<string, unknown> = {};
    const responses: Record<number, unknown> = {};
    if (action === 'retrieve' || action === 'list') {
      headers['if-none-match'] = { type: 'string', description: IF_NONE_MATCH };
      responses[304] = { type: 'null', description: 'Not modified' };
    }
    if (write) {
      headers['if-match'] = { type: 'string', description: IF_MATCH };
      responses[412] = detail('Precondition failed');
      if (this.requireIfMatch) responses[428] = detail('Precondition required');
    }
    return { headers, responses, etag: kind ? [status, ...(responses[304] ? [304] : [])] : [] };
  }
}

/** What the OpenAPI document says of `If-Match`. */
export const IF_MATCH = 'The ETag of the object as you read it (`*`: any version): the write happens only if the object is still that version, else 412.';
/** What the OpenAPI document says of `If-None-Match`. */
export const IF_NONE_MATCH = 'ETags you hold: when the representation still has one of them, the answer is a 304 without a body.';
/** What the OpenAPI document says of `ETag`. */
export const ETAG = 'The entity-tag of the representation: strong on one object (send it back in `If-Match` to update or delete only that version), weak (`W/`) on lists.';

declare module './settings.ts' {
  interface RestSettings {
    /** ETags and preconditions of model views that set none; `null` turns them off. */
    conditionalRequests: ConditionalRequests | null;
  }
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The conditional-request policy of a standard action's route, for OpenAPI; set by routers. */
    conditional?: ConditionalRequests;
  }
}
