import pino from 'pino';

/**
 * Structured logs (JSON lines, pino). Two nets keep secrets and contact details out of them:
 * - by structure: anything under a key that names a credential or a contact (`apiKey`, `authorization`, `email`, ...)
 *   is replaced, so a careless `logger.info({ config })` cannot leak it, and raw bytes (a key held in a Buffer) are
 *   never written, only their length;
 * - by value: every secret the process knows (registerSecrets: the configuration's keys, tokens and passwords, the
 *   generated embedded keys) is blanked out of the finished line, wherever and in whatever encoding it appears — an
 *   error message quoting a URL with its password, a stack trace, a provider's answer, a key as base64, hex or a list
 *   of byte values — and so is anything shaped like an email address or an E.164 phone number.
 */
const REDACTED = '[redacted]';
/** Regular-expression sources, one per form of a registered secret. */
const secrets = new Set<string>();
const seen = new Set<string>();
let pattern: RegExp | undefined;

const escapeRegExp = (value: string) => value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A string secret up to this length is also looked for in its byte encodings (a PEM key is looked for line by line). */
const MAX_ENCODED_STRING = 256;

/**
 * The forms raw bytes take in a log line: base64 (padded or not), base64url, hex in either case, hex bytes spaced as
 * `util.inspect` prints a Buffer, and a list of byte values as JSON prints a Buffer (`{"type":"Buffer","data":[216,11,
 * …]}`) or a Uint8Array (`{"0":216,"1":11,…}` is not caught; nothing Herald logs takes that form), commas with or
 * without spaces and line breaks.
 */
function byteForms(bytes: Buffer): string[] {
  const base64 = bytes.toString('base64');
  const hex = bytes.toString('hex');
  const spaced = [...bytes].map((b) => b.toString(16).padStart(2, '0')).join(' ');
  return [
    ...[base64, base64.replace(/=+$/, ''), bytes.toString('base64url'), hex, hex.toUpperCase(), spaced].map(
      escapeRegExp,
    ),
    // As a list of numbers, not inside a longer number: [216,11,52] or [ 216, 11,\n  52 ].
    `(?<![0-9])${[...bytes].join(',(?:\\s|\\\\n)*')}(?![0-9])`,
  ];
}

/**
 * Adds values to blank out of every log line this process writes, in every form they may take there: as text
 * (and JSON-escaped), and — for keys held as bytes, and short string secrets — as base64, base64url, hex or a list of
 * byte values. Short values (< 8 chars or bytes) are ignored.
 */
export function registerSecrets(values: Iterable<string | Uint8Array | undefined>): void {
  let changed = false;
  const add = (source: string) => {
    if (secrets.has(source)) return;
    secrets.add(source);
    changed = true;
  };
  const addText = (value: string) => {
    if (value.length < 8) return;
    add(escapeRegExp(value));
  };
  for (const value of values) {
    if (!value || value.length < 8) continue;
    const key = typeof value === 'string' ? `s:${value}` : `b:${Buffer.from(value).toString('base64')}`;
    if (seen.has(key)) continue;
    seen.add(key);
    if (typeof value !== 'string') {
      byteForms(Buffer.from(value)).forEach(add);
      continue;
    }
    addText(value);
    // As it appears inside a JSON string, and line by line for multi-line secrets (PEM keys).
    addText(JSON.stringify(value).slice(1, -1));
    if (value.includes('\n')) {
      for (const line of value.split('\n')) {
        if (line.trim().length >= 16 && !line.startsWith('-----')) addText(line.trim());
      }
    }
    if (value.length <= MAX_ENCODED_STRING) byteForms(Buffer.from(value, 'utf8')).forEach(add);
  }
  if (changed) {
    // Longest first, so a secret that contains another is replaced whole.
    pattern = new RegExp([...secrets].sort((a, b) => b.length - a.length).join('|'), 'g');
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

/**
 * Raw bytes never reach a log line, whatever they hold: a Buffer or Uint8Array anywhere in what is logged (and the
 * `{type: 'Buffer', data: [...]}` a Buffer turns into once copied through JSON) is replaced by its length. Errors and
 * objects with their own toJSON are left to it and to the redaction by value; cycles and depth are bounded.
 */
function withoutBytes(value: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
  if (value instanceof Uint8Array) return `[${value.length} bytes]`;
  if (value === null || typeof value !== 'object' || depth > 8 || seen.has(value) || value instanceof Error) {
    return value;
  }
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return value;
  seen.add(value);
  if (Array.isArray(value)) {
    let changed = false;
    const items = value.map((item) => {
      const next = withoutBytes(item, depth + 1, seen);
      if (next !== item) changed = true;
      return next;
    });
    return changed ? items : value;
  }
  const record = value as Record<string, unknown>;
  if (record.type === 'Buffer' && Array.isArray(record.data)) return `[${record.data.length} bytes]`;
  let copy: Record<string, unknown> | undefined;
  for (const [key, item] of Object.entries(record)) {
    const next = withoutBytes(item, depth + 1, seen);
    if (next !== item) (copy ??= { ...record })[key] = next;
  }
  return copy ?? value;
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
      formatters: { log: (object) => withoutBytes(object) as Record<string, unknown> },
      hooks: { streamWrite: redactSecrets },
    },
    options.destination,
  );
}

export type Logger = pino.Logger;
