import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { inspect } from 'node:util';
import { formsIn, secretForms } from '../test/support/secret-forms';
import { AesGcmPayloadCodec } from '../contract/codec';
import { createLogger, registerSecrets } from './logger';
import { PinoTemporalLogger } from './temporal-runtime';

const leaked = (out: string, key: Buffer) => formsIn(out, key);

function capture(level = 'info') {
  const lines: string[] = [];
  const logger = createLogger(level, {
    destination: new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    }),
  });
  return { logger, text: () => lines.join('') };
}

describe('log redaction', () => {
  it('blanks registered secrets wherever they appear: messages, error stacks, nested fields, JSON-escaped PEM lines', () => {
    const pem = `-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n`;
    registerSecrets(['smtp://herald:hunter2-password@mail.example.com:587', 'hunter2-password', pem, 'short']);
    const { logger, text } = capture();
    logger.error({ err: new Error('connect failed for smtp://herald:hunter2-password@mail.example.com:587') }, 'smtp');
    logger.info({ config: { smtpUrl: 'smtp://herald:hunter2-password@mail.example.com:587' } }, 'config');
    logger.warn({ detail: { pem } }, 'key');
    logger.info('a short value is left alone: short');
    const out = text();
    expect(out).not.toContain('hunter2-password');
    expect(out).not.toContain('MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg');
    expect(out).toContain('[redacted]');
    expect(out).toContain('short');
  });

  it('blanks credential and contact fields by key, and contact details inside messages', () => {
    const { logger, text } = capture();
    logger.info({
      user: { email: 'ada@example.com', phone: '+14155550100' },
      req: { headers: { authorization: 'Bearer x' } },
    });
    logger.warn('SMTP RCPT TO failed: 550 <grace@example.org> unknown; SMS to +442071838750 refused');
    logger.info({ identity: '4242@worker-1.herald.internal' }, 'worker identity stays readable');
    const out = text();
    for (const value of ['ada@example.com', '+14155550100', 'Bearer x', 'grace@example.org', '+442071838750']) {
      expect(out).not.toContain(value);
    }
    expect(out).toContain('4242@worker-1.herald.internal');
  });
});

describe('keys held as bytes', () => {
  it('a registered key is blanked in every encoding: Buffer, byte list, base64, base64url, hex, inspect, in errors', () => {
    const key = randomBytes(32);
    registerSecrets([key]);
    const { logger, text } = capture('debug');
    const forms = secretForms(key);
    // What Herald would never log on purpose, but a library might, after copying or printing a Buffer.
    logger.debug({ options: { deep: { copied: JSON.parse(JSON.stringify({ key })) } } }, 'copied through JSON');
    logger.debug({ bytes: Array.from(key) }, 'as numbers');
    logger.debug({ inspected: inspect({ key }), inspectedBytes: inspect(new Uint8Array(key)) }, 'inspected');
    for (const [name, form] of Object.entries(forms)) logger.info({ name, text: `value=${form};` }, `as ${form}`);
    logger.error({ err: new Error(`bad key ${forms.hex} (${forms.base64url})`) }, 'failed');
    const out = text();
    expect(out.split('\n').length).toBeGreaterThan(10);
    expect(leaked(out, key)).toEqual([]);
    expect(out).toContain('[redacted]');
  });

  it('raw bytes and the payload codec never reach a line, even unregistered: the worker options the SDK logs at debug', () => {
    const key = randomBytes(32);
    const codec = new AesGcmPayloadCodec([{ id: 'k-unregistered', key }]);
    const { logger, text } = capture('debug');
    // The shape of the SDK's "Creating worker" line: the compiled options, with the data converter's codecs.
    logger.debug(
      { options: { taskQueue: 'herald', dataConverter: { payloadCodecs: [codec] }, tls: { key } } },
      'Creating worker',
    );
    logger.debug({ codec, raw: new Uint8Array(key) }, 'codec');
    logger.debug(`codec ${inspect(codec)}`);
    const out = text();
    expect(leaked(out, key)).toEqual([]);
    expect(out).toContain('k-unregistered');
    expect(out).toContain('[32 bytes]');
  });
});

describe("the Temporal SDK's log lines", () => {
  it('keeps warnings, but not the one about the per-channel activity-only workers having no workflows', () => {
    const { logger, text } = capture();
    const sdk = new PinoTemporalLogger(logger);
    sdk.warn('No workflows registered, not polling for workflow tasks', { taskQueue: 'herald-sms' });
    sdk.warn('Activity failed', { activityType: 'deliverSms', attempt: 3 });
    const lines = text()
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines).toEqual([
      expect.objectContaining({ level: 40, component: 'temporal', msg: 'Activity failed', activityType: 'deliverSms' }),
    ]);
  });

  it('while the embedded server is being restarted, the per-call retry warnings go to debug; otherwise they stay', () => {
    const { logger, text } = capture();
    const sdk = new PinoTemporalLogger(logger);
    const retried = (n: number) =>
      sdk.warn(`gRPC call poll_activity_task_queue retried ${n} times`, { error: 'tcp connect error' });
    sdk.outage = 'restarting';
    for (let n = 1; n <= 20; n++) retried(n);
    sdk.warn('Activity failed', { activityType: 'deliverSms' });
    sdk.outage = undefined;
    retried(21);
    const messages = text()
      .trim()
      .split('\n')
      .map((line) => (JSON.parse(line) as { msg: string }).msg);
    expect(messages).toEqual(['Activity failed', 'gRPC call poll_activity_task_queue retried 21 times']);
  });
});
