/**
 * "Something changed in this user's feed": the wake-up call of every open stream. What changed is never carried
 * here — streams read it from `inbox_events` after the last sequence number they sent — so a wake-up that is lost,
 * doubled or late cannot make a stream skip or repeat anything (and a periodic re-read bounds how late it can be).
 *
 * In one process (the embedded default: API and worker together) writers wake streams directly. On PostgreSQL every
 * write also runs `pg_notify('herald_inbox', <user id>)` in its transaction, and each API process LISTENs on one
 * connection of its own, opened while it has streams open: several API processes need nothing but the database.
 */
import { EventEmitter } from 'node:events';
import pg from 'pg';
import { parsePostgresUrl } from '../../prisma/adapters';

export const INBOX_CHANNEL = 'herald_inbox';

export class InboxBus {
  private readonly emitter = new EventEmitter();
  private listeners = 0;
  private listener?: PgListener;

  constructor(private readonly databaseUrl?: string) {
    this.emitter.setMaxListeners(0);
  }

  /** Wakes this process's streams of `userId`. */
  publish(userId: string): void {
    this.emitter.emit(userId);
  }

  subscribe(userId: string, wake: () => void): () => void {
    this.emitter.on(userId, wake);
    if (this.listeners++ === 0 && this.databaseUrl) {
      this.listener = new PgListener(this.databaseUrl, (id) => this.publish(id));
    }
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.emitter.off(userId, wake);
      if (--this.listeners === 0) {
        this.listener?.close();
        this.listener = undefined;
      }
    };
  }
}

/** One LISTEN connection, reconnected after a second when it drops, closed with the last stream. */
class PgListener {
  private client?: pg.Client;
  private closed = false;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly url: string,
    private readonly onNotify: (userId: string) => void,
  ) {
    this.connect();
  }

  private connect() {
    if (this.closed) return;
    const client = new pg.Client(parsePostgresUrl(this.url));
    this.client = client;
    const retry = () => {
      client.removeAllListeners('notification');
      client.end().catch(() => undefined);
      if (this.closed || this.client !== client) return;
      this.client = undefined;
      this.timer = setTimeout(() => this.connect(), 1_000);
    };
    client.on('error', retry);
    client.on('end', retry);
    client.on('notification', (message) => {
      if (message.channel === INBOX_CHANNEL && message.payload) this.onNotify(message.payload);
    });
    client
      .connect()
      .then(() => client.query(`LISTEN ${INBOX_CHANNEL}`))
      .catch(retry);
  }

  close() {
    this.closed = true;
    clearTimeout(this.timer);
    const client = this.client;
    this.client = undefined;
    client?.end().catch(() => undefined);
  }
}

/** The embedded default's bus: writers and streams share the process. */
const processBuses = new Map<string, InboxBus>();
export function inboxBus(databaseUrl?: string): InboxBus {
  const key = databaseUrl ?? '';
  let bus = processBuses.get(key);
  if (!bus) processBuses.set(key, (bus = new InboxBus(databaseUrl)));
  return bus;
}

/** Wakes every bus of this process (the writer does not know which database URL a stream's bus was made with). */
export function wakeLocalStreams(userId: string): void {
  for (const bus of processBuses.values()) bus.publish(userId);
}
