import { randomBytes } from 'node:crypto';
import { TrackingSigner, TrackingUrls } from './tokens';

const signer = new TrackingSigner(randomBytes(32));
const deliveryId = 'dlv_Ab3xZ9q8Rt1Lm0Pq';

describe('tracking tokens', () => {
  it('a click token verifies to its delivery and link index, and stays short', () => {
    const token = signer.clickToken(deliveryId, 12);
    expect(signer.verifyClick(token)).toEqual({ deliveryId, index: 12 });
    expect(token.length).toBeLessThanOrEqual(40);
    const urls = new TrackingUrls('https://h.example', signer);
    expect(urls.click(deliveryId, 0)).toMatch(/^https:\/\/h\.example\/t\/dlv_Ab3xZ9q8Rt1Lm0Pq\.0\.[A-Za-z0-9_-]{16}$/);
    expect(urls.open(deliveryId)).toMatch(/^https:\/\/h\.example\/o\/dlv_Ab3xZ9q8Rt1Lm0Pq\.[A-Za-z0-9_-]{16}\.gif$/);
  });

  it('refuses a changed delivery, a changed index, a changed MAC, another purpose and another key', () => {
    const token = signer.clickToken(deliveryId, 3);
    const [id, index, mac] = token.split('.') as [string, string, string];
    expect(signer.verifyClick(`dlv_Ab3xZ9q8Rt1Lm0Pr.${index}.${mac}`)).toBeUndefined();
    expect(signer.verifyClick(`${id}.4.${mac}`)).toBeUndefined();
    const flipped = mac.slice(0, -1) + (mac.endsWith('A') ? 'B' : 'A');
    expect(signer.verifyClick(`${id}.${index}.${flipped}`)).toBeUndefined();
    expect(signer.verifyClick(`${id}.${index}.${mac}.x`)).toBeUndefined();
    expect(signer.verifyClick(`${id}.${index}`)).toBeUndefined();
    expect(signer.verifyOpen(`${id}.${mac}`)).toBeUndefined();
    expect(signer.verifyUnsubscribe(signer.openToken(deliveryId))).toBeUndefined();
    expect(new TrackingSigner(randomBytes(32)).verifyClick(token)).toBeUndefined();
    expect(signer.verifyUnsubscribe(signer.unsubscribeToken(deliveryId))).toEqual({ deliveryId });
  });

  it('signs with the first key and verifies with every key, so a key can be rotated out without breaking links', () => {
    const oldKey = randomBytes(32);
    const newKey = randomBytes(32);
    const before = new TrackingSigner(oldKey);
    const during = new TrackingSigner([newKey, oldKey]);
    const after = new TrackingSigner(newKey);
    const sentBefore = before.clickToken(deliveryId, 1);
    const sentDuring = during.clickToken(deliveryId, 1);

    expect(during.verifyClick(sentBefore)).toEqual({ deliveryId, index: 1 });
    expect(sentDuring).not.toBe(sentBefore);
    expect(after.verifyClick(sentDuring)).toEqual({ deliveryId, index: 1 });
    expect(after.verifyClick(sentBefore)).toBeUndefined();
    expect(during.verifyUnsubscribe(before.unsubscribeToken(deliveryId))).toEqual({ deliveryId });
    expect(new TrackingSigner([randomBytes(32), randomBytes(32)]).verifyClick(sentBefore)).toBeUndefined();
  });
});
