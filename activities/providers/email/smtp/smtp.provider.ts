import { createHash } from 'node:crypto';
import nodemailer from 'nodemailer';
import type { NodemailerError, SMTPPoolOptions, SMTPPoolSentMessageInfo, Transporter } from 'nodemailer';
import type { EmailProvider, EmailRequest, FailureKind, SendResult } from '../../provider.types';
import { ProviderError } from '../../provider.types';
import { networkErrorCode } from '../../transport-errors';
import type { SmtpConfig } from './smtp.config';
import { redact } from '../../../../platform/redact';

export interface SmtpEmailProviderOptions extends SmtpConfig {
  tls?: { rejectUnauthorized?: boolean; caPem?: string };
  /** Connect, greeting and socket-inactivity timeout; defaults to 30 s (nodemailer's connect default is 2 min). */
  timeoutMs?: number;
}

/** Codes of failures to reach or talk to the server at all, before it judged the message. */
const CONNECTION_CODES = new Set(['ECONNECTION', 'ESOCKET', 'ETIMEDOUT', 'EDNS', 'EPROTOCOL', 'EMAXLIMIT']);

export class SmtpEmailProvider implements EmailProvider {
  readonly id = 'smtp' as const;
  private readonly transport: Transporter<SMTPPoolSentMessageInfo, SMTPPoolOptions>;
  private readonly messageIdDomain: string;

  constructor(options: SmtpEmailProviderOptions) {
    const timeout = options.timeoutMs ?? 30_000;
    this.transport = nodemailer.createTransport(
      {
        pool: true,
        url: options.url,
        // nodemailer resends a message when a *reused* pooled connection fails before a byte of it was sent (the
        // server dropped an idle connection, or said 421), and when a connection closes before the greeting. Worth
        // keeping for those races, but bounded and quick: a server that keeps refusing is the retry policy's
        // business, with its backoff and its record of attempts.
        maxRequeues: 2,
        connectionTimeout: timeout,
        greetingTimeout: timeout,
        socketTimeout: timeout,
        tls: {
          rejectUnauthorized: options.tls?.rejectUnauthorized ?? true,
          ...(options.tls?.caPem ? { ca: options.tls.caPem } : {}),
        },
      },
      { from: options.from },
    );
    this.messageIdDomain = /@([^\s@<>]+)>?\s*$/.exec(options.from)?.[1] ?? 'herald';
  }

  async send(request: EmailRequest): Promise<SendResult> {
    let info: SMTPPoolSentMessageInfo;
    try {
      info = await this.transport.sendMail({
        to: request.to,
        subject: request.subject,
        ...(request.text !== undefined ? { text: request.text } : {}),
        ...(request.html !== undefined ? { html: request.html } : {}),
        ...(request.headers ? { headers: request.headers } : {}),
        // Provider calls are at-least-once: a worker can die after the server took the message and before Temporal
        // recorded it, and the retry submits it again. A Message-ID stable per delivery makes that a duplicate that
        // mailbox providers (Gmail, for one, shows a repeated Message-ID once) and operators can recognise, and
        // lets bounces quoting the Message-ID find their delivery.
        messageId: this.messageIdFor(request.idempotencyKey),
      });
    } catch (err) {
      throw toProviderError(err, request.to);
    }
    // With several recipients the server may take the message for some and refuse others; ours is the only one.
    if (info.rejected.length > 0) {
      const rejection = info.rejectedErrors?.[0];
      throw toProviderError(
        rejection ?? Object.assign(new Error('Recipient rejected'), { code: 'EENVELOPE' }),
        request.to,
      );
    }
    return { providerMessageId: info.messageId };
  }

  async close(): Promise<void> {
    this.transport.close();
  }

  private messageIdFor(key: string): string {
    // id-left must be a dot-atom (RFC 5322); anything else is hashed so the id stays stable and valid.
    const dotAtom = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
    const left =
      dotAtom.test(key) && key.length <= 100 ? key : createHash('sha256').update(key).digest('hex').slice(0, 40);
    return `<herald.${left}@${this.messageIdDomain}>`;
  }
}

function toProviderError(err: unknown, to: string): unknown {
  const e = err as NodemailerError;
  const code = typeof e?.code === 'string' ? e.code : undefined;
  if (!code) return err;
  const reply = e.responseCode;
  const kind = classify(code, e.command, reply, e.message, e.response);
  if (!kind) return err;
  // A refused connection arrives as ESOCKET with the system's code kept aside: report the more telling one.
  const reported = CONNECTION_CODES.has(code) ? (networkErrorCode({ code: e.originalCode }) ?? code) : code;
  const message = redact(`SMTP ${e.command ? `${e.command} ` : ''}failed (${reported}): ${e.message}`, {
    values: [to],
  });
  return new ProviderError(kind, reported, message, reply ? { status: reply } : {});
}

function classify(
  code: string,
  command: string | undefined,
  reply: number | undefined,
  message: string,
  response: string | undefined,
): FailureKind | undefined {
  // 4xx replies mean "not now" whatever the stage (421 closing, 450 mailbox busy, 451 local error, 452 storage).
  if (reply !== undefined && reply >= 400 && reply < 500) return 'transient';
  switch (code) {
    case 'EENVELOPE':
      // A refused sender is our configuration; a refused recipient (or one nodemailer found malformed) is the target.
      if (command === 'MAIL FROM' || command === 'DATA' || /^Invalid sender/.test(message)) return 'permanent_request';
      // ...unless the refusal is about us, not the mailbox: 530 or enhanced X.7.X security/policy ("5.7.1 Relay
      // access denied", a blocklisted IP), X.5.X protocol, X.3.X system. Flagging the contact for those would be wrong.
      if (reply === 530 || [3, 5, 7].includes(enhancedSubject(response) ?? 0)) return 'permanent_request';
      return 'permanent_target';
    case 'EMESSAGE': // 5xx after DATA (554 spam/policy, 552 size) or a message nodemailer could not build
    case 'EAUTH':
    case 'ENOAUTH':
    case 'ETLS': // certificate or TLS setup: a configuration problem to fix, not to retry
    case 'EREQUIRETLS':
    case 'ECONFIG':
      return 'permanent_request';
    default:
      if (CONNECTION_CODES.has(code) || networkErrorCode({ code })) return 'transient';
      return reply !== undefined && reply >= 500 ? 'permanent_request' : undefined;
  }
}

/** The subject digit of an RFC 3463 enhanced status code in a reply: "550 5.7.1 Relay access denied" → 7. */
function enhancedSubject(response: string | undefined): number | undefined {
  const match = /^\d{3}[ -][245]\.(\d{1,3})\.\d{1,3}\b/.exec(response ?? '');
  return match ? Number(match[1]) : undefined;
}

/** Servers quote addresses in their replies ("550 5.1.1 <ada@example.com>: unknown"); our records must not. */
