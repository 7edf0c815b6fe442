// Loaded by path (WorkerOptions.dataConverter.failureConverterPath) in the worker and inside the workflow sandbox, so it
// imports @temporalio/common only. Failure messages and stack traces travel in an encoded payload, which the payload
// codec encrypts: provider error texts never reach Temporal's database in clear.
import {
  DefaultFailureConverter,
  type FailureConverter,
  type PayloadConverter,
  type ProtoFailure,
  type SerializationContext,
} from '@temporalio/common';

/** The SDK's answer to the `__stack_trace` query when workflow stack traces are off (platform/workflow-stack-traces.ts). */
export const STACK_TRACES_OFF = 'Workflow stack traces are not enabled on this worker';
/** The setting that turns them on, named in that answer. */
export const WORKFLOW_STACK_TRACES_VARIABLE = 'HERALD_WORKFLOW_STACK_TRACES';

class HeraldFailureConverter extends DefaultFailureConverter {
  override errorToFailure(
    err: unknown,
    payloadConverter: PayloadConverter,
    context?: SerializationContext,
  ): ProtoFailure {
    if (err instanceof Error && err.message === STACK_TRACES_OFF) {
      // What the Web UI shows in place of a stack: a query's failure reaches it as a message only, so an encoded one
      // would read "Encoded failure". It says nothing about any notification, so it stays readable, with the way out.
      return {
        ...this.errorToFailureInner(err, payloadConverter, context),
        message: `${STACK_TRACES_OFF}: Herald's workers run without them unless ${WORKFLOW_STACK_TRACES_VARIABLE}=true`,
        stackTrace: '',
      };
    }
    return super.errorToFailure(err, payloadConverter, context);
  }
}

export const failureConverter: FailureConverter = new HeraldFailureConverter({ encodeCommonAttributes: true });
