import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import {
  NOTIFICATION_WORKFLOW,
  type SendNotificationWorkflowInput,
} from '../../contract/workflows/notification.definitions';
import { NativeConnection } from '@temporalio/worker';
import { notificationWorkflowId } from '../../contract/ids';

/**
 * Eager workflow start: when the client shares a NativeConnection with a worker of this process (the API in `npm
 * start`; an activity's own client, for campaign pages and the intake workflow), the server hands the first workflow
 * task back in the start's answer, sparing a poll through the task queue. The SDK grants it only when a worker on that
 * connection has a free slot on the task queue, and otherwise starts the workflow as usual; a client on a connection of
 * its own (`npm run api`) cannot ask (the SDK refuses).
 */
const canStartEagerly = (client: Client) => client.connection instanceof NativeConnection;

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
      requestEagerStart: canStartEagerly(client),
    });
    return workflowId;
  } catch (error) {
    // REJECT_DUPLICATE: this key's workflow already ran to completion; it is never started twice.
    if (error instanceof WorkflowExecutionAlreadyStartedError) return workflowId;
    throw error;
  }
}
