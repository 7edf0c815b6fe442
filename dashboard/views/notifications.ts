/** The message log: search by user, event id, status, template, category and time range; keyset pages. */
import type { NotificationFilter, NotificationStatus, NotificationSummary } from '../../packages/client/src/types';
import { NOTIFICATION_STATUSES } from '../../contract/statuses';
import type { Ctx } from '../context';
import { badge, field, h, select, table, when } from '../dom';

export const STATUSES: readonly NotificationStatus[] = NOTIFICATION_STATUSES;
const TEXT_FILTERS = [
  ['userId', 'User id'],
  ['eventId', 'Event id'],
  ['template', 'Template'],
  ['category', 'Category'],
] as const;

/** The filter form; submitting it puts the filter in the URL, so a search can be shared and reloaded. */
export function filterForm(base: string, query: URLSearchParams, statuses = STATUSES): HTMLFormElement {
  const inputs = TEXT_FILTERS.map(([name, label]) =>
    field(label, h('input', { name, value: query.get(name) ?? '', autocomplete: 'off' })),
  );
  const status = select('status', [['', 'Any'], ...statuses.map((s): [string, string] => [s, s.replace(/_/g, ' ')])]);
  status.value = query.get('status') ?? '';
  const local = (iso: string | null) => (iso ? toLocalInput(new Date(iso)) : '');
  const from = h('input', { type: 'datetime-local', name: 'from', value: local(query.get('from')) });
  const to = h('input', { type: 'datetime-local', name: 'to', value: local(query.get('to')) });
  const form = h(
    'form',
    { class: 'filters card', role: 'search', 'aria-label': 'Search notifications' },
    ...inputs,
    field('Status', status),
    field('From', from),
    field('To', to),
    h('button', { type: 'submit' }, 'Search'),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const params = new URLSearchParams();
    for (const [key, value] of new FormData(form)) {
      if (typeof value !== 'string' || !value) continue;
      params.set(key, key === 'from' || key === 'to' ? new Date(value).toISOString() : value.trim());
    }
    location.hash = `#/${base}?${params}`;
  });
  return form;
}

export function toLocalInput(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

export function filterOf(query: URLSearchParams): NotificationFilter {
  const filter: NotificationFilter = { limit: 25 };
  for (const key of ['userId', 'eventId', 'template', 'category', 'from', 'to', 'cursor'] as const) {
    const value = query.get(key);
    if (value) filter[key] = value;
  }
  const status = query.get('status');
  if (status) filter.status = status.split(',') as NotificationStatus[];
  return filter;
}

export function notificationRows(items: NotificationSummary[]) {
  return items.map((n) => [
    h('a', { href: `#/notifications/${encodeURIComponent(n.id)}` }, h('code', {}, n.id)),
    n.userId,
    n.template,
    n.category ?? '—',
    badge(n.status),
    n.deliveries.map((d) => `${d.channel}: ${d.status}`).join(', ') || '—',
    when(n.createdAt),
  ]);
}
export const NOTIFICATION_HEAD = ['Id', 'User', 'Template', 'Category', 'Status', 'Channels', 'Created'];

export async function notificationsView(ctx: Ctx): Promise<HTMLElement> {
  const page = await ctx.api.listNotifications(filterOf(ctx.query));
  const pager = h('div', { class: 'row' });
  if (ctx.query.get('cursor')) {
    pager.append(h('button', { type: 'button', class: 'secondary', onclick: () => history.back() }, 'Previous page'));
  }
  if (page.nextCursor) {
    const next = new URLSearchParams(ctx.query);
    next.set('cursor', page.nextCursor);
    pager.append(h('a', { href: `#/notifications?${next}`, class: 'button' }, 'Next page'));
  }
  return h(
    'div',
    {},
    h('h1', {}, 'Notifications'),
    filterForm('notifications', ctx.query),
    h(
      'section',
      { class: 'card', 'aria-label': 'Results' },
      table('Newest first', NOTIFICATION_HEAD, notificationRows(page.notifications), 'No notification matches.'),
      pager,
    ),
  );
}
