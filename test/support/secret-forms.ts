import { inspect } from 'node:util';

/**
 * Every form a secret can take in a log line or a history: as text (and JSON-escaped), and its bytes as base64
 * (padded or not), base64url, hex in either case, `util.inspect`'s spaced hex, and a list of byte values as JSON
 * prints a Buffer (`{"type":"Buffer","data":[216,11,…]}`) or `util.inspect` prints a Uint8Array.
 */
export function secretForms(secret: string | Uint8Array): Record<string, string> {
  const bytes = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : Buffer.from(secret);
  const forms: Record<string, string> = {
    base64: bytes.toString('base64'),
    base64NoPadding: bytes.toString('base64').replace(/=+$/, ''),
    base64url: bytes.toString('base64url'),
    hex: bytes.toString('hex'),
    HEX: bytes.toString('hex').toUpperCase(),
    bytesJson: JSON.stringify([...bytes]).slice(1, -1),
    bytesInspected: [...bytes].join(', '),
    ...(bytes.length <= 50 ? { bufferInspected: inspect(bytes).slice('<Buffer '.length, -1) } : {}),
  };
  if (typeof secret === 'string') {
    forms.text = secret;
    forms.jsonEscaped = JSON.stringify(secret).slice(1, -1);
  }
  return forms;
}

/** The names of the forms of `secret` that `text` contains (also inside a JSON string). */
export function formsIn(text: string, secret: string | Uint8Array): string[] {
  return Object.entries(secretForms(secret))
    .filter(([, form]) => text.includes(form) || text.includes(JSON.stringify(form).slice(1, -1)))
    .map(([name]) => name);
}
