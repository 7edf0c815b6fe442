import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadPlatformConfig as loadConfig } from '.';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-config-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const write = (name: string, content: string) => {
  const file = path.join(dir, name);
  fs.writeFileSync(file, content);
  return file;
};
const fails = (env: Record<string, string>, message: RegExp) => {
  expect(() => loadConfig(env)).toThrow(ConfigError);
  expect(() => loadConfig(env)).toThrow(message);
};

describe('templates and tracking configuration', () => {
  it('defaults: opens and clicks tracked, SMS links not, no layout, the secret left to Herald', () => {
    expect(loadConfig({}).tracking).toEqual({ opens: true, clicks: true, smsLinks: false });
  });

  it('reads the tracking secrets from the variable or its _FILE, the signing one first, and refuses a short one', () => {
    expect(loadConfig({ HERALD_TRACKING_SECRET: 'x'.repeat(32) }).tracking.secrets).toEqual(['x'.repeat(32)]);
    const file = write('secret', `${'n'.repeat(40)}, ${'o'.repeat(40)}\n`);
    expect(loadConfig({ HERALD_TRACKING_SECRET_FILE: file }).tracking.secrets).toEqual([
      'n'.repeat(40),
      'o'.repeat(40),
    ]);
    fails({ HERALD_TRACKING_SECRET: 'short' }, /^HERALD_TRACKING_SECRET: .*at least 32 characters/);
    fails({ HERALD_TRACKING_SECRET: `${'n'.repeat(40)},short` }, /^HERALD_TRACKING_SECRET: .*at least 32 characters/);
  });

  it('switches are true/false', () => {
    expect(loadConfig({ HERALD_TRACK_OPENS: 'false', HERALD_TRACK_SMS_LINKS: '1' }).tracking).toMatchObject({
      opens: false,
      smsLinks: true,
    });
    fails({ HERALD_TRACK_CLICKS: 'sometimes' }, /^HERALD_TRACK_CLICKS: must be true or false/);
  });

  it('takes SendGrid’s verification key as shown in its console (base64 DER) or as PEM, and only P-256', () => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const der = publicKey.export({ format: 'der', type: 'spki' }).toString('base64');
    const pem = publicKey.export({ format: 'pem', type: 'spki' }).toString();
    expect(loadConfig({ SENDGRID_WEBHOOK_PUBLIC_KEY: der }).tracking.sendgridWebhookPublicKey).toBe(pem);
    expect(loadConfig({ SENDGRID_WEBHOOK_PUBLIC_KEY: pem }).tracking.sendgridWebhookPublicKey).toBe(pem);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'pem', type: 'spki' });
    fails({ SENDGRID_WEBHOOK_PUBLIC_KEY: rsa.toString() }, /^SENDGRID_WEBHOOK_PUBLIC_KEY: not an ECDSA P-256/);
    fails({ SENDGRID_WEBHOOK_PUBLIC_KEY: 'bm90IGEga2V5' }, /^SENDGRID_WEBHOOK_PUBLIC_KEY/);
  });

  it('checks the email layout when it starts: readable, valid Liquid, writing {{ content }}', () => {
    const good = write('good.html', '<html><body>{{ content }}</body></html>');
    expect(loadConfig({ HERALD_EMAIL_LAYOUT_FILE: good }).tracking.emailLayout).toContain('{{ content }}');
    fails(
      { HERALD_EMAIL_LAYOUT_FILE: write('none.html', '<p>no body</p>') },
      /must write the body with \{\{ content \}\}/,
    );
    fails(
      { HERALD_EMAIL_LAYOUT_FILE: write('bad.html', '{{ content }}{% if x %}') },
      /^HERALD_EMAIL_LAYOUT_FILE: .*not closed/,
    );
    fails({ HERALD_EMAIL_LAYOUT_FILE: path.join(dir, 'missing.html') }, /^HERALD_EMAIL_LAYOUT_FILE: cannot read/);
    fails({ HERALD_UNSUBSCRIBE_MAILTO: 'not-an-address' }, /^HERALD_UNSUBSCRIBE_MAILTO: must be an email address/);
  });
});
