import type { Request, RequestHandler } from 'express';
import type { z } from 'zod';
import { idempotencyKeySchema, idSchema } from '../contract/schemas';
import { HttpError, validationError } from './errors';

export function parseBody<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  if (body === undefined || body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new HttpError(400, 'invalid_body', 'request body must be a JSON object');
  }
  const result = schema.safeParse(body);
  if (!result.success) throw validationError(result.error);
  return result.data;
}

export function parseId(value: unknown, name: string): string {
  const result = idSchema.safeParse(value);
  if (!result.success) throw validationError(result.error, `path.${name}`);
  return result.data;
}

/** The Idempotency-Key header of a create (POST /v1/notifications, POST /v1/campaigns), when one was sent. */
export function idempotencyKeyOf(req: Request): string | undefined {
  const header = req.get('Idempotency-Key');
  if (header !== undefined && !idempotencyKeySchema.safeParse(header).success) {
    throw new HttpError(400, 'invalid_idempotency_key', 'Idempotency-Key must be 1 to 255 characters');
  }
  return header;
}

/**
 * PostgreSQL cannot store U+0000 in text or jsonb, and no contact, token or template needs it: a NUL anywhere in the
 * JSON body (keys included) or the query is refused here, once for every route, naming the field, instead of failing
 * as a 500 deep in the database. Path parameters are ids whose pattern already excludes it. /openapi.json states the
 * same rule as a `pattern` on every string.
 */
export function refuseNul(): RequestHandler {
  return (req, _res, next) => {
    const field = nulField(req.body, 'body') ?? nulField(req.query, 'query');
    if (field === undefined) return next();
    const issue = { field, code: 'invalid_string', message: 'must not contain the NUL character (\\u0000)' };
    next(new HttpError(400, 'validation_error', `${issue.field}: ${issue.message}`, [issue]));
  };
}

function nulField(value: unknown, path: string): string | undefined {
  if (typeof value === 'string') return value.includes('\0') ? path : undefined;
  if (value === null || typeof value !== 'object') return undefined;
  for (const [key, item] of Object.entries(value)) {
    if (key.includes('\0')) return path;
    const found = nulField(item, `${path}.${key}`);
    if (found !== undefined) return found;
  }
  return undefined;
}
