import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { removeDigestEventUpdate } from '../../contract/workflows/digest.definitions';
import { HttpError } from '../errors';

/**
 * Takes one event out of its digest's open batch. True once its notification reads canceled; false when the batch
 * has already gone (the event is in a digest being sent, or sent).
 */
export async function removeFromDigest(temporal: Client, digestWorkflowId: string, id: string): Promise<boolean> {
  try {
    const { removed } = await temporal.workflow
      .getHandle(digestWorkflowId)
      .executeUpdate(removeDigestEventUpdate, { args: [id] });
    return removed;
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return false;
    const message = (error as Error).message ?? '';
    if (/completed|closed/i.test(message)) return false;
    throw new HttpError(503, 'temporal_unavailable', `could not cancel: ${message}`);
  }
}
