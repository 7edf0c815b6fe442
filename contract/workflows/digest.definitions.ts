/**
 * The digest workflow's public surface: one workflow per digest key (user + template + key, hashed into the id),
 * fed by signal-with-start from the accept path. Deterministic and dependency-free, so the API, the activities and
 * the tests import it.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { DigestSettings } from '../schemas/digest.schemas';

export const DIGEST_WORKFLOW = 'digestBatch';

/** What a digest is about: who, which template, in which category and on which channels. No event data. */
export interface DigestTarget {
  userId: string;
  template: string;
  category: string | null;
  channels: string[];
}

/** One accepted event waiting in the open batch: its notification id and when the workflow received it (ms). */
export interface DigestEvent {
  id: string;
  at: number;
}

/** Everything a run carries to the next across continue-as-new: plain JSON. */
export interface DigestState {
  open: DigestEvent[];
  /** Digests sent so far by this chain of runs: the next one is `batch + 1`. */
  batch: number;
  /** When the open batch began (its first event, or the first after a send), ms. */
  startedAt: number | null;
  /** When the open batch is due (cron: the next fire time, computed once per batch), ms. */
  dueAt: number | null;
  /** When the last digest went (lookback: an event more than a window later goes at once), ms. */
  lastSentAt: number | null;
  /** 1 for the first run; +1 at each continue-as-new. */
  run: number;
}

export interface DigestWorkflowInput {
  target: DigestTarget;
  settings: DigestSettings;
  state?: DigestState;
  /** Continue-as-new after this many events in one run (or when Temporal suggests it). */
  maxEventsPerRun?: number;
  /** An empty workflow ends after this long without events (lookback: at least its window). */
  idleMs?: number;
}

/** An accepted event joins the open batch (ignored if it is already there). Carries the settings it was sent with. */
export interface DigestEventSignal {
  id: string;
  settings: DigestSettings;
}
export const digestEventSignal = defineSignal<[DigestEventSignal]>('digestEvent');

export interface RemoveDigestEventResult {
  /** False when the event is not in the open batch (already sent with a digest, or never there). */
  removed: boolean;
}
/** Cancels one event of the open batch; answered once its notification reads canceled. */
export const removeDigestEventUpdate = defineUpdate<RemoveDigestEventResult, [string]>('removeDigestEvent');

export const digestStateQuery = defineQuery<DigestState>('digestState');

/** A digest the workflow sent: the notification that carried the batch, and the events in it. */
export interface DigestFlushInput {
  digestWorkflowId: string;
  /** Stable for this chain of runs (the first run's id): with `batch`, names the digest notification. */
  chainId: string;
  batch: number;
  /** Workflow time of the send (ms): the digest's creation time. */
  at: number;
  target: DigestTarget;
  settings: DigestSettings;
  eventIds: string[];
}

export type DigestFlushResult =
  /** Every event was canceled or already carried by another digest: nothing to send. */
  { sent: false } | { sent: true; notificationId: string; workflowId: string; count: number };
