import { Writable } from 'node:stream';
import { createLogger, registerSecrets } from './logger';
import { PinoTemporalLogger } from './temporal-runtime';

function capture() {
  const lines: string[] = [];
  const logger = createLogger('info', {
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
});
