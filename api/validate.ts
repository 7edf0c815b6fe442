import type { z } from 'zod';
import { idSchema } from '../lib/schemas';
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
