/**
 * A local SMTP server (smtp-server on 127.0.0.1, STARTTLS disabled: its built-in certificate has expired) that
 * records what arrives and can be scripted to refuse. Same shape as the HTTP fakes (see http-fake-server.ts):
 *
 *   const fake = new SmtpFake();                      // or new SmtpFake({ auth: { user, pass } }) to require AUTH
 *   const url = await fake.start();                   // smtp://[user:pass@]127.0.0.1:<port>  → SMTP_URL
 *   fake.enqueue({ stage: 'rcpt', code: 550 });       // the next RCPT TO is refused with 550 5.1.1 …
 *   fake.enqueue({ stage: 'data', code: 554, message: 'Rejected as spam' });
 *   fake.enqueue({ stage: 'auth', code: 535 }, { stage: 'rcpt', code: 451 });
 *   fake.enqueue({ stage: 'rcpt', code: 554, enhanced: '5.7.1', message: 'Relay access denied' });
 *   fake.messages[0]  // { envelope: { mailFrom, rcptTo }, user, raw, headers, subject, text, html }
 *   fake.reset();  await fake.stop();
 *
 * Scripts are consumed in order by the next command of their stage (`auth`, `mail`, `rcpt`, `data`); without one
 * every command succeeds (and, when `auth` is configured, AUTH checks the credentials and answers 535 if wrong).
 * Refusals read like Postfix's: `<code> <enhanced status> <text>`, with a typical enhanced code and text for the
 * code unless the script gives its own.
 * `messages` holds only the messages the fake accepted (250 after DATA). AUTH happens once per connection, so an
 * `auth` script only bites a client that opens a new connection (pooled clients reuse theirs).
 */
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import type { SMTPServerAddress, SMTPServerAuthentication, SMTPServerDataStream, SMTPServerSession } from 'smtp-server';

export type SmtpStage = 'auth' | 'mail' | 'rcpt' | 'data';

export interface SmtpScript {
  stage: SmtpStage;
  /** SMTP reply code, e.g. 535, 550, 554, 451, 421 (421 also closes the connection). */
  code: number;
  /** RFC 3463 enhanced status code put before the text, e.g. '5.7.1'; defaults to a typical one for the code. */
  enhanced?: string;
  /** Reply text; defaults to a typical one for the code. */
  message?: string;
}

const ENHANCED: Record<number, string> = {
  421: '4.4.2',
  450: '4.2.1',
  451: '4.3.0',
  452: '4.5.3',
  530: '5.7.0',
  535: '5.7.8',
  550: '5.1.1',
  552: '5.3.4',
  553: '5.7.1',
  554: '5.7.1',
};

export interface ReceivedMessage {
  envelope: { mailFrom: string; rcptTo: string[] };
  /** The authenticated user name, if the client logged in. */
  user?: string;
  /** The message exactly as it arrived after DATA (CRLF line ends, dot-unstuffed). */
  raw: string;
  /** Top-level headers: lower-case names, unfolded, RFC 2047 words decoded; the first of repeated ones. */
  headers: Record<string, string>;
  subject?: string;
  /** The decoded text/plain and text/html parts (first of each), without the final line break. */
  text?: string;
  html?: string;
}

function refusalError(stage: SmtpStage, script: SmtpScript, address?: string): Error {
  const enhanced = script.enhanced ?? ENHANCED[script.code] ?? `${Math.floor(script.code / 100)}.0.0`;
  const text = script.message ?? defaultText(stage, script.code, address);
  return Object.assign(new Error(`${enhanced} ${text}`), { responseCode: script.code });
}

function defaultText(stage: SmtpStage, code: number, address?: string): string {
  if (code === 535) return 'Authentication credentials invalid';
  if (code === 421) return 'Service not available, closing transmission channel';
  if (code >= 400 && code < 500)
    return stage === 'rcpt' ? 'Temporary lookup failure, try again later' : 'Try again later';
  if (stage === 'rcpt') return `<${address ?? ''}>: Recipient address rejected: User unknown in virtual mailbox table`;
  if (stage === 'mail') return `<${address ?? ''}>: Sender address rejected: not owned by user`;
  if (stage === 'data') return 'Message rejected due to content restrictions';
  return 'Requested action not taken';
}

export class SmtpFake {
  readonly messages: ReceivedMessage[] = [];
  private readonly scripts: SmtpScript[] = [];
  private server: SMTPServer | undefined;
  private listeningPort: number | undefined;

  constructor(private readonly options: { auth?: { user: string; pass: string } } = {}) {}

  get port(): number {
    if (this.listeningPort === undefined) throw new Error('fake not started');
    return this.listeningPort;
  }

  get url(): string {
    const auth = this.options.auth;
    const credentials = auth ? `${encodeURIComponent(auth.user)}:${encodeURIComponent(auth.pass)}@` : '';
    return `smtp://${credentials}127.0.0.1:${this.port}`;
  }

