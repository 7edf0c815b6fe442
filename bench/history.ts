/**
 * Temporal's own accounting of a phase: how many workflow executions it ran, and per execution the server's state
 * transitions (`stateTransitionCount`, the unit of persistence work) and history events (`historyLength`), from
 * DescribeWorkflowExecution. Raw service calls: the payloads (Herald's are encrypted) are never decoded.
 */
import type { Connection } from '@temporalio/client';

export interface WorkflowCost {
  executions: number;
  /** Sums over every execution (extrapolated from a sample per workflow type when there are many). */
  stateTransitions: number;
  historyEvents: number;
  byType: Record<string, { executions: number; stateTransitionsEach: number; historyEventsEach: number }>;
}

interface Execution {
  workflowId: string;
  runId: string;
  type: string;
}

const SAMPLE_PER_TYPE = 30;

async function describe(connection: Connection, namespace: string, execution: Execution) {
  const response = await connection.workflowService.describeWorkflowExecution({
    namespace,
    execution: { workflowId: execution.workflowId, runId: execution.runId },
  });
  const info = response.workflowExecutionInfo;
  return { transitions: Number(info?.stateTransitionCount ?? 0), events: Number(info?.historyLength ?? 0) };
}

function sample<T>(items: T[], size: number): T[] {
  if (items.length <= size) return items;
  const step = items.length / size;
  return Array.from({ length: size }, (_, i) => items[Math.floor(i * step)]!);
}

/** The cost of these executions: a sample per type is described, and its mean scaled to the type's count. */
export async function workflowCost(connection: Connection, namespace: string, executions: Execution[]) {
  const groups = new Map<string, Execution[]>();
  for (const e of executions) groups.set(e.type, [...(groups.get(e.type) ?? []), e]);
  const cost: WorkflowCost = { executions: executions.length, stateTransitions: 0, historyEvents: 0, byType: {} };
  for (const [type, group] of groups) {
    const described = await Promise.all(sample(group, SAMPLE_PER_TYPE).map((e) => describe(connection, namespace, e)));
    const each = (pick: (d: { transitions: number; events: number }) => number) =>
      described.reduce((sum, d) => sum + pick(d), 0) / described.length;
    const transitions = each((d) => d.transitions);
    const events = each((d) => d.events);
    cost.byType[type] = {
      executions: group.length,
      stateTransitionsEach: Math.round(transitions * 10) / 10,
      historyEventsEach: Math.round(events * 10) / 10,
    };
    cost.stateTransitions += transitions * group.length;
    cost.historyEvents += events * group.length;
  }
  return cost;
}

/**
 * Every execution started in [from, to) in the namespace, whatever its type or task queue — so helper workflows a
 * notification starts (a user's throttle, a re-drive) count too. Visibility is eventually consistent: call it once
 * the phase is over and has settled.
 */
export async function executionsStartedBetween(
  connection: Connection,
  namespace: string,
  from: Date,
  to: Date,
): Promise<Execution[]> {
  const executions: Execution[] = [];
  let nextPageToken: Uint8Array | undefined;
  do {
    const page = await connection.workflowService.listWorkflowExecutions({
      namespace,
      pageSize: 1000,
      nextPageToken,
      query: `StartTime >= "${from.toISOString()}" AND StartTime < "${to.toISOString()}"`,
    });
    for (const e of page.executions ?? []) {
      executions.push({
        workflowId: e.execution?.workflowId ?? '',
        runId: e.execution?.runId ?? '',
        type: e.type?.name ?? 'unknown',
      });
    }
    nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
  } while (nextPageToken);
  return executions;
}
