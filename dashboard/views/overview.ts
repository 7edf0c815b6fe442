/** Volume and failures per channel over time, the rates, queue backlog and provider health for a chosen range. */
import uPlot from 'uplot';
import type { StatsSeries } from '../../contract/schemas/insights.schemas';
import type { Ctx } from '../context';
import { field, h, percent, section, select, table } from '../dom';
import { CHANNELS } from '../../contract/channels';

const RANGES: Record<string, { hours: number; bucket: 'hour' | 'day'; label: string }> = {
  '24h': { hours: 24, bucket: 'hour', label: 'Last 24 hours' },
  '7d': { hours: 24 * 7, bucket: 'hour', label: 'Last 7 days' },
  '30d': { hours: 24 * 30, bucket: 'day', label: 'Last 30 days' },
};
const COLORS: Record<string, string> = { push: '#0b57d0', sms: '#146c2e', email: '#8e24aa', inbox: '#b3261e' };

export async function overviewView(ctx: Ctx): Promise<HTMLElement> {
  const rangeKey = ctx.query.get('range') ?? '24h';
  const range = RANGES[rangeKey] ?? RANGES['24h']!;
  const bucketMs = range.bucket === 'hour' ? 3_600_000 : 86_400_000;
  const to = new Date(Math.ceil(Date.now() / bucketMs) * bucketMs);
  const from = new Date(to.getTime() - range.hours * 3_600_000);
  const query = { from: from.toISOString(), to: to.toISOString() };

  const [stats, series] = await Promise.all([ctx.api.stats(query), ctx.api.series({ ...query, bucket: range.bucket })]);

  const picker = select(
    'range',
    Object.entries(RANGES).map(([key, r]) => [key, r.label]),
    rangeKey,
  );
  picker.addEventListener('change', () => (location.hash = `#/overview?range=${picker.value}`));

  const t = stats.totals;
  const tiles = h(
    'div',
    { class: 'grid' },
    tile('Sent', String(t.sent)),
    tile('Delivered', String(t.delivered)),
    tile('Failed', String(t.failed)),
    tile('Delivery rate', percent(t.rates.delivery)),
    tile('Failure rate', percent(t.rates.failure)),
    tile('Open rate', percent(t.rates.open)),
    tile('Click rate', percent(t.rates.click)),
  );

  const width = Math.max(320, Math.min(560, (document.getElementById('main')?.clientWidth ?? 1100) / 2 - 110));
  const charts = h(
    'div',
    { class: 'two' },
    chart('Volume per channel (sent)', series, 'sent', from, to, bucketMs, width),
    chart('Failures per channel', series, 'failed', from, to, bucketMs, width),
  );

  const page = h(
    'div',
    {},
    h('h1', {}, 'Overview'),
    h('div', { class: 'row' }, field('Range', picker)),
    h('br'),
    tiles,
  );
  page.append(h('br'), section('Over time', charts));
  page.append(await operations(ctx));
  return page;
}

function tile(label: string, value: string): HTMLElement {
  return h('div', { class: 'tile' }, h('span', { class: 'value' }, value), h('span', { class: 'label' }, label));
}

function chart(
  title: string,
  series: StatsSeries,
  measure: 'sent' | 'failed',
  from: Date,
  to: Date,
  bucketMs: number,
  width: number,
): HTMLElement {
  const xs: number[] = [];
  for (let at = from.getTime(); at < to.getTime(); at += bucketMs) xs.push(at / 1000);
  const index = new Map(xs.map((x, i) => [x, i]));
  const ys = CHANNELS.map(() => xs.map(() => 0));
  for (const point of series.points) {
    const i = index.get(Date.parse(point.at) / 1000);
    const c = CHANNELS.indexOf(point.channel as (typeof CHANNELS)[number]);
    if (i !== undefined && c >= 0) ys[c]![i] = point[measure];
  }
  const total = ys.flat().reduce((a, b) => a + b, 0);
  const figure = h('figure', { class: 'chart', 'aria-label': `${title}: ${total} in the range` });
  figure.append(h('figcaption', {}, h('h3', {}, title)));
  new uPlot(
    {
      width,
      height: 220,
      series: [{}, ...CHANNELS.map((name) => ({ label: name, stroke: COLORS[name], width: 2 }))],
      axes: [{}, { label: measure }],
      scales: { y: { range: (_u: uPlot, _min: number, max: number) => [0, Math.max(1, max)] } },
    },
    [xs, ...ys],
    figure,
  );
  return figure;
}

/** Queue backlog and provider health are operations data: admin keys only. */
async function operations(ctx: Ctx): Promise<HTMLElement> {
  if (!ctx.can('admin')) return section('Queues and providers', h('p', { class: 'muted' }, 'Needs an admin key.'));
  const [queues, providers] = await Promise.all([ctx.api.queues().catch((error: Error) => error), ctx.api.providers()]);
  const queueTable =
    queues instanceof Error
      ? h('p', { class: 'error' }, `Queue backlog unavailable: ${queues.message}`)
      : table(
          'Task queue backlog',
          ['Queue', 'Type', 'Backlog', 'Oldest (s)', 'Pollers'],
          queues.taskQueues.map((q) => [
            q.taskQueue,
            q.type,
            q.backlogCount,
            q.backlogAgeSeconds.toFixed(0),
            q.pollers,
          ]),
        );
  const providerTable = table(
    `Provider health, last ${providers.windowMinutes} minutes`,
    ['Provider', 'Calls', 'Failures', 'Failure rate'],
    providers.providers.map((p) => [p.provider, p.calls, p.failures, percent(p.failureRate)]),
    'No provider calls in the last minutes.',
  );
  return section('Queues and providers', h('div', { class: 'two' }, queueTable, providerTable));
}
