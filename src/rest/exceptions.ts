/**
 * The two error families of fastrest.
 *
 * HTTP errors: `APIException` and its subclasses carry a status, a detail and a code, and are
 * rendered by `exceptionHandler` as DRF-shaped bodies. Setup errors: `SetupError` with a stable
 * `FASTREST_ERR_*` code, thrown while an app is being built, never sent to a client.
 * Both families are listed in docs/errors.md.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { errorDetailsFromAjv, type FieldErrors } from './validation.ts';

/** An error body detail: a message, a list of messages, or messages keyed by field. */
export type ErrorDetail = string | string[] | { [field: string]: ErrorDetail };

/** Base class of every error that becomes an HTTP response. */
export class APIException extends Error {
  static readonly status: number = 500;
  static readonly defaultDetail: string = 'A server error occurred.';
  static readonly defaultCode: string = 'error';

  readonly status: number;
  readonly detail: ErrorDetail;
  readonly code: string;
  /** Extra response headers, such as `Allow`, `WWW-Authenticate` or `Retry-After`. */
  readonly headers: Record<string, string> = {};

  constructor(detail?: ErrorDetail, code?: string) {
    const ctor = new.target as unknown as typeof APIException;
    const resolved = detail ?? ctor.defaultDetail;
    super(typeof resolved === 'string' ? resolved : JSON.stringify(resolved));
    this.name = ctor.name;
    this.status = ctor.status;
    this.detail = resolved;
    this.code = code ?? ctor.defaultCode;
  }

  /** The response body: `{"detail": ...}` unless the detail is already keyed by field. */
  toBody(): unknown {
    return { detail: this.detail };
  }
}

/** 400 with field-keyed errors, e.g. `{"title": ["This field is required."]}`. */
export class ValidationError extends APIException {
  static override readonly status = 400;
  static override readonly defaultDetail = 'Invalid input.';
  static override readonly defaultCode = 'invalid';

  constructor(detail?: ErrorDetail, code?: string) {
    const normalised = detail === undefined ? ['Invalid input.'] : typeof detail === 'string' ? [detail] : detail;
    super(normalised, code);
  }

  override toBody(): unknown {
    return this.detail;
  }
}

/** 400 for a body that cannot be parsed. */
export class ParseError extends APIException {
  static override readonly status = 400;
  static override readonly defaultDetail = 'Malformed request.';
  static override readonly defaultCode = 'parse_error';
}

/** 401 when credentials were sent but are wrong. */
export class AuthenticationFailed extends APIException {
  static override readonly status = 401;
  static override readonly defaultDetail = 'Incorrect authentication credentials.';
  static override readonly defaultCode = 'authentication_failed';
}

/** 401 when no credentials were sent. */
export class NotAuthenticated extends APIException {
  static override readonly status = 401;
  static override readonly defaultDetail = 'Authentication credentials were not provided.';
  static override readonly defaultCode = 'not_authenticated';
}

/** 403 when the user may not perform the action. */
export class PermissionDenied extends APIException {
  static override readonly status = 403;
  static override readonly defaultDetail = 'You do not have permission to perform this action.';
  static override readonly defaultCode = 'permission_denied';
}

/** 404 for a missing object, an unknown route or an invalid page. */
export class NotFound extends APIException {
  static override readonly status = 404;
  static override readonly defaultDetail = 'Not found.';
  static override readonly defaultCode = 'not_found';
}

/** 405 with the `Allow` header listing what the route accepts. */
export class MethodNotAllowed extends APIException {
  static override readonly status = 405;
  static override readonly defaultDetail = 'Method not allowed.';
  static override readonly defaultCode = 'method_not_allowed';

  constructor(method: string, allow?: string[]) {
    super(`Method "${method.toUpperCase()}" not allowed.`);
    if (allow) this.headers['allow'] = allow.join(', ');
  }
}

/** 406 when no renderer satisfies the Accept header. */
export class NotAcceptable extends APIException {
  static override readonly status = 406;
  static override readonly defaultDetail = 'Could not satisfy the request Accept header.';
  static override readonly defaultCode = 'not_acceptable';
}

/** 413 when the body is larger than the configured limit. */
export class PayloadTooLarge extends APIException {
  static override readonly status = 413;
  static override readonly defaultDetail = 'Request body is too large.';
  static override readonly defaultCode = 'payload_too_large';
}

/** 415 when no parser accepts the request's Content-Type. */
export class UnsupportedMediaType extends APIException {
  static override readonly status = 415;
  static override readonly defaultDetail = 'Unsupported media type in request.';
  static override readonly defaultCode = 'unsupported_media_type';

  constructor(mediaType: string) {
    super(`Unsupported media type "${mediaType}" in request.`);
  }
}

/** 429 with `Retry-After` when a throttle refuses the request. */
export class Throttled extends APIException {
  static override readonly status = 429;
  static override readonly defaultDetail = 'Request was throttled.';
  static override readonly defaultCode = 'throttled';

  constructor(wait?: number) {
    const seconds = wait === undefined ? undefined : Math.ceil(wait);
    super(
      seconds === undefined
        ? 'Request was throttled.'
        : `Request was throttled. Expected available in ${seconds} second${seconds === 1 ? '' : 's'}.`,
    );
    if (seconds !== undefined) this.headers['retry-after'] = String(seconds);
  }
}

