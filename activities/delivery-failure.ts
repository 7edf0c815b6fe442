import { ApplicationFailure } from '@temporalio/common';
import { NON_RETRYABLE } from '../contract/failures';
import { ProviderError } from './providers/provider.types';
import { redact } from '../platform/redact';

/** Failure messages end up in workflow histories: never let a contact detail through. */
export function scrub(message: string): string {
  return redact(message, { max: 500 });
}

/**
 * Turns a provider's answer into the failure Temporal acts on: permanent ones are non-retryable (the retry policy
 * stops at once), transient ones are retried, after the provider's Retry-After when it gave one.
 */
export function toActivityFailure(error: unknown): ApplicationFailure {
  if (error instanceof ProviderError) {
    const message = scrub(`${error.code}: ${error.message}`);
    if (error.kind === 'permanent_target')
      return ApplicationFailure.nonRetryable(message, NON_RETRYABLE.InvalidRecipient);
    if (error.kind === 'permanent_request')
      return ApplicationFailure.nonRetryable(message, NON_RETRYABLE.InvalidRequest);
    return ApplicationFailure.create({
      message,
      type: 'ProviderUnavailable',
      nonRetryable: false,
      nextRetryDelay: error.details.retryAfterMs,
    });
  }
  // Anything unexpected (a bug, a database hiccup) is retried: losing the notification is the worse outcome.
  return ApplicationFailure.retryable(scrub((error as Error)?.message ?? String(error)), 'UnexpectedError');
}
