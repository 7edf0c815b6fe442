import { loadDeliveryConfig } from '../../platform/config/delivery';
import { ConfigError } from '../../platform/config/env';
import { loadInboxConfig } from '../../platform/config/inbox';
import { InboxSigner } from './tokens';

const KEY_A = Buffer.from('a'.repeat(40));
const KEY_B = Buffer.from('b'.repeat(40));

describe('inbox user tokens', () => {
  it('verify until they expire, for their own user only', () => {
    const signer = new InboxSigner([KEY_A]);
    const now = Date.parse('2026-12-05T00:00:00Z');
    const { token, expiresAt } = signer.sign('u1', 600, now);
    expect(expiresAt).toBe('2026-12-05T00:10:00.000Z');
    expect(signer.verify(token, now + 599_000)).toEqual({ claims: expect.objectContaining({ sub: 'u1' }) });
    expect(signer.verify(token, now + 600_000)).toEqual({ problem: 'inbox_token_expired' });
  });

  it('refuse a changed claim, a changed signature, garbage and an unknown key', () => {
    const signer = new InboxSigner([KEY_A]);
    const { token } = signer.sign('u1', 600);
    const [prefix, claims, signature] = token.split('.') as [string, string, string];
    const other = Buffer.from(JSON.stringify({ sub: 'u2', exp: 9e9, iat: 0 })).toString('base64url');
    for (const bad of [
      `${prefix}.${other}.${signature}`,
      `${prefix}.${claims}.${signature.replace(/^./, (c) => (c === 'A' ? 'B' : 'A'))}`,
      'hit_nonsense',
      '',
      new InboxSigner([KEY_B]).sign('u1', 600).token,
    ]) {
      expect(signer.verify(bad)).toEqual({ problem: 'inbox_token_invalid' });
    }
  });

  it('rotate: the first key signs, every listed key verifies', () => {
    const old = new InboxSigner([KEY_A]).sign('u1', 600).token;
    const rotated = new InboxSigner([KEY_B, KEY_A]);
    expect('claims' in rotated.verify(old)).toBe(true);
    expect(rotated.sign('u1', 600).token.startsWith(`hit_${new InboxSigner([KEY_B]).keyId}.`)).toBe(true);
    expect(new InboxSigner([KEY_B]).verify(old)).toEqual({ problem: 'inbox_token_invalid' });
  });

  it("check a user id's HMAC with any listed key", () => {
    const hmac = new InboxSigner([KEY_A]).userHmac('u1');
    expect(new InboxSigner([KEY_B, KEY_A]).verifyUserHmac('u1', hmac)).toBe(true);
    expect(new InboxSigner([KEY_A]).verifyUserHmac('u2', hmac)).toBe(false);
    expect(new InboxSigner([KEY_A]).verifyUserHmac('u1', 'zz')).toBe(false);
  });
});

describe('inbox configuration', () => {
  const load = (env: Record<string, string>) => loadInboxConfig(env);

  it('has defaults, and refuses bad values naming the variable', () => {
    expect(load({})).toEqual({
      tokenTtlSeconds: 3600,
      userHmac: false,
      corsOrigins: [],
      retentionDays: 90,
      heartbeatSeconds: 15,
    });
    expect(load({ HERALD_INBOX_CORS_ORIGINS: 'https://app.example/, *' }).corsOrigins).toEqual([
      'https://app.example',
      '*',
    ]);
    expect(() => load({ HERALD_INBOX_SECRET: 'short' })).toThrow(/^HERALD_INBOX_SECRET: /);
    expect(() => load({ HERALD_INBOX_SECRET: 'short' })).toThrow(ConfigError);
    expect(() => load({ HERALD_INBOX_TOKEN_TTL: '999999' })).toThrow(/^HERALD_INBOX_TOKEN_TTL: /);
    expect(() => load({ HERALD_INBOX_CORS_ORIGINS: 'ftp://x' })).toThrow(/^HERALD_INBOX_CORS_ORIGINS: /);
    expect(() => load({ HERALD_INBOX_USER_HMAC: 'maybe' })).toThrow(/^HERALD_INBOX_USER_HMAC: /);
  });

  it('throttle rules and retry policies take the inbox channel', () => {
    const config = loadDeliveryConfig({
      HERALD_THROTTLE_RULES: JSON.stringify([{ channel: 'inbox', limit: 5, per: '1h' }]),
    });
    expect(config.throttle.rules).toEqual([{ channel: 'inbox', limit: 5, perMs: 3_600_000 }]);
    expect(config.channels.inbox.retry.maximumInterval).toBe(60_000);
  });
});
