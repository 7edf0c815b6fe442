/**
 * The accept path's side of digests: which digest (if any) an accepted event joins, and the signal-with-start that
 * puts it in its digest workflow — durably, before the API answers 202.
 */
import { createHash } from 'node:crypto';
import type { Client } from '@temporalio/client';
import {
  DIGEST_WORKFLOW,
  digestEventSignal,
  type DigestTarget,
  type DigestWorkflowInput,
} from '../../contract/workflows/digest.definitions';
import {
  digestPreferenceSchema,
  digestSchema,
  digestSettings,
  preferenceDigest,
  type DigestInput,
  type DigestSettings,
} from '../../contract/schemas/digest.schemas';

/** One workflow per user + template + key: a hash, so neither the user id nor the key shows up in Temporal. */
export function digestWorkflowId(userId: string, template: string, key: string): string {
  const hash = createHash('sha256')
    .update(JSON.stringify(['digest', userId, template, key]))
    .digest('hex');
  return `digest-${hash.slice(0, 40)}`;
}

/** Stored on the event's row (`notifications.digest`): enough to signal its digest again on a replayed request. */
export interface DigestRecord {
  workflowId: string;
  target: DigestTarget;
  settings: DigestSettings;
}

export interface DigestSources {
  /** The request's own `digest`. */
  request?: DigestInput;
  /** The category's row, when the notification names a defined category. */
  category?: { critical: boolean; digest: unknown; allow: boolean } | null;
  /** The user's choice for the category (preferences.categories[name].digest). */
  choice?: unknown;
  /** Sent by a campaign run: never batched (a run counts each recipient's own outcome). */
  campaign?: boolean;
}

/**
 * Which digest applies: none for a critical category or a campaign; else the request's, else the user's choice where
 * the category allows one (immediate: none), else the category's.
 */
export function resolveDigest({ request, category, choice, campaign }: DigestSources): DigestInput | null {
  if (campaign || category?.critical) return null;
  if (request) return request;
  const chosen = digestPreferenceSchema.safeParse(choice);
  if (category?.allow && chosen.success) return preferenceDigest(chosen.data);
  const configured = digestSchema.safeParse(category?.digest ?? undefined);
  return configured.success ? configured.data : null;
}

export function digestRecord(input: DigestInput, target: DigestTarget): DigestRecord {
  const { key, settings } = digestSettings(input);
  return { workflowId: digestWorkflowId(target.userId, target.template, key), target, settings };
}

/**
 * Puts the event in its digest workflow, starting it if none is running. Resolves once the server has recorded the
 * signal (and the start): from then on the event is in the workflow's history, whatever crashes.
 */
export async function signalDigest(
  client: Client,
  taskQueue: string,
  record: DigestRecord,
  notificationId: string,
): Promise<void> {
  await client.workflow.signalWithStart(DIGEST_WORKFLOW, {
    taskQueue,
    workflowId: record.workflowId,
    args: [{ target: record.target, settings: record.settings } satisfies DigestWorkflowInput],
    signal: digestEventSignal,
    signalArgs: [{ id: notificationId, settings: record.settings }],
  });
}
