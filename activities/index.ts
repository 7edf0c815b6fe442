/**
 * All of Herald's I/O for a notification: database reads and writes, template rendering and provider calls. Each
 * activity lives in its own file; this factory only composes them from dependencies given explicitly (no defaults),
 * so the worker wires real ones and tests pass fakes.
 */
import type { PrismaClient } from '../generated/prisma/client';
import type { Tracking } from '../domain/tracking/tracking';
import type { DeliveryConfig } from '../platform/config/delivery';
import type { ActivityMetrics } from '../platform/metrics';
import type { Sql } from '../platform/sql';
import { createDeliveryControlActivities } from './delivery-control.activities';
import { createRecordDeliveries } from './delivery/record-deliveries';
import { createChannelSender } from './delivery/send-channel';
import { createAcceptIntake } from './notification/accept-intake';
import { createNotificationPlanning } from './notification/plan-notification';
import { createSetNotificationStatus } from './notification/set-notification-status';
import type { ProviderHealth } from './provider-health';
import type { ProviderRegistry } from './providers/registry';

export interface ActivityDeps {
  db: PrismaClient;
  /** Plain SQL on the same database: the hot path's statements (platform/sql.ts). */
  sql: Sql;
  providers: ProviderRegistry;
  clock: () => Date;
  /** Tracking links, open pixel and List-Unsubscribe (undefined: messages go out as rendered). */
  tracking: Tracking | undefined;
  /** Throttle, retry, failover and alert settings. */
  delivery: DeliveryConfig;
  /** Where provider outcomes are counted for the failure-rate alert (one per process: the worker's). */
  health: ProviderHealth;
  /** Prometheus counters and provider latency (platform/metrics.ts); undefined in unit tests. */
  metrics: ActivityMetrics | undefined;
  /** Called when a courtesy record of provider answers fails (the workflow records them instead). */
  onRecordError: ((error: unknown) => void) | undefined;
}

export type { PlannedDelivery, NotificationPlan, DeliveryPolicy } from './notification/plan-notification';
export type { TargetOutcome } from './delivery/outcomes';

export function createActivities({
  db,
  sql,
  providers,
  clock,
  tracking,
  metrics,
  delivery,
  health,
  onRecordError,
}: ActivityDeps) {
  const onStatus = (status: string) => metrics?.notificationStatus(status);
  return {
    ...createDeliveryControlActivities({ db, providers, delivery, clock }),
    ...createAcceptIntake({ sql, clock, metrics }),
    ...createSetNotificationStatus({ db, sql, clock }),
    ...createNotificationPlanning({ sql, providers, tracking, delivery, clock, onStatus }),
    /** One channel's provider calls, on the channel's task queue: the answers per target, durable in the history. */
    sendChannel: createChannelSender({ sql, providers, delivery, health, clock, metrics, onRecordError }).sendChannel,
    ...createRecordDeliveries({ sql, clock, metrics }),
  };
}

export type Activities = ReturnType<typeof createActivities>;
