import type { FailureKind } from './provider.types';

/**
 * Helpers shared by the HTTP-based provider adapters for failures that happen below the provider's API: the request
 * never got an answer (refused, reset, timed out), or the answer asked us to come back later (Retry-After).
 */

/**
 * Codes Node, axios and nodemailer put on an error when no provider answer arrived. Every one of them is worth another
 * attempt later: nothing was decided about the message. (ENOTFOUND is included because resolvers fail transiently;
 * a permanently wrong host name still surfaces once the retry policy gives up.)
 */
const NETWORK_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED', // axios: request timeout
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ERR_NETWORK',
  'ERR_SOCKET_CONNECTION_TIMEOUT',
]);

/** The network error code of `err` (or of its cause) when it is a failure to get any answer, else undefined. */
export function networkErrorCode(err: unknown): string | undefined {
  for (let current: unknown = err, depth = 0; current && depth < 3; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && NETWORK_ERROR_CODES.has(code)) return code;
    current = (current as { cause?: unknown }).cause;
  }
  if (err instanceof Error && /socket hang up/i.test(err.message)) return 'ECONNRESET';
  return undefined;
}

/**
 * Parses an HTTP Retry-After value (delta-seconds or an HTTP-date) into milliseconds from `now`. Header bags from
 * axios may hold a string, a number or an array; anything unparsable yields undefined rather than a guess.
 */
export function retryAfterMs(value: unknown, now: number = Date.now()): number | undefined {
  const raw = Array.isArray(value) ? (value as unknown[])[0] : value;
  if (typeof raw === 'number') return raw >= 0 ? raw * 1000 : undefined;
  if (typeof raw !== 'string' || raw.trim() === '') return undefined;
  const text = raw.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Reads one header case-insensitively from a plain object or an AxiosHeaders-like bag. */
export function headerValue(headers: unknown, name: string): unknown {
  if (!headers || typeof headers !== 'object') return undefined;
  const lower = name.toLowerCase();
  for (const [key, value] of Object.entries(headers as Record<string, unknown>)) {
    if (key.toLowerCase() === lower) return value;
  }
  return undefined;
}

/**
 * Kind and code for an error from the HTTP client (axios) that carries no provider answer, else undefined. Such
 * errors hold the request config, credentials included, so adapters report only what this returns, never the error.
 */
export function requestFailure(err: unknown): { kind: FailureKind; code: string } | undefined {
  const network = networkErrorCode(err);
  if (network) return { kind: 'transient', code: network };
  if (!(err as { isAxiosError?: unknown } | null)?.isAxiosError) return undefined;
  const code = String((err as { code?: unknown }).code ?? 'HTTP_CLIENT_ERROR');
  // ERR_INVALID_CHAR and friends: Node refused to send what we built (a key with a newline...), a configuration bug.
  // Anything else unknown is retried: the retry policy bounds it, and dropping a notification is the worse mistake.
  return { kind: /^ERR_(INVALID|HTTP_INVALID)/.test(code) ? 'permanent_request' : 'transient', code };
}
