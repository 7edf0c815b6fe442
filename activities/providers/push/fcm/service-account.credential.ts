import { createPrivateKey, createSign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { request } from 'node:https';
import type { Agent } from 'node:https';

import type { Credential, GoogleOAuthAccessToken } from 'firebase-admin/app';

import type { FailureKind } from '../../provider.types';

/**
 * A parsed Google service-account JSON key. Only `client_email` and `private_key` are needed (checked when the
 * credential is built, since the key usually comes straight from a file); the other fields are ignored.
 */
export interface ServiceAccountKey {
  client_email?: string;
  private_key?: string;
  private_key_id?: string;
  project_id?: string;
  [field: string]: unknown;
}

/** Why the OAuth token exchange failed, already classified so the provider can map it without guessing. */
export class TokenExchangeError extends Error {
  override readonly name = 'TokenExchangeError';
  constructor(
    readonly kind: Exclude<FailureKind, 'permanent_target'>,
    readonly code: string,
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

const TOKEN_URL = 'https://oauth2.googleapis.com/token';
const SCOPE = 'https://www.googleapis.com/auth/firebase.messaging';
const LIFETIME_SECONDS = 3600;
// firebase-admin asks for a new token when its copy has under five minutes left; refreshing earlier than that means
// it always receives a token with more than five minutes to live and never asks twice for the same one.
const REFRESH_MARGIN_MS = 10 * 60 * 1000;
const STILL_USABLE_MS = 6 * 60 * 1000;
const TIMEOUT_MS = 15_000;

/**
 * The OAuth 2.0 JWT-bearer exchange (RFC 7523) for a service-account key, sent through the provider's HTTP agent.
 *
 * firebase-admin's own `cert()` credential would do the same through google-auth-library, but that library loads
 * its HTTP client with a dynamic `import()`, which fails under jest without --experimental-vm-modules, and `cert()`
 * caches credentials process-wide by key, so a second provider with the same key would reuse the first one's agent
 * (and endpoint). Doing the exchange here also lets failures be classified exactly: firebase-admin turns every
 * credential failure, a refused connection included, into `app/invalid-credential`.
 */
export class ServiceAccountCredential implements Credential {
  private readonly key: KeyObject;
  private readonly clientEmail: string;
  private cached: { token: string; expiresAt: number } | undefined;
  private inFlight: Promise<{ token: string; expiresAt: number }> | undefined;

  constructor(
    private readonly account: ServiceAccountKey,
    private readonly agent: Agent,
  ) {
    if (typeof account.client_email !== 'string' || !account.client_email) {
      throw new Error('FCM service account has no client_email');
    }
    this.clientEmail = account.client_email;
    try {
      this.key = createPrivateKey(String(account.private_key));
    } catch {
      // Deliberately without the underlying message, which may quote the key.
      throw new Error(`FCM service account ${account.client_email} has no usable private_key`);
    }
  }

  async getAccessToken(): Promise<GoogleOAuthAccessToken> {
    if (!this.cached || this.cached.expiresAt - Date.now() < REFRESH_MARGIN_MS) {
      // One exchange at a time: concurrent sends share it instead of each asking Google for a token.
      this.inFlight ??= this.exchange().finally(() => {
        this.inFlight = undefined;
      });
      try {
        this.cached = await this.inFlight;
      } catch (error) {
        // A failed early refresh is no reason to fail a send while the current token still has a while to live.
        if (!this.cached || this.cached.expiresAt - Date.now() < STILL_USABLE_MS) throw error;
      }
    }
    return {
      access_token: this.cached.token,
      expires_in: Math.floor((this.cached.expiresAt - Date.now()) / 1000),
    };
  }

  private assertion(): string {
    const now = Math.floor(Date.now() / 1000);
    const header = {
      alg: 'RS256',
      typ: 'JWT',
      ...(this.account.private_key_id ? { kid: this.account.private_key_id } : {}),
    };
    const claims = {
      iss: this.account.client_email,
      scope: SCOPE,
      aud: TOKEN_URL,
      iat: now,
      exp: now + LIFETIME_SECONDS,
    };
    const unsigned = [header, claims].map((part) => Buffer.from(JSON.stringify(part)).toString('base64url')).join('.');
    const signature = createSign('RSA-SHA256').update(unsigned).sign(this.key).toString('base64url');
    return `${unsigned}.${signature}`;
  }

  private async exchange(): Promise<{ token: string; expiresAt: number }> {
    const form = new URLSearchParams({
      grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
      assertion: this.assertion(),
    }).toString();
    const startedAt = Date.now();
    const { status, text } = await post(this.agent, form);
    let body: { access_token?: unknown; expires_in?: unknown; error?: unknown; error_description?: unknown } = {};
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      // A proxy's HTML error page: judged by status alone below.
    }
    if (status === 200 && typeof body.access_token === 'string' && typeof body.expires_in === 'number') {
      return { token: body.access_token, expiresAt: startedAt + body.expires_in * 1000 };
    }
    const oauthError = typeof body.error === 'string' ? body.error : undefined;
    const description = typeof body.error_description === 'string' ? `: ${body.error_description}` : '';
    const code = oauthError ? `oauth/${oauthError}` : `oauth/http-${status}`;
    const message = `Google OAuth token exchange failed with ${status} ${oauthError ?? ''}${description}`.trim();
    // 400/401/403 (invalid_grant, invalid_client, unauthorized_client...) mean the key is revoked, disabled or the
    // clock is wrong: no retry fixes that. 2xx without a token, 408, 429 and 5xx are Google's trouble.
    const permanent = status >= 400 && status < 500 && status !== 408 && status !== 429;
    throw new TokenExchangeError(permanent ? 'permanent_request' : 'transient', code, message, status);
  }
}

function post(agent: Agent, form: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      TOKEN_URL,
      {
        method: 'POST',
        agent,
        timeout: TIMEOUT_MS,
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(form) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', (error) => reject(networkError(error)));
      },
    );
    req.on('timeout', () =>
      req.destroy(Object.assign(new Error('OAuth token request timed out'), { code: 'ETIMEDOUT' })),
    );
    req.on('error', (error) => reject(networkError(error)));
    req.end(form);
  });
}

function networkError(error: Error): TokenExchangeError {
  const code = (error as { code?: unknown }).code;
  return new TokenExchangeError(
    'transient',
    typeof code === 'string' ? code : 'NetworkError',
    `Google OAuth token request failed: ${error.message}`,
  );
}
