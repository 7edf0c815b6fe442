/**
 * What a router needs to declare its operations in /openapi.json beside its handlers: the registry, a bearer-secured
 * `route`, the JSON response helper, the common error responses and a path-parameter helper.
 */
import type { OpenAPIRegistry, RouteConfig } from '@asteasolutions/zod-to-openapi';
import type { z } from 'zod';

export interface OpenApiKit {
  registry: OpenAPIRegistry;
  /** An operation behind the API key (bearer), its JSON body marked required. */
  route(config: Omit<RouteConfig, 'security'>): void;
  json(
    schema: z.ZodType,
    description: string,
  ): { description: string; content: { 'application/json': { schema: z.ZodType } } };
  errors: Record<400 | 401 | 403 | 404 | 429, ReturnType<OpenApiKit['json']>>;
  /** `{name}` in the path, as an id. */
  path(name: string): z.ZodObject;
}
