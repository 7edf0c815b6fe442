import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { HttpError } from './errors';

const digest = (value: string) => createHash('sha256').update(value).digest();

/** Bearer API key, compared in constant time (hashing first makes the lengths equal). */
export function requireApiKey(apiKey: string): RequestHandler {
  const expected = digest(apiKey);
  return (req, _res, next) => {
    const header = req.headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) return next(new HttpError(401, 'unauthorized', 'missing Authorization: Bearer <api key>'));
    if (!timingSafeEqual(digest(match[1]!), expected))
      return next(new HttpError(401, 'unauthorized', 'invalid API key'));
    next();
  };
}
