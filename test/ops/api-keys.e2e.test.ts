/**
 * API keys with scopes: created through /v1/api-keys by an admin, shown once, stored as a SHA-256, allowed exactly the
 * routes their scopes cover, refused once revoked, and held to their per-minute rate limit.
 */
import { createHash } from 'node:crypto';
import { ROUTE_SCOPES, routeScope } from '../../api/auth';
import { createApp } from '../../api/app';
import { API_KEY_SCOPES } from '../../contract/schemas';
import { startTestHerald, TEST_API_KEY, type TestHerald } from '../support/herald';

jest.setTimeout(120_000);

let herald: TestHerald;

beforeAll(async () => {
  herald = await startTestHerald();
  await herald.api('PUT', '/v1/templates/hello', { channels: { email: { subject: 'Hi', text: 'Hello' } } });
  await herald.api('PUT', '/v1/users/u1', { email: 'u1@example.com' });
});
afterAll(async () => {
  await herald?.stop();
});

async function createKey(body: Record<string, unknown>) {
  const response = await herald.api('POST', '/v1/api-keys', body);
  expect(response.status).toBe(201);
  return response.body as { id: string; key: string; prefix: string; scopes: string[] };
}
const as = (key: string) => ({ authorization: `Bearer ${key}` });

describe('authentication', () => {
  it('refuses /v1 without a key, with a malformed header and with an unknown key (401)', async () => {
    const none = await fetch(`${herald.url}/v1/users/u1`);
    expect(none.status).toBe(401);
    expect(((await none.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
    expect((await herald.api('GET', '/v1/users/u1', undefined, { authorization: 'Basic abc' })).status).toBe(401);
    const unknown = await herald.api('GET', '/v1/users/u1', undefined, as('hk_not-a-real-key'));
    expect(unknown.status).toBe(401);
    expect(unknown.body.error.code).toBe('unauthorized');
  });

  it('keeps HERALD_API_KEY as the bootstrap admin key', async () => {
    expect((await herald.api('GET', '/v1/api-keys', undefined, as(TEST_API_KEY))).status).toBe(200);
  });
});

describe('/v1/api-keys', () => {
  it('shows the secret once, stores only its SHA-256, and lists keys without secrets', async () => {
    const created = await createKey({ name: 'billing service', scopes: ['notifications:send'] });
    expect(created.key).toMatch(/^hk_[A-Za-z0-9_-]{43}$/);
    expect(created.prefix).toBe(created.key.slice(0, 10));
    expect(created).toMatchObject({ name: 'billing service', scopes: ['notifications:send'], revokedAt: null });

    const row = await herald.db.prisma.apiKey.findUniqueOrThrow({ where: { id: created.id } });
    expect(row.hash).toBe(createHash('sha256').update(created.key).digest('hex'));
    expect(JSON.stringify(row)).not.toContain(created.key);

    const list = await herald.api('GET', '/v1/api-keys');
    const listed = list.body.apiKeys.find((k: { id: string }) => k.id === created.id);
    expect(listed).toMatchObject({ id: created.id, name: 'billing service', prefix: created.prefix });
    expect(JSON.stringify(list.body)).not.toContain(created.key);
    expect(Object.keys(listed)).not.toContain('key');
    expect(Object.keys(listed)).not.toContain('hash');
    expect((await herald.api('GET', `/v1/api-keys/${created.id}`)).body).toEqual(listed);
  });

  it('validates what it is given', async () => {
    const bad = await herald.api('POST', '/v1/api-keys', { name: 'x', scopes: ['everything'] });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('validation_error');
    expect((await herald.api('POST', '/v1/api-keys', { name: 'x', scopes: [] })).status).toBe(400);
    expect(
      (await herald.api('POST', '/v1/api-keys', { name: 'x', scopes: ['admin'], rateLimitPerMinute: 0 })).status,
    ).toBe(400);
    expect((await herald.api('DELETE', '/v1/api-keys/key_missing')).status).toBe(404);
  });

  it('is for admins only', async () => {
    const reader = await createKey({ name: 'reader', scopes: ['users:read', 'notifications:read'] });
    const attempt = await herald.api('POST', '/v1/api-keys', { name: 'escalate', scopes: ['admin'] }, as(reader.key));
    expect(attempt.status).toBe(403);
    expect(attempt.body.error).toMatchObject({ code: 'insufficient_scope', details: { required: 'admin' } });
    expect((await herald.api('GET', '/v1/api-keys', undefined, as(reader.key))).status).toBe(403);
    expect((await herald.api('GET', '/v1/ops/queues', undefined, as(reader.key))).status).toBe(403);
  });
});

describe('scopes', () => {
  it('a key is allowed what its scopes cover and refused the rest with 403 insufficient_scope', async () => {
    const sender = await createKey({ name: 'sender', scopes: ['notifications:send'] });
    const usersAdmin = await createKey({ name: 'users', scopes: ['users:write', 'users:read'] });

    const sent = await herald.api('POST', '/v1/notifications', { userId: 'u1', template: 'hello' }, as(sender.key));
    expect(sent.status).toBe(202);
    const read = await herald.api('GET', `/v1/notifications/${sent.body.id}`, undefined, as(sender.key));
    expect(read.status).toBe(403);
    expect(read.body.error.details).toEqual({ required: 'notifications:read' });
    expect((await herald.api('PUT', '/v1/users/u2', { name: 'x' }, as(sender.key))).status).toBe(403);
    expect((await herald.api('PUT', '/v1/templates/t', {}, as(sender.key))).status).toBe(403);

    expect((await herald.api('PUT', '/v1/users/u2', { name: 'Grace' }, as(usersAdmin.key))).status).toBe(201);
    expect((await herald.api('GET', '/v1/users/u2', undefined, as(usersAdmin.key))).status).toBe(200);
    expect((await herald.api('GET', '/v1/users/u2/preferences', undefined, as(usersAdmin.key))).status).toBe(200);
    const notification = await herald.api(
      'POST',
      '/v1/notifications',
      { userId: 'u2', template: 'hello' },
      as(usersAdmin.key),
    );
    expect(notification.status).toBe(403);
    expect(notification.body.error.code).toBe('insufficient_scope');
    // Authorization comes before validation: a refused key learns nothing about the body.
    expect((await herald.api('POST', '/v1/notifications', { nonsense: true }, as(usersAdmin.key))).status).toBe(403);
  });

  it('an admin key may do everything', async () => {
    const admin = await createKey({ name: 'ops', scopes: ['admin'] });
    expect((await herald.api('GET', '/v1/users/u1', undefined, as(admin.key))).status).toBe(200);
    expect((await herald.api('GET', '/v1/api-keys', undefined, as(admin.key))).status).toBe(200);
  });

  it('every /v1 route the app serves declares its scope', () => {
    const app = createApp({
      db: herald.db.prisma,
      sql: herald.db.sql,
      temporal: herald.client,
      taskQueue: 'x',
      apiKey: TEST_API_KEY,
      publicUrl: 'http://localhost',
      logger: undefined as never,
      ready: async () => ({ database: true, temporal: true }),
    });
    type Layer = {
      rawPath?: string;
      route?: { path: string; methods: Record<string, boolean> };
      handle: { stack?: Layer[] };
    };
    const routes: { method: string; path: string }[] = [];
    const walk = (stack: Layer[], prefix: string) => {
      for (const layer of stack) {
        const base = typeof layer.rawPath === 'string' && layer.rawPath !== '/' ? prefix + layer.rawPath : prefix;
        if (layer.route) {
          for (const method of Object.keys(layer.route.methods)) {
            routes.push({ method: method.toUpperCase(), path: prefix + layer.route.path });
          }
        } else if (layer.handle.stack) walk(layer.handle.stack, base);
      }
    };
    walk((app as unknown as { router: { stack: Layer[] } }).router.stack, '');
    const v1 = routes.filter((r) => r.path.startsWith('/v1/'));
    expect(v1.length).toBeGreaterThanOrEqual(ROUTE_SCOPES.length);
    const undeclared = v1.filter((r) => !routeScope(r.method, r.path.slice('/v1'.length).replace(/:(\w+)/g, 'x')));
    expect(undeclared).toEqual([]);
    expect(new Set(ROUTE_SCOPES.map((r) => r.scope))).toEqual(new Set(API_KEY_SCOPES));
  });

  it('/openapi.json documents every declared route, the 403 and 429 answers, and the operations routes', async () => {
    const doc = (await (await fetch(`${herald.url}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
    };
    const undocumented = ROUTE_SCOPES.filter(
      (r) => !doc.paths[`/v1${r.path.replace(/:(\w+)/g, '{$1}')}`]?.[r.method.toLowerCase()],
    );
    expect(undocumented).toEqual([]);
    expect(Object.keys(doc.paths['/v1/api-keys']!.post!.responses)).toEqual(
      expect.arrayContaining(['201', '401', '403', '429']),
    );
    expect(doc.paths['/codec/decode']?.post).toBeDefined();
  });
});

describe('revocation and rate limits', () => {
  it('a revoked key is refused from then on (401), and stays listed as revoked', async () => {
    const key = await createKey({ name: 'to revoke', scopes: ['users:read'] });
    expect((await herald.api('GET', '/v1/users/u1', undefined, as(key.key))).status).toBe(200);
    const revoked = await herald.api('DELETE', `/v1/api-keys/${key.id}`);
    expect(revoked.status).toBe(200);
    expect(revoked.body.revokedAt).toEqual(expect.any(String));
    const refused = await herald.api('GET', '/v1/users/u1', undefined, as(key.key));
    expect(refused.status).toBe(401);
    expect(refused.body.error.message).toMatch(/revoked/);
    const listed = (await herald.api('GET', '/v1/api-keys')).body.apiKeys.find((k: { id: string }) => k.id === key.id);
    expect(listed.revokedAt).toBe(revoked.body.revokedAt);
  });

  it('a key over its per-minute limit gets 429 rate_limited with Retry-After; other keys are unaffected', async () => {
    const limited = await createKey({ name: 'limited', scopes: ['users:read'], rateLimitPerMinute: 3 });
    const other = await createKey({ name: 'other', scopes: ['users:read'], rateLimitPerMinute: 3 });
    const statuses: number[] = [];
    let last;
    for (let i = 0; i < 4; i++) {
      last = await herald.api('GET', '/v1/users/u1', undefined, as(limited.key));
      statuses.push(last.status);
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(last!.body.error.code).toBe('rate_limited');
    const retryAfter = Number(last!.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(20);
    expect((await herald.api('GET', '/v1/users/u1', undefined, as(other.key))).status).toBe(200);
  });
});
