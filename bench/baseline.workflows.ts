/**
 * The Temporal-alone baselines the benchmark compares Herald with: B0 is a workflow that does nothing, B1 a workflow
 * that runs one activity that does nothing. Whatever Herald adds on top of B1 is Herald's cost.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { BaselineActivities } from './baseline.activities';

const { noop } = proxyActivities<BaselineActivities>({ startToCloseTimeout: '30s' });

export async function benchEmpty(): Promise<void> {}

export async function benchOneActivity(): Promise<void> {
  await noop();
}
