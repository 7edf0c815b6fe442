import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApnsFake, generateApnsKey } from '../fakes/apns.fake';
import { FcmFake, generateServiceAccount } from '../fakes/fcm.fake';
import { SendgridFake } from '../fakes/sendgrid.fake';
import { SmtpFake } from '../fakes/smtp.fake';
import { TwilioFake } from '../fakes/twilio.fake';

export interface ProviderFakes {
  apns: ApnsFake;
  fcm: FcmFake;
  twilio: TwilioFake;
  sendgrid: SendgridFake;
  smtp: SmtpFake;
  /** CONTRACT environment variables pointing every provider at its fake (SendGrid as the email provider). */
  env: Record<string, string>;
  /** The same, with SMTP instead of SendGrid. */
  smtpEnv: Record<string, string>;
  stop(): Promise<void>;
}

export const APNS_TOPIC = 'com.example.herald';
export const TWILIO_FROM = '+15005550006';

/** All five providers behind local fakes, with key files written to a temp folder as an operator would. */
export async function startProviderFakes(): Promise<ProviderFakes> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-fakes-'));
  const apnsKey = generateApnsKey();
  const apns = new ApnsFake({ keyId: 'KEYID12345', teamId: 'TEAMID1234', publicKeyPem: apnsKey.publicKeyPem });
  const account = generateServiceAccount('herald-test');
  const fcm = new FcmFake({
    projectId: 'herald-test',
    clientEmail: account.credentials.client_email,
    publicKeyPem: account.publicKeyPem,
  });
  const twilio = new TwilioFake();
  const sendgrid = new SendgridFake();
  const smtp = new SmtpFake({ auth: { user: 'herald', pass: 'smtp-secret' } });
  const [apnsUrl, fcmUrl, twilioUrl, sendgridUrl] = await Promise.all([
    apns.start(),
    fcm.start(),
    twilio.start(),
    sendgrid.start(),
    smtp.start(),
  ]);

  const write = (name: string, content: string) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, content, { mode: 0o600 });
    return file;
  };
  const common = {
    APNS_KEY_FILE: write('AuthKey.p8', apnsKey.keyPem),
    APNS_KEY_ID: 'KEYID12345',
    APNS_TEAM_ID: 'TEAMID1234',
    APNS_TOPIC,
    APNS_ENDPOINT: apnsUrl,
    APNS_CA_FILE: write('apns-ca.pem', apns.caPem),
    FCM_CREDENTIALS_FILE: write('fcm.json', JSON.stringify(account.credentials)),
    FCM_PROJECT_ID: 'herald-test',
    FCM_ENDPOINT: fcmUrl,
    TWILIO_ACCOUNT_SID: twilio.accountSid,
    TWILIO_AUTH_TOKEN: twilio.authToken,
    TWILIO_FROM,
    TWILIO_ENDPOINT: twilioUrl,
  };
  return {
    apns,
    fcm,
    twilio,
    sendgrid,
    smtp,
    env: {
      ...common,
      SENDGRID_API_KEY: sendgrid.apiKey,
      SENDGRID_FROM: 'Herald <no-reply@herald.test>',
      SENDGRID_ENDPOINT: sendgridUrl,
    },
    smtpEnv: { ...common, SMTP_URL: smtp.url, SMTP_FROM: 'Herald <no-reply@herald.test>' },
    async stop() {
      await Promise.all([apns.stop(), fcm.stop(), twilio.stop(), sendgrid.stop(), smtp.stop()]);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
