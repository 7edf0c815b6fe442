import { createHash, randomBytes } from 'node:crypto';

function randomId(prefix: string): string {
  return `${prefix}_${randomBytes(12).toString('base64url')}`;
}

export const newNotificationId = () => randomId('ntf');
export const newDeliveryId = () => randomId('dlv');
export const newDeviceId = () => randomId('dev');
export const newEventKey = () => randomId('evt');
export const newCampaignId = () => randomId('cmp');
/** An Idempotency-Key for a create the caller gave none for (the client SDK's createCampaign). */
export const newIdempotencyKey = () => randomId('idem');

/** 40 hex characters of sha256: the same key always gives the same digest, and the digest never reveals the key. */
const keyDigest = (idempotencyKey: string) => createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 40);

/**
 * The notification workflow id is a hash of the idempotency key: the same key always maps to the same execution (the
 * engine's de-duplication), and a key that contains personal data never shows up in Temporal's ids or UI.
 * The API, the client SDK and the tests all derive it here, so they agree.
 */
export function notificationWorkflowId(idempotencyKey: string): string {
  return `notification-${keyDigest(idempotencyKey)}`;
}

/**
 * The notification id, from the same digest: whichever door a key comes in by (the API, or the client SDK through
 * Temporal), its notification gets the same id, and a client that knows the id can address the workflow without a
 * database.
 */
export function notificationIdFor(idempotencyKey: string): string {
  return `ntf_${keyDigest(idempotencyKey)}`;
}

/** The workflow of a notification id from notificationIdFor; undefined for ids that were not derived from a key. */
export function workflowIdOfNotification(notificationId: string): string | undefined {
  const match = /^ntf_([0-9a-f]{40})$/.exec(notificationId);
  return match ? `notification-${match[1]}` : undefined;
}

/** The intake workflow that accepts a key's notification for a client without database access (the client SDK). */
export function notificationIntakeWorkflowId(idempotencyKey: string): string {
  return `notification-intake-${keyDigest(idempotencyKey)}`;
}

/** A user's throttle workflow: a digest of the user id, so no personal data shows up in Temporal. */
export function userThrottleWorkflowId(userId: string): string {
  return `throttle-${createHash('sha256').update(`user:${userId}`).digest('hex').slice(0, 40)}`;
}

/** The workflow of a notification's n-th re-drive of its failed targets (n ≥ 1). */
export function redriveWorkflowId(notificationWorkflowId: string, n: number): string {
  return `${notificationWorkflowId}-redrive-${n}`;
}

export const newApiKeyId = () => randomId('key');
/** An API key's secret: 32 random bytes, recognisable by its prefix (and by secret scanners). */
export const newApiKeySecret = () => `hk_${randomBytes(32).toString('base64url')}`;
