/**
 * Herald over Temporal, for services that reach the Temporal cluster: no Herald URL, no database credentials.
 *
 * send: executes the intake workflow (`notificationIntake`, one per event id at a time). A Herald worker runs the
 * API's own accept use case in it — records the notification, then starts its workflow with the same id derivation
 * and conflict policy as the API — and answers with the outcome. So an event id sent through HTTP and through this
 * transport, in either order or at once, is one notification, and an unknown user or template is refused the same
 * way (and leaves the event id free).
 *
 * cancel: the notification workflow's `cancel` update, addressed by the id (ids are derived from the event id).
 */
import {
  isGrpcServiceError,
  NamespaceNotFoundError,
  WorkflowFailedError,
  WorkflowNotFoundError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
  type Client,
} from '@temporalio/client';
import { notificationIntakeWorkflowId, workflowIdOfNotification } from '../contract/ids';
import {
  cancelUpdate,
  NOTIFICATION_INTAKE_WORKFLOW,
  type NotificationIntakeInput,
  type NotificationIntakeResult,
} from '../contract/workflows/notification.definitions';
import {
  ConflictError,
  HeraldError,
  heraldErrorFrom,
  NotFoundError,
  TransientError,
  UnauthorizedError,
} from './errors';
import type { CancelResult, KeyedSendInput, NotificationTransport, SendResult } from './types';

export interface TemporalTransportOptions {
  /** A connected client for Herald's namespace, with the same data converter (payload codec) as Herald's workers. */
  client: Client;
  /** Herald's task queue: HERALD_TASK_QUEUE of its workers (default `herald`). */
  taskQueue?: string;
  /**
   * How long a send waits for a worker to accept it (default 30 s). The intake workflow times out on the server at
   * the same moment, so a send that failed with TransientError is not accepted later behind the caller's back
   * (except in the instant between the accept and the answer; the same event id again tells).
   */
  acceptTimeoutMs?: number;
}

/** gRPC status codes (https://grpc.github.io/grpc/core/md_doc_statuscodes.html). */
const GRPC = {
  CANCELLED: 1,
  DEADLINE_EXCEEDED: 4,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  ABORTED: 10,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;
const TRANSIENT_GRPC = new Set<number>([
  GRPC.CANCELLED,
  GRPC.DEADLINE_EXCEEDED,
  GRPC.RESOURCE_EXHAUSTED,
  GRPC.ABORTED,
  GRPC.UNAVAILABLE,
]);

/** The gRPC status code anywhere in an error's cause chain. */
function grpcCode(error: unknown): number | undefined {
  for (let e = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (isGrpcServiceError(e)) return e.code;
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'number') return code;
  }
  return undefined;
}

export class TemporalTransport implements NotificationTransport {
  readonly kind = 'temporal';
  private readonly client: Client;
  private readonly taskQueue: string;
  private readonly acceptTimeoutMs: number;

  constructor(options: TemporalTransportOptions) {
    if (!options.client) throw new HeraldError('invalid_configuration', 'temporal.client is required');
    this.client = options.client;
    this.taskQueue = options.taskQueue ?? 'herald';
    this.acceptTimeoutMs = options.acceptTimeoutMs ?? 30_000;
  }

  async send(input: KeyedSendInput): Promise<SendResult> {
    const intake: NotificationIntakeInput = { idempotencyKey: input.eventId, notification: input };
    let result: NotificationIntakeResult;
    try {
      result = await this.withDeadline(() =>
        this.client.workflow.execute(NOTIFICATION_INTAKE_WORKFLOW, {
          taskQueue: this.taskQueue,
          workflowId: notificationIntakeWorkflowId(input.eventId),
          args: [intake],
          // Concurrent sends of one event id share one intake; a later one runs a new intake, which finds the
          // accepted notification and changes nothing.
          workflowIdConflictPolicy: 'USE_EXISTING',
          workflowIdReusePolicy: 'ALLOW_DUPLICATE',
          workflowExecutionTimeout: this.acceptTimeoutMs,
        }),
      );
    } catch (error) {
      if (error instanceof WorkflowFailedError) {
        throw new TransientError(
          'not_accepted',
          `no Herald worker accepted the notification within ${this.acceptTimeoutMs} ms (${error.cause?.message ?? error.message}); send it again with the same eventId`,
          1,
          { cause: error },
        );
      }
      throw this.failure(error, 'send');
    }
    if (!result.accepted) throw heraldErrorFrom(result);
    return { id: result.id, status: result.status, eventId: input.eventId, replayed: result.replayed };
  }

  async cancel(id: string): Promise<CancelResult> {
    const workflowId = workflowIdOfNotification(id);
    if (!workflowId) {
      throw new NotFoundError('notification', id, `notification ${JSON.stringify(id)} does not exist`);
    }
    const handle = this.client.workflow.getHandle(workflowId);
    let answer;
    try {
      answer = await this.withDeadline(() => handle.executeUpdate(cancelUpdate));
    } catch (error) {
      // The update also answers "not found" for a workflow that has finished: look at it to tell which.
      if (error instanceof WorkflowNotFoundError) return this.cancelFinished(id, handle);
      throw this.failure(error, 'cancel');
    }
    if (!answer.canceled) {
      throw new ConflictError('not_cancelable', `notification is already ${answer.phase}`, { details: answer });
    }
    return { id, status: 'canceled' };
  }

  private async cancelFinished(id: string, handle: ReturnType<Client['workflow']['getHandle']>): Promise<CancelResult> {
    let description;
    try {
      description = await this.withDeadline(() => handle.describe());
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) {
        throw new NotFoundError('notification', id, `notification ${JSON.stringify(id)} does not exist`);
      }
      throw this.failure(error, 'cancel');
    }
    if (description.status.name === 'COMPLETED') {
      const status = (await this.withDeadline(() => handle.result())) as string;
      if (status === 'canceled') return { id, status: 'canceled' };
      throw new ConflictError('not_cancelable', `notification is already ${status}`);
    }
    throw new ConflictError('not_cancelable', 'notification has finished');
  }

  /** A call that waits past the accept timeout (Temporal unreachable, no worker for the update) gives up then. */
  private withDeadline<T>(fn: () => Promise<T>): Promise<T> {
    return this.client.withDeadline(Date.now() + this.acceptTimeoutMs + 2_000, fn);
  }

  private failure(error: unknown, what: string): HeraldError {
    if (error instanceof HeraldError) return error;
    if (error instanceof NamespaceNotFoundError) {
      return new HeraldError('namespace_not_found', error.message, { cause: error });
    }
    const code = grpcCode(error);
    const message = `${what} over Temporal: ${(error as Error)?.message ?? String(error)}`;
    if (code === GRPC.UNAUTHENTICATED || code === GRPC.PERMISSION_DENIED) {
      return new UnauthorizedError(code === GRPC.UNAUTHENTICATED ? 'unauthorized' : 'forbidden', message, {
        cause: error,
      });
    }
    if (error instanceof WorkflowUpdateRPCTimeoutOrCancelledError || (code !== undefined && TRANSIENT_GRPC.has(code))) {
      return new TransientError('temporal_unavailable', message, 1, { cause: error });
    }
    return new HeraldError('temporal_error', message, { cause: error });
  }
}