  async start(): Promise<string> {
    if (this.server) return this.url;
    const server = new SMTPServer({
      disabledCommands: ['STARTTLS'],
      authOptional: !this.options.auth,
      allowInsecureAuth: true, // no TLS on the fake, and AUTH must still work
      disableReverseLookup: true, // no DNS from tests
      logger: false,
      hideENHANCEDSTATUSCODES: true, // refusals carry their own (scriptable) enhanced codes, see refusalError()
      closeTimeout: 100, // stop() must not wait 30 s for clients that keep their connection open
      onAuth: (auth, session, callback) => this.onAuth(auth, session, callback),
      onMailFrom: (address, _session, callback) => callback(this.refusal('mail', address)),
      onRcptTo: (address, _session, callback) => callback(this.refusal('rcpt', address)),
      onData: (stream, session, callback) => this.onData(stream, session, callback),
    });
    server.on('error', () => undefined); // client resets are expected in failure tests
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    this.listeningPort = (server.server.address() as AddressInfo).port;
    return this.url;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    this.listeningPort = undefined;
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  enqueue(...scripts: SmtpScript[]): void {
    this.scripts.push(...scripts);
  }

  reset(): void {
    this.messages.length = 0;
    this.scripts.length = 0;
  }

  lastMessage(): ReceivedMessage {
    const last = this.messages[this.messages.length - 1];
    if (!last) throw new Error('no message reached the fake');
    return last;
  }

  private take(stage: SmtpStage): SmtpScript | undefined {
    const index = this.scripts.findIndex((s) => s.stage === stage);
    return index < 0 ? undefined : this.scripts.splice(index, 1)[0];
  }

  private refusal(stage: SmtpStage, address?: SMTPServerAddress): Error | null {
    const script = this.take(stage);
    return script ? refusalError(stage, script, address?.address) : null;
  }

  private onAuth(
    auth: SMTPServerAuthentication,
    _session: SMTPServerSession,
    callback: (err: Error | null | undefined, response?: { user: string }) => void,
  ): void {
    const refusal = this.refusal('auth');
    if (refusal) return callback(refusal);
    const expected = this.options.auth;
    if (expected && (auth.username !== expected.user || auth.password !== expected.pass)) {
      return callback(refusalError('auth', { stage: 'auth', code: 535 }));
    }
    callback(null, { user: auth.username ?? '' });
  }

  private onData(
    stream: SMTPServerDataStream,
    session: SMTPServerSession,
    callback: (err?: Error | null, message?: string) => void,
  ): void {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => {
      const refusal = this.refusal('data');
      if (refusal) return callback(refusal);
      const raw = Buffer.concat(chunks).toString('utf8');
      const user = (session.user as string | undefined) || undefined;
      this.messages.push({
        envelope: {
          mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          rcptTo: session.envelope.rcptTo.map((r) => r.address),
        },
        ...(user ? { user } : {}),
        raw,
        ...parseMessage(raw),
      });
      callback(null, 'Ok: queued');
    });
  }
}

/* A small MIME reader, enough for what nodemailer writes: multipart trees, 7bit/8bit/quoted-printable/base64, UTF-8. */

function parseMessage(raw: string): Pick<ReceivedMessage, 'headers' | 'subject' | 'text' | 'html'> {
  const found: { text?: string; html?: string } = {};
  const { headers } = walk(raw, found);
  return { headers, ...(headers.subject !== undefined ? { subject: headers.subject } : {}), ...found };
}

function walk(entity: string, found: { text?: string; html?: string }): { headers: Record<string, string> } {
  const split = entity.indexOf('\r\n\r\n');
  const head = split < 0 ? entity : entity.slice(0, split);
  const body = split < 0 ? '' : entity.slice(split + 4);
  const headers: Record<string, string> = {};
  for (const line of head.replace(/\r\n[ \t]+/g, ' ').split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (!(name in headers)) headers[name] = decodeWords(line.slice(colon + 1).trim());
  }
  const type = (headers['content-type'] ?? 'text/plain').toLowerCase();
  const boundary = /boundary="?([^";]+)"?/i.exec(headers['content-type'] ?? '')?.[1];
  if (type.startsWith('multipart/') && boundary) {
    const parts = body.split(`--${boundary}`).slice(1);
    for (const part of parts) {
      if (part.startsWith('--')) break;
      walk(part.replace(/^\r\n/, '').replace(/\r\n$/, ''), found);
    }
  } else {
    const content = decodeBody(body, headers['content-transfer-encoding']).replace(/\r\n$/, '');
    if (type.startsWith('text/plain') && found.text === undefined) found.text = content;
    if (type.startsWith('text/html') && found.html === undefined) found.html = content;
  }
  return { headers };
}

function decodeBody(body: string, encoding: string | undefined): string {
  switch ((encoding ?? '7bit').toLowerCase()) {
    case 'base64':
      return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
    case 'quoted-printable':
      return qp(body.replace(/=\r\n/g, ''));
    default:
      return body;
  }
}

function qp(text: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const hex = text[i] === '=' ? text.slice(i + 1, i + 3) : '';
    if (/^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(text[i] ?? '', 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

function decodeWords(value: string): string {
  return value
    .replace(/(=\?[^?]+\?[BbQq]\?[^?]*\?=)\s+(?==\?)/g, '$1')
    .replace(/=\?([^?]+)\?([BbQq])\?([^?]*)\?=/g, (_m, _charset: string, kind: string, text: string) =>
      kind.toUpperCase() === 'B' ? Buffer.from(text, 'base64').toString('utf8') : qp(text.replace(/_/g, ' ')),
    );
}
