import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import {
  NOTIFICATION_WORKFLOW,
  type SendNotificationWorkflowInput,
} from '../../contract/workflows/notification.definitions';
import { notificationWorkflowId } from '../../contract/ids';

/**
 * Starts (or finds) the notification's workflow. The id comes from the idempotency key; a running execution with the
 * same id is reused and a closed one is never started again, so one key is one notification for as long as the
 * namespace retains it. Resolves only once the server has durably recorded the start.
 */
export async function startNotificationWorkflow(
  client: Client,
  taskQueue: string,
  idempotencyKey: string,
  input: SendNotificationWorkflowInput,
): Promise<string> {
  const workflowId = notificationWorkflowId(idempotencyKey);
  try {
    await client.workflow.start(NOTIFICATION_WORKFLOW, {
      taskQueue,
      workflowId,
      args: [input],
      workflowIdConflictPolicy: 'USE_EXISTING',
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
    });
    return workflowId;
  } catch (error) {
    // REJECT_DUPLICATE: this key's workflow already ran to completion; it is never started twice.
    if (error instanceof WorkflowExecutionAlreadyStartedError) return workflowId;
    throw error;
  }
}
