import type { PrismaClient } from '../../../generated/prisma/client';
import type {
  EmailProvider,
  EmailRequest,
  PushProvider,
  PushRequest,
  SendResult,
  SmsProvider,
  SmsRequest,
} from '../provider.types';

/**
 * Where a channel without provider credentials delivers: the message is stored (one row per delivery, so a retried
 * activity stores it once) and listed by GET /v1/outbox. `npm start` works with no accounts at all.
 */
export class OutboxProvider implements PushProvider, SmsProvider, EmailProvider {
  readonly id = 'outbox' as const;

  constructor(private readonly db: PrismaClient) {}

  send(request: PushRequest | SmsRequest | EmailRequest): Promise<SendResult> {
    if ('token' in request) {
      return this.store(request.idempotencyKey, 'push', `${request.platform}:${request.token.slice(0, 8)}…`, {
        ...request.message,
      });
    }
    if ('subject' in request) {
      const { to, subject, html, text, headers } = request;
      return this.store(request.idempotencyKey, 'email', to, { subject, html, text, headers });
    }
    return this.store(request.idempotencyKey, 'sms', request.to, { body: request.body });
  }

  private async store(deliveryId: string, channel: string, recipient: string, content: object): Promise<SendResult> {
    const row = await this.db.outboxMessage.upsert({
      where: { deliveryId },
      create: { id: `out_${deliveryId}`, deliveryId, channel, recipient, content: content as never },
      update: {},
    });
    return { providerMessageId: row.id };
  }
}
