/** A Server-Sent Events client for tests: reads a stream as a browser's EventSource would, message by message. */
export interface SseMessage {
  id?: string;
  event: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  data: any;
}

export interface SseStream {
  status: number;
  messages: SseMessage[];
  /** Comment lines seen (heartbeats). */
  comments: number;
  /** Resolves with the first message (from the start of the stream) matching `test`. */
  next(test: (m: SseMessage) => boolean, timeoutMs?: number): Promise<SseMessage>;
  close(): void;
}

export async function openSse(url: string, headers: Record<string, string> = {}): Promise<SseStream> {
  const abort = new AbortController();
  const response = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: abort.signal });
  const messages: SseMessage[] = [];
  const waiters = new Set<() => void>();
  const stream: SseStream = {
    status: response.status,
    messages,
    comments: 0,
    async next(test, timeoutMs = 30_000) {
      for (;;) {
        const found = messages.find(test);
        if (found) return found;
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => {
            waiters.delete(wake);
            reject(
              new Error(
                `no matching event within ${timeoutMs} ms; got ${JSON.stringify(messages.map((m) => m.event))}`,
              ),
            );
          }, timeoutMs);
          const wake = () => {
            clearTimeout(timer);
            waiters.delete(wake);
            resolve();
          };
          waiters.add(wake);
        });
      }
    },
    close: () => abort.abort(),
  };
  if (response.status !== 200 || !response.body) {
    await response.text().catch(() => undefined);
    return stream;
  }
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  void (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const message: { id?: string; event: string; data: string[] } = { event: 'message', data: [] };
          let comment = false;
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) comment = true;
            else if (line.startsWith('id: ')) message.id = line.slice(4);
            else if (line.startsWith('event: ')) message.event = line.slice(7);
            else if (line.startsWith('data: ')) message.data.push(line.slice(6));
          }
          if (message.data.length > 0) {
            messages.push({ id: message.id, event: message.event, data: JSON.parse(message.data.join('\n')) });
          } else if (comment) stream.comments++;
          for (const wake of [...waiters]) wake();
        }
      }
    } catch {
      // Aborted.
    }
  })();
  return stream;
}
