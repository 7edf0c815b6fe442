/**
 * End users' access to their own inbox. A server holding an API key mints a short-lived token for one user
 * (`POST /v1/inbox/tokens`); the app presents it as `Authorization: Bearer <token>` (or `?token=` where a browser's
 * EventSource cannot set headers). A token is `hit_<key id>.<claims>.<signature>`: HMAC-SHA256 over the key id and
 * the claims with the inbox signing key. Several keys rotate: the first signs, every one verifies, and the key id says
 * which (a token signed by a key that was removed is refused).
 *
 * Optionally (HERALD_INBOX_USER_HMAC), an app may instead present its user id with an HMAC of it made with the same
 * key — the simpler, non-expiring scheme some products use; off by default because such a hash never expires.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export type TokenProblem = 'inbox_token_invalid' | 'inbox_token_expired';

export interface InboxClaims {
  /** The user. */
  sub: string;
  /** Expiry, epoch seconds. */
  exp: number;
  iat: number;
}

const b64 = (value: Buffer | string) => Buffer.from(value).toString('base64url');
const keyIdOf = (key: Buffer) => createHash('sha256').update(key).digest('hex').slice(0, 8);

export class InboxSigner {
  private readonly keys: { id: string; key: Buffer }[];

  constructor(keys: Buffer[]) {
    if (keys.length === 0) throw new Error('no inbox signing key');
    this.keys = keys.map((key) => ({ id: keyIdOf(key), key }));
  }

  get keyId(): string {
    return this.keys[0]!.id;
  }

  sign(userId: string, ttlSeconds: number, now = Date.now()): { token: string; expiresAt: string } {
    const iat = Math.floor(now / 1000);
    const claims: InboxClaims & { jti: string } = { sub: userId, iat, exp: iat + ttlSeconds, jti: b64(randomBytes(9)) };
    const { id, key } = this.keys[0]!;
    const body = `${id}.${b64(JSON.stringify(claims))}`;
    const signature = createHmac('sha256', key).update(body).digest('base64url');
    return { token: `hit_${body}.${signature}`, expiresAt: new Date(claims.exp * 1000).toISOString() };
  }

  verify(token: string, now = Date.now()): { claims: InboxClaims } | { problem: TokenProblem } {
    const match = /^hit_([0-9a-f]{8})\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)$/.exec(token);
    if (!match) return { problem: 'inbox_token_invalid' };
    const [, id, claimsPart, signaturePart] = match;
    const entry = this.keys.find((k) => k.id === id);
    if (!entry) return { problem: 'inbox_token_invalid' };
    const expected = createHmac('sha256', entry.key).update(`${id}.${claimsPart}`).digest();
    const given = Buffer.from(signaturePart!, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected))
      return { problem: 'inbox_token_invalid' };
    let claims: InboxClaims;
    try {
      claims = JSON.parse(Buffer.from(claimsPart!, 'base64url').toString('utf8')) as InboxClaims;
    } catch {
      return { problem: 'inbox_token_invalid' };
    }
    if (typeof claims.sub !== 'string' || typeof claims.exp !== 'number') return { problem: 'inbox_token_invalid' };
    if (claims.exp * 1000 <= now) return { problem: 'inbox_token_expired' };
    return { claims };
  }

  /** The user-id HMAC (hex) an app's server computes with the same key; checked against every key. */
  userHmac(userId: string): string {
    return createHmac('sha256', this.keys[0]!.key).update(`herald-inbox-user:${userId}`).digest('hex');
  }

  verifyUserHmac(userId: string, hmac: string): boolean {
    const given = Buffer.from(hmac, 'hex');
    return this.keys.some(({ key }) => {
      const expected = createHmac('sha256', key).update(`herald-inbox-user:${userId}`).digest();
      return given.length === expected.length && timingSafeEqual(given, expected);
    });
  }
}
