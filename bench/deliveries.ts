/**
 * What the provider fakes received, counted per message as it arrives: the benchmark's end-to-end clock and its
 * duplicate detector. Every benchmark message carries a unique marker `BK<key>KB` in its text (the template renders
 * it), so a message is recognised in whatever shape the provider SDK sends it, and a marker arriving twice at the
 * same provider is a duplicate send.
 */
import { startProviderFakes, type ProviderFakes } from '../test/support/provider-fakes';

const MARKER = /BK([A-Za-z0-9]+)KB/g;

type Provider = 'apns' | 'fcm' | 'twilio' | 'sendgrid';

interface Waiter {
  expected: number;
  resolve: () => void;
}

export interface DeliveryCounter {
  /** Environment pointing Herald's five providers at the fakes (SendGrid for email). */
  env: Record<string, string>;
  /** Resolves when `expected` distinct providers have accepted the message with this key. */
  waitFor(key: string, expected: number): Promise<void>;
  /** Stop waiting for a key (timed out): its later arrival is still counted. */
  forget(key: string): void;
  /** Messages accepted more than once by the same provider, since the start. */
  duplicates(): number;
  /** Messages accepted, since the start. */
  accepted(): number;
  /** Forget the fakes' request logs (they grow with every message), keeping the counts. */
  trim(): void;
  stop(): Promise<void>;
}

/** Calls `onItem` for each element pushed to the array from now on (the fakes keep plain arrays, not emitters). */
function tap<T>(array: T[], onItem: (item: T) => void): void {
  const push = array.push.bind(array);
  array.push = (...items: T[]) => {
    const length = push(...items);
    for (const item of items) onItem(item);
    return length;
  };
}

export async function startDeliveryCounter(): Promise<DeliveryCounter> {
  const fakes: ProviderFakes = await startProviderFakes();
  const seen = new Map<string, number>(); // `${provider}:${key}` → times accepted
  const providersPerKey = new Map<string, number>();
  const waiters = new Map<string, Waiter>();
  let duplicates = 0;
  let accepted = 0;

  const record = (provider: Provider, message: unknown) => {
    const text = typeof message === 'string' ? message : JSON.stringify(message);
    const keys = new Set([...text.matchAll(MARKER)].map((m) => m[1]!));
    for (const key of keys) {
      accepted++;
      const id = `${provider}:${key}`;
      const times = (seen.get(id) ?? 0) + 1;
      seen.set(id, times);
      if (times > 1) {
        duplicates++;
        continue;
      }
      const providers = (providersPerKey.get(key) ?? 0) + 1;
      providersPerKey.set(key, providers);
      const waiter = waiters.get(key);
      if (waiter && providers >= waiter.expected) {
        waiters.delete(key);
        waiter.resolve();
      }
    }
  };
  // Only what the provider accepted counts: a rejected attempt that Herald retries is not a duplicate.
  tap(
    fakes.apns.requests,
    (r) => r.response && 'status' in r.response && r.response.status === 200 && record('apns', r.body),
  );
  tap(fakes.fcm.requests, (r) => {
    if (r.kind === 'send' && 'status' in r.response && r.response.status === 200) record('fcm', r.body);
  });
  tap(fakes.twilio.sent, (m) => record('twilio', m.body));
  tap(fakes.sendgrid.sent, (m) => record('sendgrid', m.body));

  return {
    env: fakes.env,
    waitFor(key, expected) {
      if ((providersPerKey.get(key) ?? 0) >= expected) return Promise.resolve();
      return new Promise((resolve) => waiters.set(key, { expected, resolve }));
    },
    forget(key) {
      waiters.delete(key);
    },
    duplicates: () => duplicates,
    accepted: () => accepted,
    trim() {
      for (const fake of [fakes.apns, fakes.fcm, fakes.twilio, fakes.sendgrid]) {
        fake.requests.length = 0;
      }
      fakes.twilio.sent.length = 0;
      fakes.sendgrid.sent.length = 0;
    },
    stop: () => fakes.stop(),
  };
}
