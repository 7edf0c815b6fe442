import pino from 'pino';

/**
 * Structured logs (JSON lines, pino). Two nets keep secrets and contact details out of them:
 * - by key: anything under a key that names a credential or a contact (`apiKey`, `authorization`, `email`, ...) is
 *   replaced, so a careless `logger.info({ config })` cannot leak it;
 * - by value: every secret the process knows (registerSecrets: the configuration's keys, tokens and passwords, the
 *   generated embedded keys) is blanked out of the finished line, wherever it appears — an error message quoting a
 *   URL with its password, a stack trace, a provider's answer — and so is anything shaped like an email address or an
 *   E.164 phone number.
 */
const REDACTED = '[redacted]';
const secrets = new Set<string>();
let pattern: RegExp | undefined;

const escapeRegExp = (value: string) => value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Adds values to blank out of every log line this process writes. Short values (< 8 chars) are ignored. */
export function registerSecrets(values: Iterable<string | undefined>): void {
  let changed = false;
  const add = (value: string) => {
    if (value.length < 8 || secrets.has(value)) return;
    secrets.add(value);
    changed = true;
  };
  for (const value of values) {
    if (!value) continue;
    add(value);
    // As it appears inside a JSON string, and line by line for multi-line secrets (PEM keys).
    add(JSON.stringify(value).slice(1, -1));
    if (value.includes('\n')) {
      for (const line of value.split('\n')) if (line.trim().length >= 16 && !line.startsWith('-----')) add(line.trim());
    }
  }
  if (changed) {
    // Longest first, so a secret that contains another is replaced whole.
    const alternatives = [...secrets].sort((a, b) => b.length - a.length).map(escapeRegExp);
    pattern = new RegExp(alternatives.join('|'), 'g');
  }
}

// Contact details that slipped into a message (a provider quoting the address it refused). The local part needs a
// letter so that worker identities (`<pid>@<host>`) survive; phone numbers need their E.164 `+`.
const EMAIL = /[A-Za-z0-9._%+-]*[A-Za-z][A-Za-z0-9._%+-]*@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g;
const PHONE = /\+[1-9]\d{6,14}\b/g;

/** The line with every registered secret, email address and E.164 number replaced. */
export function redactSecrets(line: string): string {
  const withoutSecrets = pattern ? line.replace(pattern, REDACTED) : line;
  return withoutSecrets.replace(EMAIL, '[email]').replace(PHONE, '[phone]');
}

export interface LoggerOptions {
  /** Where lines go (default stdout); tests capture them. */
  destination?: pino.DestinationStream;
}

export function createLogger(level = process.env.LOG_LEVEL ?? 'info', options: LoggerOptions = {}) {
  return pino(
    {
      level,
      redact: {
        paths: [
          '*.apiKey',
          '*.authToken',
          '*.keyPem',
          '*.credentials',
          '*.password',
          '*.secret',
          '*.key',
          '*.email',
          '*.phone',
          '*.to',
          '*.recipient',
          '*.token',
          '*.authorization',
          '*.cookie',
          'req.headers.authorization',
          'req.headers.cookie',
          'headers.authorization',
          'headers.cookie',
        ],
        censor: REDACTED,
      },
      hooks: { streamWrite: redactSecrets },
    },
    options.destination,
  );
}

export type Logger = pino.Logger;
