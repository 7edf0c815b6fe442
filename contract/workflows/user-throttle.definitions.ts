/**
 * The per-user throttle's public surface: one long-lived workflow per user keeps the user's recent sends and answers
 * each notification's request with a reservation (send at T, possibly now) or a drop. Deterministic and
 * dependency-free, so the activity that asks and the workflow that answers share it.
 */
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { Channel } from '../channels';

export const USER_THROTTLE_WORKFLOW = 'userThrottle';

/** At most `limit` sends in any window of `perMs`, counting sends on `channel` and in `category` when they are set. */
export interface ThrottleRule {
  channel?: Channel;
  category?: string;
  limit: number;
  perMs: number;
}

export interface ThrottleRequest {
  /** Stable per notification (and re-drive): the same request again gets the same answer, never a second slot. */
  requestId: string;
  category: string | null;
  /** Each channel the notification will be sent on, with the rules that apply to it and the over-limit policy. */
  channels: { channel: Channel; rules: ThrottleRule[]; policy: 'defer' | 'drop' }[];
  /** The workflow ends after this long without requests, once its windows are empty. */
  quietPeriodMs: number;
  /** Continue-as-new after this many requests in one run (or when Temporal suggests it). */
  maxRequestsPerRun: number;
}

export type ChannelGrant =
  { channel: Channel; decision: 'send'; at: string } | { channel: Channel; decision: 'drop'; reason: string };

export interface ThrottleAnswer {
  grants: ChannelGrant[];
}

/** One reserved (or dropped) send. Plain JSON: it crosses continue-as-new. `at` in epoch milliseconds. */
export interface ThrottleEntry {
  id: string;
  channel: Channel;
  category: string | null;
  at: number;
  dropped?: string;
}

export interface UserThrottleInput {
  entries: ThrottleEntry[];
  /** The longest window seen: entries older than this no longer count and are forgotten. */
  maxWindowMs: number;
  quietPeriodMs: number;
  maxRequestsPerRun: number;
  /** 1 for the first run; +1 at each continue-as-new. */
  run: number;
}

export const throttleRequestUpdate = defineUpdate<ThrottleAnswer, [ThrottleRequest]>('throttleRequest');
export const throttleStateQuery = defineQuery<{ run: number; entries: ThrottleEntry[]; handled: number }>(
  'throttleState',
);
