/**
 * What the API and the activities share about tracking: the public base URL, the switches from the configuration,
 * and the signing keys — the operator's HERALD_TRACKING_SECRET (comma-separated, the first signs), or one Herald generates on first use and keeps in its
 * database, so every API and worker process signs and verifies with the same key without more configuration. The
 * key is never logged and never leaves this module except inside signatures.
 */
import { randomBytes } from 'node:crypto';
import type { PlatformConfig, TrackingConfig } from '../../platform/config';
import type { Db } from '../../platform/db';
import { registerSecrets } from '../../platform/logger';
import { TrackingSigner, TrackingUrls } from './tokens';

export interface Tracking {
  readonly publicUrl: string;
  readonly config: TrackingConfig;
  /** For X-Twilio-Signature on status callbacks (TWILIO_AUTH_TOKEN). */
  readonly twilioAuthToken?: string;
  urls(): Promise<TrackingUrls>;
}

const SECRET_NAME = 'tracking';

/** The configured keys (the first signs), or the generated one (created by whichever process asks first). */
export async function loadTrackingKeys(db: Db, configured?: string[]): Promise<Buffer[]> {
  if (configured && configured.length > 0) return configured.map((key) => Buffer.from(key, 'utf8'));
  const candidate = randomBytes(32).toString('base64url');
  await db.$executeRaw`INSERT INTO herald_secrets (name, value) VALUES (${SECRET_NAME}, ${candidate}) ON CONFLICT (name) DO NOTHING`;
  const row = await db.heraldSecret.findUniqueOrThrow({ where: { name: SECRET_NAME } });
  registerSecrets([row.value]);
  return [Buffer.from(row.value, 'utf8')];
}

export function createTracking(
  config: Pick<PlatformConfig, 'publicUrl' | 'tracking'> & { providers?: { twilio?: { authToken: string } } },
  db: Db,
): Tracking {
  let urls: Promise<TrackingUrls> | undefined;
  return {
    publicUrl: config.publicUrl,
    config: config.tracking,
    twilioAuthToken: config.providers?.twilio?.authToken,
    urls() {
      urls ??= loadTrackingKeys(db, config.tracking.secrets).then(
        (keys) => new TrackingUrls(config.publicUrl, new TrackingSigner(keys)),
      );
      // A failed load (database briefly down) is retried on the next call instead of being remembered.
      urls.catch(() => (urls = undefined));
      return urls;
    },
  };
}
