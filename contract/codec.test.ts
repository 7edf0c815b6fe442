import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import {
  AesGcmPayloadCodec,
  CodecError,
  ENCRYPTED_ENCODING,
  formatEncryptionKeys,
  generateEncryptionKey,
  KEY_ID_METADATA,
  parseEncryptionKeys,
} from './codec';
import { ConfigError, loadPlatformConfig as loadConfig } from '../platform/config';

const text = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? new Uint8Array()).toString();
const original = defaultPayloadConverter.toPayload({ email: 'ada@example.com', phone: '+14155550100' });

describe('AES-256-GCM payload codec', () => {
  const current = generateEncryptionKey('k2');
  const previous = generateEncryptionKey('k1');

  it('encrypts a payload whole, names the key in the metadata, and decrypts it back', async () => {
    const codec = new AesGcmPayloadCodec([current, previous]);
    const [encrypted] = await codec.encode([original]);
    expect(text(encrypted!.metadata!.encoding)).toBe(ENCRYPTED_ENCODING);
    expect(text(encrypted!.metadata![KEY_ID_METADATA])).toBe('k2');
    expect(Object.keys(encrypted!.metadata!).sort()).toEqual(['encoding', KEY_ID_METADATA].sort());
    expect(text(encrypted!.data)).not.toContain('ada@example.com');
    expect(text(encrypted!.data)).not.toContain('json/plain');
    const [decrypted] = await codec.decode([encrypted!]);
    expect(defaultPayloadConverter.fromPayload(decrypted!)).toEqual({
      email: 'ada@example.com',
      phone: '+14155550100',
    });
    expect(text(decrypted!.metadata!.encoding)).toBe('json/plain');
  });

  it('never produces the same ciphertext twice for the same payload', async () => {
    const codec = new AesGcmPayloadCodec([current]);
    const [a, b] = await codec.encode([original, original]);
    expect(Buffer.compare(Buffer.from(a!.data!), Buffer.from(b!.data!))).not.toBe(0);
  });

  it('derives a payload key per salt, draws a new salt after its quota, and any process decrypts every salt', async () => {
    const salt = (p: Payload) => Buffer.from(p.data!).subarray(1, 17).toString('hex');
    const iv = (p: Payload) => Buffer.from(p.data!).subarray(17, 29).toString('hex');
    const api = new AesGcmPayloadCodec([current], { saltUses: 3 });
    const encrypted = await api.encode(Array.from({ length: 7 }, () => original));
    // Three payloads per salt, then a fresh one; IVs are never reused.
    expect(encrypted.map(salt).map((s) => encrypted.map(salt).indexOf(s))).toEqual([0, 0, 0, 3, 3, 3, 6]);
    expect(new Set(encrypted.map(iv)).size).toBe(7);
    // Another process (another codec, same keys) reads them all, in any order, and a tampered salt is refused.
    const worker = new AesGcmPayloadCodec([current]);
    const decrypted = await worker.decode([...encrypted].reverse());
    for (const p of decrypted)
      expect(defaultPayloadConverter.fromPayload(p)).toEqual(defaultPayloadConverter.fromPayload(original));
    const forged = Buffer.from(encrypted[0]!.data!);
    forged.writeUInt8(forged.readUInt8(1) ^ 1, 1);
    await expect(worker.decode([{ ...encrypted[0]!, data: forged }])).rejects.toThrow(CodecError);
  });

  it('rotation: encrypts with the first key, still decrypts what older keys encrypted', async () => {
    const before = new AesGcmPayloadCodec([previous]);
    const after = new AesGcmPayloadCodec([current, previous]);
    const [old] = await before.encode([original]);
    const [fresh] = await after.encode([original]);
    expect(text(fresh!.metadata![KEY_ID_METADATA])).toBe('k2');
    expect(defaultPayloadConverter.fromPayload((await after.decode([old!]))[0]!)).toEqual(
      defaultPayloadConverter.fromPayload(original),
    );
    // A process that no longer has k1 says which key is missing.
    await expect(new AesGcmPayloadCodec([current]).decode([old!])).rejects.toThrow(/"k1", which is not configured/);
  });

  it('refuses a tampered payload, and one whose key id was swapped', async () => {
    const codec = new AesGcmPayloadCodec([current, previous]);
    const [encrypted] = await codec.encode([original]);
    const tampered = Buffer.from(encrypted!.data!);
    tampered[tampered.length - 20]! ^= 1;
    await expect(codec.decode([{ ...encrypted!, data: tampered }])).rejects.toThrow(CodecError);
    const swapped: Payload = {
      ...encrypted!,
      metadata: { ...encrypted!.metadata, [KEY_ID_METADATA]: Buffer.from('k1') },
    };
    await expect(codec.decode([swapped])).rejects.toThrow(/failed authentication/);
  });

  it('passes payloads that are not encrypted through unchanged (histories from before encryption)', async () => {
    const codec = new AesGcmPayloadCodec([current]);
    expect(await codec.decode([original])).toEqual([original]);
  });
});

describe('HERALD_ENCRYPTION_KEYS', () => {
  const k1 = generateEncryptionKey('k1');
  const k2 = generateEncryptionKey('k2');

  it('reads id:base64key entries separated by commas or new lines, first one first', () => {
    const keys = parseEncryptionKeys(`${formatEncryptionKeys([k2])}\n${formatEncryptionKeys([k1])}\n`);
    expect(keys.map((k) => k.id)).toEqual(['k2', 'k1']);
    expect(keys[0]!.key.equals(k2.key)).toBe(true);
  });

  it('is validated at start-up with a message naming the variable and never the key', () => {
    const secret = 'c2hvcnQ=';
    let message = '';
    try {
      loadConfig({ HERALD_ENCRYPTION_KEYS: `k1:${secret}` });
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      message = (error as Error).message;
    }
    expect(message).toMatch(/^HERALD_ENCRYPTION_KEYS: key "k1": must be 32 bytes/);
    expect(message).not.toContain(secret);
    expect(() => loadConfig({ HERALD_ENCRYPTION_KEYS: formatEncryptionKeys([k1, k1]) })).toThrow(/listed twice/);
    expect(() => loadConfig({ HERALD_ENCRYPTION_KEYS: 'no-colon-here' })).toThrow(/expected id:base64key/);
  });

  it('can come from a file (HERALD_ENCRYPTION_KEYS_FILE), as a Docker or Kubernetes secret', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'herald-keys-')), 'keys');
    fs.writeFileSync(file, `${formatEncryptionKeys([k1, k2])}\n`);
    const config = loadConfig({ HERALD_ENCRYPTION_KEYS_FILE: file });
    expect(config.encryptionKeys?.map((k) => k.id)).toEqual(['k1', 'k2']);
    fs.rmSync(path.dirname(file), { recursive: true });
  });
});
