/**
 * Tracking and unsubscribe links: short tokens naming a delivery (and a link's index in it), signed with an HMAC so a
 * token cannot be made up or altered. A token carries no URL: the redirect target is read from the delivery Herald
 * recorded, so a forged or tampered link can only be refused, never turned into a redirect somewhere else.
 *
 *   click        /t/<deliveryId>.<index>.<mac>
 *   open pixel   /o/<deliveryId>.<mac>.gif
 *   unsubscribe  /u/<deliveryId>.<mac>
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export type TokenPurpose = 'click' | 'open' | 'unsubscribe';

/** 96 bits: far beyond online guessing, and short enough that a link stays short. */
const MAC_BYTES = 12;
const MAC_CHARS = Math.ceil((MAC_BYTES * 4) / 3);
const DELIVERY_ID = /^[A-Za-z0-9_-]{1,64}$/;
const INDEX = /^[0-9a-z]{1,3}$/;
const MAC = new RegExp(`^[A-Za-z0-9_-]{${MAC_CHARS}}$`);

export class TrackingSigner {
  private readonly keys: Buffer[];

  /** The first key signs; every key verifies (the others are the ones being rotated out). */
  constructor(keys: Buffer | Buffer[]) {
    this.keys = Array.isArray(keys) ? keys : [keys];
    if (this.keys.length === 0) throw new Error('no tracking key');
    if (this.keys.some((key) => key.length < 16)) throw new Error('tracking key is too short');
  }

  private mac(key: Buffer, purpose: TokenPurpose, deliveryId: string, index = ''): Buffer {
    return createHmac('sha256', key)
      .update(`herald/v1/${purpose}/${deliveryId}/${index}`)
      .digest()
      .subarray(0, MAC_BYTES);
  }

  private sign(purpose: TokenPurpose, deliveryId: string, index?: string): string {
    if (!DELIVERY_ID.test(deliveryId)) throw new Error('not a delivery id');
    return this.mac(this.keys[0]!, purpose, deliveryId, index).toString('base64url');
  }

  private check(purpose: TokenPurpose, deliveryId: string, index: string | undefined, mac: string): boolean {
    if (!DELIVERY_ID.test(deliveryId) || !MAC.test(mac)) return false;
    const given = Buffer.from(mac, 'base64url');
    if (given.length !== MAC_BYTES) return false;
    // Every key is tried, so the time taken does not say which one matched.
    let valid = false;
    for (const key of this.keys) {
      if (timingSafeEqual(given, this.mac(key, purpose, deliveryId, index))) valid = true;
    }
    return valid;
  }

  clickToken(deliveryId: string, index: number): string {
    const i = index.toString(36);
    return `${deliveryId}.${i}.${this.sign('click', deliveryId, i)}`;
  }

  openToken(deliveryId: string): string {
    return `${deliveryId}.${this.sign('open', deliveryId)}`;
  }

  unsubscribeToken(deliveryId: string): string {
    return `${deliveryId}.${this.sign('unsubscribe', deliveryId)}`;
  }

  verifyClick(token: string): { deliveryId: string; index: number } | undefined {
    const [deliveryId, index, mac, ...rest] = token.split('.');
    if (rest.length > 0 || !deliveryId || !index || !mac || !INDEX.test(index)) return undefined;
    return this.check('click', deliveryId, index, mac) ? { deliveryId, index: parseInt(index, 36) } : undefined;
  }

  verifyOpen(token: string): { deliveryId: string } | undefined {
    return this.verifyPlain('open', token);
  }

  verifyUnsubscribe(token: string): { deliveryId: string } | undefined {
    return this.verifyPlain('unsubscribe', token);
  }

  private verifyPlain(purpose: TokenPurpose, token: string): { deliveryId: string } | undefined {
    const [deliveryId, mac, ...rest] = token.split('.');
    if (rest.length > 0 || !deliveryId || !mac) return undefined;
    return this.check(purpose, deliveryId, undefined, mac) ? { deliveryId } : undefined;
  }
}

/** Absolute URLs on Herald's public base URL. */
export class TrackingUrls {
  constructor(
    readonly publicUrl: string,
    readonly signer: TrackingSigner,
  ) {}

  click(deliveryId: string, index: number): string {
    return `${this.publicUrl}/t/${this.signer.clickToken(deliveryId, index)}`;
  }

  open(deliveryId: string): string {
    return `${this.publicUrl}/o/${this.signer.openToken(deliveryId)}.gif`;
  }

  unsubscribe(deliveryId: string): string {
    return `${this.publicUrl}/u/${this.signer.unsubscribeToken(deliveryId)}`;
  }

  isUnsubscribeUrl(url: string): boolean {
    return url.startsWith(`${this.publicUrl}/u/`);
  }
}
