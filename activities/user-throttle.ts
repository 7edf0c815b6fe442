import { WithStartWorkflowOperation, type Client } from '@temporalio/client';
import {
  throttleRequestUpdate,
  USER_THROTTLE_WORKFLOW,
  type ThrottleAnswer,
  type ThrottleRequest,
  type UserThrottleInput,
} from '../contract/workflows/user-throttle.definitions';
import { userThrottleWorkflowId } from '../contract/ids';

/**
 * Asks the user's throttle workflow for a decision, starting it when it is not running (update-with-start,
 * USE_EXISTING). The answer is durable in the throttle's history before this returns. A run that is just ending or
 * continuing-as-new makes this throw; the caller (an activity) retries and reaches the next run, and the request id
 * keeps the retry from taking a second slot.
 */
export async function requestThrottleGrant(
  client: Client,
  taskQueue: string,
  userId: string,
  request: ThrottleRequest,
): Promise<ThrottleAnswer> {
  const input: UserThrottleInput = {
    entries: [],
    maxWindowMs: 0,
    quietPeriodMs: request.quietPeriodMs,
    maxRequestsPerRun: request.maxRequestsPerRun,
    run: 1,
  };
  const start = new WithStartWorkflowOperation(USER_THROTTLE_WORKFLOW, {
    workflowId: userThrottleWorkflowId(userId),
    taskQueue,
    args: [input],
    workflowIdConflictPolicy: 'USE_EXISTING',
  });
  return client.workflow.executeUpdateWithStart(throttleRequestUpdate, {
    args: [request],
    startWorkflowOperation: start,
  });
}
