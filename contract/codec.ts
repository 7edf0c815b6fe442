/**
 * Encryption of everything Herald hands to Temporal: workflow and activity inputs and results, and (with the failure
 * converter below) failure messages and stack traces. Temporal stores only ciphertext; the API's codec endpoint lets
 * operators read payloads in the Web UI and the CLI.
 *
 * Format of an encrypted payload: metadata `encoding: binary/encrypted`, `encryption-key-id: <id>`; data is
 * `version (1) | salt (16) | iv (12) | AES-256-GCM ciphertext | tag (16)` of the whole original Payload protobuf.
 * Payloads are encrypted under keys derived per salt, HKDF-SHA256(master key, salt): with one master key shared by every
 * process, random 96-bit IVs would otherwise cap a key's safe use at 2^32 encryptions (NIST SP 800-38D), which Herald
 * reaches in weeks at 16M notifications a day. A process draws a fresh salt every SALT_USES encryptions, so each
 * derived key sees at most 2^20 random IVs (collision odds below 2^-57) and HKDF runs once per million payloads
 * instead of once per payload; decryption keeps the few derived keys it meets (one or two per live process).
 */
import { createCipheriv, createDecipheriv, createSecretKey, hkdfSync, randomBytes, type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { METADATA_ENCODING_KEY, type DataConverter, type Payload, type PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { failureConverter } from './failure-converter';

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';
const FORMAT_VERSION = 1;
const SALT_BYTES = 16;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const HEADER_BYTES = 1 + SALT_BYTES + IV_BYTES;
const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;
/** Encryptions under one derived key before a new salt is drawn. */
const SALT_USES = 2 ** 20;
/** Derived keys kept for decryption: each live process encrypts under one salt at a time. */
const DECRYPT_CACHE = 256;

export interface EncryptionKey {
  id: string;
  /** 32 bytes. */
  key: Buffer;
}

export class CodecError extends Error {
  override readonly name = 'CodecError';
}

/** `id:base64key` entries separated by commas or new lines; the first one encrypts, every one decrypts. */
export function parseEncryptionKeys(text: string): EncryptionKey[] {
  const entries = text
    .split(/[\s,]+/)
    .map((entry) => entry.trim())
    .filter(Boolean);
  if (entries.length === 0) throw new CodecError('no keys given (expected id:base64key[,id:base64key...])');
  const keys: EncryptionKey[] = [];
  for (const [index, entry] of entries.entries()) {
    const colon = entry.indexOf(':');
    const id = colon > 0 ? entry.slice(0, colon) : '';
    // Never echo the entry: it holds key material.
    if (!KEY_ID.test(id)) {
      throw new CodecError(`entry ${index + 1}: expected id:base64key with an id of letters, digits, . _ - (≤ 64)`);
    }
    const material = entry.slice(colon + 1);
    const key = /^[A-Za-z0-9+/_-]+={0,2}$/.test(material) ? Buffer.from(material, 'base64') : Buffer.alloc(0);
    if (key.length !== 32)
      throw new CodecError(`key "${id}": must be 32 bytes, base64-encoded (openssl rand -base64 32)`);
    if (keys.some((k) => k.id === id)) throw new CodecError(`key "${id}": listed twice`);
    keys.push({ id, key });
  }
  return keys;
}

export function formatEncryptionKeys(keys: EncryptionKey[]): string {
  return keys.map((k) => `${k.id}:${k.key.toString('base64')}`).join(',');
}

export function generateEncryptionKey(
  id = `k${new Date().toISOString().slice(0, 10).replace(/-/g, '')}`,
): EncryptionKey {
  return { id, key: randomBytes(32) };
}

/**
 * The embedded default's key: generated once under the data folder (mode 0600) so histories are encrypted from the
 * first run and stay readable after a restart.
 */
export function embeddedEncryptionKeys(dataDir: string): { keys: EncryptionKey[]; generated: boolean } {
  const file = path.join(dataDir, 'encryption-keys');
  if (fs.existsSync(file)) return { keys: parseEncryptionKeys(fs.readFileSync(file, 'utf8')), generated: false };
  const keys = [generateEncryptionKey('embedded-1')];
  fs.mkdirSync(dataDir, { recursive: true });
  fs.writeFileSync(file, `${formatEncryptionKeys(keys)}\n`, { mode: 0o600 });
  return { keys, generated: true };
}

function subkey(master: Buffer, salt: Buffer, keyId: string): KeyObject {
  return createSecretKey(Buffer.from(hkdfSync('sha256', master, salt, `herald payload v1 ${keyId}`, 32)));
}

/** AES-256-GCM payload codec: encrypts with the first key, decrypts with whichever key the payload names. */
export class AesGcmPayloadCodec implements PayloadCodec {
  // Private fields, not properties: the SDK logs a worker's options (this codec among them) at debug level, and
  // whatever serialises or inspects the codec must find no key material to print.
  readonly #byId: Map<string, Buffer>;
  readonly #current: EncryptionKey;
  #encrypting: { salt: Buffer; key: KeyObject; uses: number } | undefined;
  /** `keyId:salt` → derived key, oldest first (a Map keeps insertion order). */
  readonly #derived = new Map<string, KeyObject>();

  readonly #saltUses: number;

  constructor(keys: EncryptionKey[], options: { saltUses?: number } = {}) {
    if (keys.length === 0) throw new CodecError('at least one encryption key is required');
    this.#saltUses = options.saltUses ?? SALT_USES;
    this.#current = keys[0]!;
    this.#byId = new Map(keys.map((k) => [k.id, k.key]));
  }

  get keyIds(): string[] {
    return [...this.#byId.keys()];
  }

  /** What a log line or JSON.stringify shows of the codec: the key ids, never the keys. */
  toJSON(): { codec: string; keyIds: string[] } {
    return { codec: 'AES-256-GCM', keyIds: this.keyIds };
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `AesGcmPayloadCodec { keyIds: ${JSON.stringify(this.keyIds)} }`;
  }

  /** A secret for another purpose (the codec endpoint's browser sessions), derived from the current key. */
  deriveSecret(purpose: string): Buffer {
    return Buffer.from(hkdfSync('sha256', this.#current.key, Buffer.alloc(0), `herald ${purpose}`, 32));
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.encryptOne(payload));
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.decryptOne(payload));
  }

  encryptOne(payload: Payload): Payload {
    const { id, key } = this.#current;
    const plaintext = temporal.api.common.v1.Payload.encode(payload).finish();
    if (!this.#encrypting || this.#encrypting.uses >= this.#saltUses) {
      const salt = randomBytes(SALT_BYTES);
      this.#encrypting = { salt, key: subkey(key, salt, id), uses: 0 };
    }
    this.#encrypting.uses++;
    const { salt } = this.#encrypting;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#encrypting.key, iv);
    cipher.setAAD(Buffer.from(id));
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return {
      metadata: {
        [METADATA_ENCODING_KEY]: Buffer.from(ENCRYPTED_ENCODING),
        [KEY_ID_METADATA]: Buffer.from(id),
      },
      data: Buffer.concat([Buffer.from([FORMAT_VERSION]), salt, iv, ciphertext, cipher.getAuthTag()]),
    };
  }

  decryptOne(payload: Payload): Payload {
    const encoding = payload.metadata?.[METADATA_ENCODING_KEY];
    if (!encoding || Buffer.from(encoding).toString() !== ENCRYPTED_ENCODING) return payload;
    const rawId = payload.metadata?.[KEY_ID_METADATA];
    const id = rawId ? Buffer.from(rawId).toString() : '';
    const key = this.#byId.get(id);
    if (!key) throw new CodecError(`payload is encrypted with key "${id}", which is not configured`);
    const data = Buffer.from(payload.data ?? new Uint8Array());
    if (data.length < HEADER_BYTES + TAG_BYTES || data[0] !== FORMAT_VERSION) {
      throw new CodecError('encrypted payload is malformed');
    }
    const salt = data.subarray(1, 1 + SALT_BYTES);
    const iv = data.subarray(1 + SALT_BYTES, HEADER_BYTES);
    const decipher = createDecipheriv('aes-256-gcm', this.derivedKey(key, salt, id), iv);
    decipher.setAAD(Buffer.from(id));
    decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
    let plaintext: Buffer;
    try {
      plaintext = Buffer.concat([
        decipher.update(data.subarray(HEADER_BYTES, data.length - TAG_BYTES)),
        decipher.final(),
      ]);
    } catch {
      throw new CodecError(`payload failed authentication with key "${id}"`);
    }
    return temporal.api.common.v1.Payload.decode(plaintext) as Payload;
  }

  private derivedKey(master: Buffer, salt: Buffer, id: string): KeyObject {
    const name = `${id}:${salt.toString('hex')}`;
    let key = this.#derived.get(name);
    if (key) return key;
    key = subkey(master, salt, id);
    if (this.#derived.size >= DECRYPT_CACHE) this.#derived.delete(this.#derived.keys().next().value!);
    this.#derived.set(name, key);
    return key;
  }
}

/**
 * The data converter of every Herald client and worker: payloads through the codec, and failure messages and stack
 * traces moved into an encoded payload (DefaultFailureConverter's `encodeCommonAttributes`) so they are encrypted too.
 * Workers load the failure converter from a module, because it also runs inside the workflow sandbox.
 */
export function heraldDataConverter(codec: PayloadCodec | undefined): DataConverter {
  if (!codec) return {};
  return { payloadCodecs: [codec], failureConverterPath: require.resolve('./failure-converter') };
}

/** The same, for a Client (which takes a failure converter instance rather than a path). */
export function heraldClientDataConverter(codec: PayloadCodec | undefined) {
  if (!codec) return {};
  return { payloadCodecs: [codec], failureConverter };
}
