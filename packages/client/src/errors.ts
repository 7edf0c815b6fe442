/**
 * Errors a caller can act on. Every failure of the client is a HeraldError; its subclass says what to do:
 *
 * - InvalidInputError: fix the input (`field` names the first bad one, `issues` lists them all). Never retry as is.
 * - NotFoundError: the user, template, notification, device, category, topic, campaign... (`resource`, `id`) does not
 *   exist. Create it, then send again: a refused send records nothing, so the same event id is still free.
 * - UnauthorizedError: the API key (or the Temporal credentials) are missing, wrong or lack the permission.
 * - ConflictError: the request is valid but the resource's state forbids it (cancel of a notification that is
 *   already sending or sent, retry of one that did not fail, a trigger of a deleted campaign).
 * - TransientError: Herald, Temporal or the network did not answer in time. `retryable` is true: send again with
 *   the same `eventId` (the client already retried with it) and at most one notification results.
 *
 * The same condition raises the same class and `code` through either transport (HTTP or Temporal).
 */
import type { z } from 'zod';

export interface HeraldErrorOptions {
  /** HTTP status when the answer came over HTTP. */
  status?: number;
  details?: unknown;
  retryable?: boolean;
  cause?: unknown;
}

export class HeraldError extends Error {
  override name = 'HeraldError';
  /** Machine-readable: the API's error code (`validation_error`, `user_not_found`, ...) or the client's own. */
  readonly code: string;
  readonly status?: number;
  readonly details?: unknown;
  /** True when sending the same request again (same event id) may succeed. */
  readonly retryable: boolean;
  /** The event id of a failed send, so that a retry by the caller stays idempotent. */
  eventId?: string;
  /** The Idempotency-Key of a failed createCampaign: create again with it and at most one campaign results. */
  idempotencyKey?: string;

  constructor(code: string, message: string, options: HeraldErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = options.status;
    this.details = options.details;
    this.retryable = options.retryable ?? false;
  }
}

export interface InputIssue {
  /** Dotted path inside the input, e.g. `userId`, `data.order`, `channels.0`. */
  field: string;
  code: string;
  message: string;
}

export class InvalidInputError extends HeraldError {
  override name = 'InvalidInputError';
  readonly issues: InputIssue[];
  /** The first bad field, when the problem is with one field. */
  readonly field?: string;
  constructor(code: string, message: string, issues: InputIssue[], options: HeraldErrorOptions = {}) {
    super(code, message, { ...options, details: options.details ?? issues });
    this.issues = issues;
    this.field = issues[0]?.field;
  }
}

export class NotFoundError extends HeraldError {
  override name = 'NotFoundError';
  constructor(
    /** user, template, template_version, notification, device, category, topic, campaign, campaign_run. */
    readonly resource: string,
    readonly id: string | undefined,
    message: string,
    options: HeraldErrorOptions = {},
  ) {
    super(`${resource}_not_found`, message, options);
  }
}

export class UnauthorizedError extends HeraldError {
  override name = 'UnauthorizedError';
}

export class ConflictError extends HeraldError {
  override name = 'ConflictError';
}

export class TransientError extends HeraldError {
  override name = 'TransientError';
  /** How many attempts the client made before giving up. */
  readonly attempts: number;
  constructor(code: string, message: string, attempts: number, options: HeraldErrorOptions = {}) {
    super(code, message, { ...options, retryable: true });
    this.attempts = attempts;
  }
}

/** A zod failure of the client's own validation (the API's schemas), before anything is sent. */
export function invalidInput(error: z.ZodError, prefix: string[] = []): InvalidInputError {
  const issues = error.issues.map((issue) => ({
    field: [...prefix, ...issue.path.map(String)].join('.') || '(input)',
    code: issue.code,
    message: issue.message,
  }));
  const first = issues[0];
  return new InvalidInputError(
    'validation_error',
    first ? `${first.field}: ${first.message}` : 'invalid input',
    issues,
  );
}

/** The API writes `body.userId`, `path.userId` and `query.limit`; the client's callers passed `userId`, `limit`. */
function normaliseField(field: string): string {
  return field.replace(/^(body|path|query)\.?/, '') || '(input)';
}

function issuesFrom(details: unknown): InputIssue[] {
  if (!Array.isArray(details)) return [];
  return details
    .filter((d): d is { field: string; code?: string; message?: string } => typeof d?.field === 'string')
    .map((d) => ({ field: normaliseField(d.field), code: d.code ?? 'invalid', message: d.message ?? 'invalid' }));
}

/**
 * Refusals about one input field that come without details: idempotency problems are about the event id, whichever
 * way the server phrased them; a cursor is one the API did not return; and so on.
 */
const FIELD_OF_CODE = new Map([
  ['invalid_idempotency_key', 'eventId'],
  ['idempotency_key_mismatch', 'eventId'],
  ['idempotency_key_reused', 'idempotencyKey'],
  ['invalid_cursor', 'cursor'],
  ['delivery_mismatch', 'deliveryId'],
  ['schedule_in_past', 'schedule.at'],
  ['invalid_schedule', 'schedule'],
]);

/**
 * Herald's refusal — an HTTP error body `{error: {code, message, details}}` or the intake workflow's answer — as the
 * error class the caller acts on. `status` is the HTTP status when there is one.
 */
export function heraldErrorFrom(
  refusal: { code: string; message: string; details?: unknown },
  status?: number,
  context: { id?: string } = {},
): HeraldError {
  const { code, message, details } = refusal;
  const options = { status, details };
  if (status === 401 || status === 403 || code === 'unauthorized' || code === 'forbidden') {
    return new UnauthorizedError(code, message, options);
  }
  // A 409 `schedule_not_found` is about the campaign's state, not a missing resource.
  if (code.endsWith('_not_found') && code !== 'route_not_found' && (status === undefined || status === 404)) {
    const about = (details ?? {}) as { resource?: unknown; id?: unknown };
    const resource = typeof about.resource === 'string' ? about.resource : code.slice(0, -'_not_found'.length);
    const id = typeof about.id === 'string' ? about.id : context.id;
    return new NotFoundError(resource, id, message, options);
  }
  if (code === 'validation_error' || FIELD_OF_CODE.has(code) || [400, 413, 415, 422].includes(status ?? 0)) {
    const issues = issuesFrom(details);
    const field = FIELD_OF_CODE.get(code);
    if (issues.length === 0 && field) issues.push({ field, code, message });
    return new InvalidInputError(code, message, issues, options);
  }
  if (status === 409 || code === 'not_cancelable') return new ConflictError(code, message, options);
  return new HeraldError(code, message, options);
}
