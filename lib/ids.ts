import { createHash, randomBytes } from 'node:crypto';

function randomId(prefix: string): string {
  return `${prefix}_${randomBytes(12).toString('base64url')}`;
}

export const newNotificationId = () => randomId('ntf');
export const newDeliveryId = () => randomId('dlv');
export const newDeviceId = () => randomId('dev');
export const newEventKey = () => randomId('evt');

/**
 * The notification workflow id is a hash of the idempotency key: the same key always maps to the same execution (the
 * engine's de-duplication), and a key that contains personal data never shows up in Temporal's ids or UI.
 * The API, the client SDK and the tests all derive it here, so they agree.
 */
export function notificationWorkflowId(idempotencyKey: string): string {
  return `notification-${createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 40)}`;
}
