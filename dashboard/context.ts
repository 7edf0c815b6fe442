import type { Api, Session } from './api';
import type { ApiKeyScope } from '../contract/schemas';

/** What every view gets: the calls, who is signed in, and a way to stop its timers when the operator leaves. */
export interface Ctx {
  api: Api;
  session: Session;
  /** Whether the key may do this (admin may do everything); the API enforces it regardless. */
  can(scope: ApiKeyScope): boolean;
  /** Runs `fn` every `ms` until the view is left. */
  every(ms: number, fn: () => Promise<unknown>): void;
  /** The route's query parameters (`#/notifications?userId=u1`). */
  query: URLSearchParams;
}

export type View = (ctx: Ctx, param: string | undefined) => Promise<HTMLElement>;
