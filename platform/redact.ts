/**
 * The one redaction helper for text that leaves Herald's hands — failure messages that end up in workflow
 * histories, provider errors, webhook reasons stored on a delivery: never a contact detail or a credential.
 * (The logger's value-based redaction of configured secrets is platform/logger.ts.)
 */
const EMAIL = /[^\s<>"'@]+@[^\s<>"']+/g;
const PHONE = /\+?\d[\d\s().-]{5,}\d/g;

export interface RedactOptions {
  /** Exact values to blank out as `[redacted]`: credentials, the target's address, number or device token. */
  values?: readonly (string | undefined)[];
  /** At most this many characters (default: no limit). */
  max?: number;
}

/** Blanks out the given values, then anything that looks like an e-mail address (`[email]`) or a phone number. */
export function redact(text: string, { values = [], max }: RedactOptions = {}): string {
  let out = text;
  for (const value of values) if (value) out = out.split(value).join('[redacted]');
  // Seven digits at least, as the shortest phone numbers have: an SMTP status ("550 5.1.1") is not one.
  out = out.replace(EMAIL, '[email]').replace(PHONE, (run) => (run.replace(/\D/g, '').length >= 7 ? '[number]' : run));
  return max === undefined ? out : out.slice(0, max);
}
