/**
 * Task queue backlog, from Temporal's own description of each queue (DescribeTaskQueue with report_stats): how many
 * tasks wait for a worker and how old the oldest one is. A backlog that grows while its age climbs means the workers
 * cannot keep up: add workers (docs/operations.md has the alert rule), unless `rateLimited` says a task queue rate
 * limit, not worker count, is the bottleneck.
 */
import type { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { channelTaskQueue } from '../contract/workflows/notification.definitions';
import type { QueueStat } from '../platform/metrics';
import { CHANNELS } from '../contract/channels';

export type QueueStatView = QueueStat;

const TYPES = [
  ['workflow', temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW],
  ['activity', temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY],
] as const;

function seconds(duration: { seconds?: unknown; nanos?: number | null } | null | undefined): number {
  if (!duration) return 0;
  return Number(duration.seconds ?? 0) + (duration.nanos ?? 0) / 1e9;
}

/** Herald's own task queues: workflows on the main one, provider calls on one per channel. */
export function heraldTaskQueues(taskQueue: string, extra: string[] = []): string[] {
  return [...new Set([taskQueue, ...CHANNELS.map((c) => channelTaskQueue(taskQueue, c)), ...extra])];
}

export function createQueueMonitor(
  connection: Pick<Connection, 'workflowService'>,
  namespace: string,
  taskQueues: string[],
) {
  return async function describeQueues(): Promise<QueueStatView[]> {
    const requests = taskQueues.flatMap((taskQueue) =>
      TYPES.map(async ([type, taskQueueType]) => {
        const response = await connection.workflowService.describeTaskQueue({
          namespace,
          taskQueue: { name: taskQueue, kind: temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
          taskQueueType,
          reportStats: true,
        });
        const stats = response.stats;
        return {
          taskQueue,
          type,
          backlogCount: Number(stats?.approximateBacklogCount ?? 0),
          backlogAgeSeconds: seconds(stats?.approximateBacklogAge),
          pollers: response.pollers?.length ?? 0,
          addRate: stats?.tasksAddRate ?? 0,
          dispatchRate: stats?.tasksDispatchRate ?? 0,
          rateLimited: Boolean((stats as { rateLimitingActive?: boolean } | null | undefined)?.rateLimitingActive),
        } satisfies QueueStatView;
      }),
    );
    return Promise.all(requests);
  };
}
