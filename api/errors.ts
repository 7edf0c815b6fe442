import type { ErrorRequestHandler } from 'express';
import { ZodError } from 'zod';
import { isDatabaseUnavailable } from '../platform/db';
import type { Logger } from '../platform/logger';

/** An error the caller can act on: a 4xx with a machine-readable code (or a 5xx that is Herald's fault). */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

/** A 404 whose details always name the resource and its id (the client SDK's NotFoundError reads them). */
export const notFound = (
  what: string,
  id: string,
  { message, details }: { message?: string; details?: Record<string, unknown> } = {},
) =>
  new HttpError(
    404,
    `${what}_not_found`,
    message ?? `${what.replace(/_/g, ' ')} ${JSON.stringify(id)} does not exist`,
    {
      resource: what,
      id,
      ...details,
    },
  );

export function validationError(error: ZodError, where = 'body'): HttpError {
  const issues = error.issues.map((issue) => ({
    field: [where, ...issue.path.map(String)].join('.'),
    code: issue.code,
    message: issue.message,
  }));
  const first = issues[0];
  return new HttpError(400, 'validation_error', first ? `${first.field}: ${first.message}` : 'invalid input', issues);
}

export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error, req, res, _next) => {
    let http: HttpError;
    if (error instanceof HttpError) http = error;
    else if (error instanceof ZodError) http = validationError(error);
    else if (error?.type === 'entity.too.large')
      http = new HttpError(413, 'payload_too_large', 'request body is too large');
    else if (error?.type === 'entity.parse.failed')
      http = new HttpError(400, 'invalid_json', 'request body is not valid JSON');
    else if (error?.type === 'encoding.unsupported' || error?.type === 'charset.unsupported') {
      http = new HttpError(415, 'unsupported_encoding', 'request body encoding is not supported');
    } else if (isDatabaseUnavailable(error)) {
      // A database restart or failover is routine: the caller retries (with the same Idempotency-Key) and loses nothing.
      http = new HttpError(503, 'database_unavailable', 'the database is unavailable; retry shortly');
    } else if (typeof error?.status === 'number' && error.status >= 400 && error.status < 500) {
      http = new HttpError(error.status, 'bad_request', 'the request could not be read');
    } else {
      logger.error({ err: error, method: req.method, path: req.route?.path ?? req.path }, 'unhandled error');
      http = new HttpError(500, 'internal_error', 'Herald failed to handle this request; it has been logged');
    }
    if (http.status >= 500 && http.code !== 'internal_error') logger.warn({ code: http.code }, http.message);
    // Every 503 is "try again": say when.
    if (http.status === 503 && !res.getHeader('Retry-After')) res.setHeader('Retry-After', '5');
    res.status(http.status).json({
      error: {
        code: http.code,
        message: http.message,
        ...(http.details !== undefined ? { details: http.details } : {}),
      },
    });
  };
}
