/**
 * Failure types an activity throws for a problem that retrying cannot fix: the workflows' retry policies list them as
 * non-retryable, and the activities throw them by these names. Dependency-free, so the workflow bundle can import it.
 */
export const NON_RETRYABLE = {
  InvalidRecipient: 'InvalidRecipient',
  InvalidRequest: 'InvalidRequest',
  TemplateError: 'TemplateError',
  NotFound: 'NotFound',
} as const;
export type NonRetryableType = (typeof NON_RETRYABLE)[keyof typeof NON_RETRYABLE];

/** The list a retry policy's `nonRetryableErrorTypes` takes. */
export const NON_RETRYABLE_TYPES: string[] = Object.values(NON_RETRYABLE);
