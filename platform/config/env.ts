/**
 * Reading the environment, for every part of the configuration (platform/config, each provider folder's
 * `*.config.ts`): one error type, and a message that names the variable. Every secret may also come from a file
 * (`<NAME>_FILE`, for Docker/Kubernetes secrets); an empty variable means "not set".
 */
import fs from 'node:fs';
import { z } from 'zod';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export type Env = Record<string, string | undefined>;

export const SECRET_VARIABLES: readonly string[] = [
  'HERALD_API_KEY',
  'HERALD_ENCRYPTION_KEYS',
  'TWILIO_AUTH_TOKEN',
  'SENDGRID_API_KEY',
  'SMTP_URL',
  'DATABASE_URL',
  'HERALD_TRACKING_SECRET',
  'SENDGRID_WEBHOOK_PUBLIC_KEY',
  'VONAGE_API_SECRET',
  'HERALD_INBOX_SECRET',
];

/** Reads NAME, or the file named by NAME_FILE; empty means unset. */
export function read(env: Env, name: string): string | undefined {
  const direct = env[name]?.trim();
  if (direct) return direct;
  const file = SECRET_VARIABLES.includes(name) ? env[`${name}_FILE`]?.trim() : undefined;
  if (!file) return undefined;
  try {
    return fs.readFileSync(file, 'utf8').trim() || undefined;
  } catch (error) {
    throw new ConfigError(`${name}_FILE: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

export function readFile(name: string, file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`${name}: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

export function parse<T>(name: string, schema: z.ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (!result.success) throw new ConfigError(`${name}: ${result.error.issues[0]?.message ?? 'invalid value'}`);
  return result.data;
}

export const url = (protocols: string[]) =>
  z.string().refine(
    (value) => {
      try {
        return protocols.includes(new URL(value).protocol);
      } catch {
        return false;
      }
    },
    `must be a ${protocols.map((p) => p.replace(':', '')).join(' or ')} URL`,
  );

/** All of a group's variables, or none of them: a half-configured provider is a mistake worth stopping for. */
export function group<K extends string>(env: Env, names: readonly K[], optional: readonly string[] = []) {
  const values = Object.fromEntries(names.map((n) => [n, read(env, n)])) as Record<K, string | undefined>;
  const present = names.filter((n) => values[n] !== undefined);
  if (present.length === 0) return undefined;
  const missing = names.filter((n) => values[n] === undefined && !optional.includes(n));
  if (missing.length > 0) {
    throw new ConfigError(
      `${missing.join(', ')}: required because ${present.join(', ')} ${present.length > 1 ? 'are' : 'is'} set`,
    );
  }
  return values;
}

/** An optional http(s) base URL (a proxy, a regional host, a local fake), without its trailing slash. */
export function endpoint(env: Env, name: string): string | undefined {
  const value = read(env, name);
  return value === undefined ? undefined : parse(name, url(['http:', 'https:']), value).replace(/\/+$/, '');
}

export function list(env: Env, name: string): string[] {
  return (read(env, name) ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
}

/** A true/false switch (true, false, 1 or 0; any case). */
export function flag(env: Env, name: string, fallback: boolean): boolean {
  const value = read(env, name);
  if (value === undefined) return fallback;
  const parsed = parse(name, z.enum(['true', 'false', '1', '0'], 'must be true or false'), value.toLowerCase());
  return parsed === 'true' || parsed === '1';
}

/** A whole number within bounds. */
export function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const value = read(env, name);
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new ConfigError(`${name}: must be an integer from ${min} to ${max}`);
  return n;
}

/** Signing keys, comma-separated, each at least 32 characters; the first signs, every one verifies. */
export function keyList(env: Env, name: string): string[] | undefined {
  const value = read(env, name);
  if (!value) return undefined;
  return parse(
    name,
    z.array(z.string().min(32, 'each key must be at least 32 characters')).min(1),
    value.split(',').map((key) => key.trim()),
  );
}

/** Browser origins (http or https), comma-separated; `*` where `allowAny` says any origin may be allowed. */
export function origins(env: Env, name: string, { allowAny = false }: { allowAny?: boolean } = {}): string[] {
  return list(env, name).map((origin) =>
    allowAny && origin === '*' ? origin : new URL(parse(name, url(['http:', 'https:']), origin)).origin,
  );
}
