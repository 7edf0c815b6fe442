import type { Request } from 'express';
import type { z } from 'zod';
import { idempotencyKeySchema, idSchema } from '../lib/schemas';
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
