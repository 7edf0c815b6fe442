/**
 * The client's input checks: the API's own schemas, run before anything leaves the process, so a bad input is an
 * InvalidInputError naming the field without a request being made.
 */
import type { z } from 'zod';
import { idSchema, pageQuerySchema } from '../contract/schemas';
import { invalidInput } from './errors';
import type { PageOptions } from './types';

export function parse<S extends z.ZodType>(schema: S, value: unknown, prefix: string[] = []): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw invalidInput(result.error, prefix);
  return result.data;
}

/** An id that goes into a URL path: `name` is the field an error names. */
export function parseId(value: unknown, name: string): string {
  return parse(idSchema, value, [name]);
}

/** `cursor` and `limit` of a paged list, checked as the route checks its query; sent as given. */
export function pageQuery(
  options: PageOptions = {},
  schema: z.ZodType = pageQuerySchema,
): Record<string, string | undefined> {
  parse(schema, options);
  return { cursor: options.cursor, limit: options.limit === undefined ? undefined : String(options.limit) };
}