/** 409 when the request conflicts with the data, e.g. deleting an object other objects still refer to. */
export class Conflict extends APIException {
  static override readonly status = 409;
  static override readonly defaultDetail = 'The request conflicts with the current state of the data.';
  static override readonly defaultCode = 'conflict';
}

/** 412 when a precondition (`If-Match`, `If-None-Match` on a write) does not hold: the object changed since it was read. */
export class PreconditionFailed extends APIException {
  static override readonly status = 412;
  static override readonly defaultDetail = 'Precondition failed: the object was changed since you read it.';
  static override readonly defaultCode = 'precondition_failed';
}

/** 428 when a view demands `If-Match` on writes and the request sent none. */
export class PreconditionRequired extends APIException {
  static override readonly status = 428;
  static override readonly defaultDetail = 'This request must be conditional: send If-Match with the ETag of the object you read.';
  static override readonly defaultCode = 'precondition_required';
}

/** 503 when a dependency such as the database does not answer. */
export class ServiceUnavailable extends APIException {
  static override readonly status = 503;
  static override readonly defaultDetail = 'Service temporarily unavailable, try again later.';
  static override readonly defaultCode = 'service_unavailable';
}

/** Stable codes of the errors thrown while an app is being set up. */
export const setupErrorCodes = {
  FASTREST_ERR_SERIALIZER_FIELD: 'A serializer names a field its entity does not have.',
  FASTREST_ERR_SERIALIZER_TYPE: 'A serializer cannot map an entity property type to a schema.',
  FASTREST_ERR_SERIALIZER_OPTIONS: "A serializer sets both 'fields' and 'exclude', or neither.",
  FASTREST_ERR_SCHEMA_NAME: 'Two different schemas are registered under one component name.',
  FASTREST_ERR_ACTION_CONFIG: 'An extra action clashes with another route of its viewset (a standard action name, a path or a route name taken).',
  FASTREST_ERR_VIEW_CONFIG: 'A view is missing a required option (such as its serializer).',
  FASTREST_ERR_ROUTER_BASENAME: 'Two router registrations share a basename.',
  FASTREST_ERR_SETTINGS: 'A setting has an invalid value.',
  FASTREST_ERR_DATABASE_URL: 'DATABASE_URL is not a postgres:// or postgresql:// URL.',
  FASTREST_ERR_FILTER_CONFIG: "A view's filter, search or ordering fields name a field its serializer lacks, or a lookup that does not fit the field's type.",
  FASTREST_ERR_THROTTLE_RATE: "A throttle rate is not like 100/min, or no rate is set for a throttle's scope.",
  FASTREST_ERR_AUTH_CONFIG: 'The auth plugin has no secretKey, or a permission needs a model the view does not have.',
  FASTREST_ERR_PAGINATION: 'A cursor paginator is told to order by a field that is not a column of its entity.',
  FASTREST_ERR_ORM_INTERNALS: 'The installed MikroORM lacks an internal member the database adapter uses (the message names the version and the members).',
} as const;

export type SetupErrorCode = keyof typeof setupErrorCodes;

/** An error in how an app is put together; never becomes an HTTP response. */
export class SetupError extends Error {
  readonly code: SetupErrorCode;

  constructor(code: SetupErrorCode, message: string) {
    super(`${code}: ${message}`);
    this.name = 'SetupError';
    this.code = code;
  }
}

/** Translates Fastify's own errors (codes FST_ERR_*) into API exceptions. */
export function toAPIException(
  error: FastifyError & { validation?: unknown[]; validationContext?: string },
  request?: FastifyRequest,
): APIException {
  if (error instanceof APIException) return error;
  if (error.validation) {
    if (error.validationContext === 'params') return new NotFound();
    return new ValidationError(errorDetailsFromAjv(error.validation as never));
  }
  switch (error.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new UnsupportedMediaType(String(request?.headers['content-type'] ?? '').split(';')[0]!.trim() || 'unknown');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new PayloadTooLarge();
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new ParseError(`JSON parse error - ${error.message}`);
  }
  if (error instanceof SyntaxError || (error.statusCode === 400 && error.name === 'SyntaxError')) {
    return new ParseError(`JSON parse error - ${error.message}`);
  }
  if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
    const generic = new APIException(error.message, 'error');
    (generic as { status: number }).status = error.statusCode;
    return generic;
  }
  return new APIException();
}

/** Fastify error handler that answers every error with a DRF-shaped body; 5xx are logged. */
export function exceptionHandler(this: unknown, error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  const exc = toAPIException(error, request);
  if (exc.status >= 500 && exc !== error) request.log.error({ err: error }, 'unhandled error');
  else if (exc.status >= 500) request.log.warn({ err: error }, exc.message);
  reply.headers(exc.headers).code(exc.status);
  return reply.send(exc.toBody());
}

/** The messages of a validation error: a list, or field-keyed messages of a nested object. */
export function messagesOf(error: unknown): string[] | FieldErrors {
  if (error instanceof ValidationError) {
    const detail = error.detail;
    if (Array.isArray(detail)) return detail;
    if (typeof detail === 'string') return [detail];
    return detail as FieldErrors;
  }
  throw error;
}
