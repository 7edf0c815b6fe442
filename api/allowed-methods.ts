import type { RequestHandler } from 'express';
import { HttpError } from './errors';

interface PathMethods {
  regex: RegExp;
  /** Literal segments first, so /v1/notifications/retry is preferred to /v1/notifications/{id}. */
  literal: boolean[];
  methods: string[];
}

/**
 * The methods of each path come from /openapi.json, the document the API is built to match: a request to a known
 * path with a method it does not have answers 405 with an Allow header (RFC 9110), and OPTIONS answers 204 with the
 * same header, instead of Express's 404 and its own guess at Allow.
 */
export function allowedMethods(document: { paths?: Record<string, object> }): {
  options: RequestHandler;
  notAllowed: RequestHandler;
} {
  const paths: PathMethods[] = Object.entries(document.paths ?? {}).map(([template, operations]) => {
    const segments = template.split('/');
    const methods = Object.keys(operations).map((m) => m.toUpperCase());
    if (methods.includes('GET')) methods.push('HEAD');
    return {
      regex: new RegExp(
        `^${segments.map((s) => s.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')).join('/')}$`,
      ),
      literal: segments.map((s) => !s.includes('{')),
      methods,
    };
  });
  const resource = (path: string): PathMethods | undefined =>
    paths
      .filter((p) => p.regex.test(path))
      .sort((a, b) => {
        const at = a.literal.findIndex((literal, i) => literal !== b.literal[i]);
        return at === -1 ? 0 : a.literal[at] ? -1 : 1;
      })[0];
  const allow = (found: PathMethods) => [...found.methods, 'OPTIONS'].join(', ');

  return {
    options: (req, res, next) => {
      const found = req.method === 'OPTIONS' ? resource(req.path) : undefined;
      if (!found) return next();
      res.set('Allow', allow(found)).status(204).end();
    },
    notAllowed: (req, res, next) => {
      const found = resource(req.path);
      if (!found || found.methods.includes(req.method)) return next();
      res.set('Allow', allow(found));
      next(
        new HttpError(405, 'method_not_allowed', `${req.method} is not allowed on ${req.path}`, {
          allow: [...found.methods, 'OPTIONS'],
        }),
      );
    },
  };
}
