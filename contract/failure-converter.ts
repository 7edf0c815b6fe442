// Loaded by path (WorkerOptions.dataConverter.failureConverterPath) in the worker and inside the workflow sandbox, so it
// imports @temporalio/common only. Failure messages and stack traces travel in an encoded payload, which the payload
// codec encrypts: provider error texts never reach Temporal's database in clear.
import { DefaultFailureConverter } from '@temporalio/common';

export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
