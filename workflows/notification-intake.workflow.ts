import { proxyLocalActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { NotificationIntakeInput, NotificationIntakeResult } from '../contract/workflows/notification.definitions';

/**
 * A local activity: accepting is a short database write and a workflow start, and the caller is waiting for it.
 * Retried while the database or Temporal is unreachable, for at most a minute: the caller has given up by then, and
 * a notification accepted long after its sender was told "failed" would surprise everyone.
 */
const intake = proxyLocalActivities<Activities>({
  startToCloseTimeout: '10 seconds',
  scheduleToCloseTimeout: '1 minute',
  retry: { initialInterval: '200 milliseconds', backoffCoefficient: 2, maximumInterval: '5 seconds' },
});

/** Accepts one notification for a client without database access; see NOTIFICATION_INTAKE_WORKFLOW. */
export async function notificationIntake(input: NotificationIntakeInput): Promise<NotificationIntakeResult> {
  return intake.acceptNotification(input);
}
