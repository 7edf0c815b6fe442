import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import {
  NOTIFICATION_WORKFLOW,
  type SendNotificationWorkflowInput,
} from '../../contract/workflows/notification.definitions';
import { notificationWorkflowId } from '../../contract/ids';

/**
 * Clients that share a connection with a worker polling the notification queue: the API's in `npm start`, and an
 * activity's own (campaign pages, the intake workflow). See allowEagerStart.
 */
const eagerClients = new WeakSet<Client>();

/**
 * Lets notifications started through this client run their first workflow task on the worker of the same process
 * (eager workflow start): the server hands the task back in the start's answer, sparing a poll through the task queue.
 * Only for a Client built on the NativeConnection of a running worker of the same task queue (the SDK refuses others).
 */
export function allowEagerStart(client: Client): void {
  eagerClients.add(client);
}

/**
 * The running activity's client, allowed eager start: an activity's client is built on its worker's NativeConnection,
 * and the notifications it starts go to the task queue that worker polls (campaign pages, the intake workflow).
 */
export function activityClient(context: { client: Client }): Client {
  allowEagerStart(context.client);
  return context.client;
}

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
      ...(eagerClients.has(client) ? { requestEagerStart: true } : {}),
    });
    return workflowId;
  } catch (error) {
    // REJECT_DUPLICATE: this key's workflow already ran to completion; it is never started twice.
    if (error instanceof WorkflowExecutionAlreadyStartedError) return workflowId;
    throw error;
  }
}
