/**
 * What a digest's template sees: `count`, `events` (the first and last `listed`, oldest first, each with its `data`
 * and `at`), `omitted` (how many are not listed) and `distinct.<field>` (the distinct values of each top-level field
 * of the events' data, and of each nested path the digest names, over every event, in order of first appearance). The last event's own data stays at the top
 * level too, so a template written for single events still renders.
 */
export interface DigestSourceEvent {
  id: string;
  data: Record<string, unknown>;
  at: number;
}

export interface DigestData extends Record<string, unknown> {
  count: number;
  events: { id: string; data: Record<string, unknown>; at: string }[];
  omitted: number;
  distinct: Record<string, unknown[]>;
}

/** The most distinct values kept per field: enough for "Ana, Bo and 300 others", bounded for the payload. */
const MAX_DISTINCT = 1_000;

function valueAt(data: Record<string, unknown>, path: string): unknown {
  let value: unknown = data;
  for (const key of path.split('.')) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

export function digestData(events: DigestSourceEvent[], listed: number, distinctFields: string[]): DigestData {
  const shown = events.length <= listed * 2 ? events : [...events.slice(0, listed), ...events.slice(-listed)];
  // Every top-level field of the events' data, and each nested path the digest names: `distinct.actor`,
  // `distinct["actor.name"]`. A template names the field it wants; nothing has to be declared for a top-level one.
  const fields = new Set(distinctFields);
  for (const event of events) for (const key of Object.keys(event.data)) fields.add(key);
  const distinct: Record<string, unknown[]> = {};
  for (const field of fields) {
    const seen = new Set<string>();
    const values: unknown[] = [];
    for (const event of events) {
      const value = valueAt(event.data, field);
      if (value === undefined || value === null || values.length >= MAX_DISTINCT) continue;
      const key = JSON.stringify(value);
      if (seen.has(key)) continue;
      seen.add(key);
      values.push(value);
    }
    distinct[field] = values;
  }
  return {
    ...(events[events.length - 1]?.data ?? {}),
    count: events.length,
    events: shown.map((e) => ({ id: e.id, data: e.data, at: new Date(e.at).toISOString() })),
    omitted: events.length - shown.length,
    distinct,
  };
}

/** A sample batch for template previews: the preview's data as three events a minute apart. */
export function sampleDigestData(data: Record<string, unknown>, count: number, distinctFields: string[]): DigestData {
  const base = Date.UTC(2026, 0, 1, 9, 0, 0);
  const events = Array.from({ length: count }, (_, i) => ({ id: `ntf_sample_${i + 1}`, data, at: base + i * 60_000 }));
  return digestData(events, 10, distinctFields);
}
