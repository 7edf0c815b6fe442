/**
 * One notification's trace — "why didn't this user get it?": each channel's decision and its reason, every delivery,
 * the tracking timeline, its workflow in the Temporal Web UI, and the actions that apply to it now.
 */
import type { Notification } from '../../packages/client/src/types';
import type { Ctx } from '../context';
import { actionButton, badge, field, h, maskTarget, notify, section, table, when } from '../dom';
import { toLocalInput } from './notifications';

const SETTLED = ['delivered', 'partially_delivered', 'failed', 'suppressed', 'canceled'];

export async function notificationView(ctx: Ctx, id: string | undefined): Promise<HTMLElement> {
  if (!id) throw new Error('No notification id');
  const root = h('div', {});
  let shown = await ctx.api.getNotification(id);
  // After an action, follow it even from a settled state (a re-drive starts from `failed`).
  let watching = false;
  const follow: Follow = {
    refresh: async () => refresh(),
    watch: () => void (watching = true),
  };
  const render = () => root.replaceChildren(...trace(ctx, shown, follow));
  const refresh = async () => {
    const latest = await ctx.api.getNotification(id);
    if (latest.updatedAt !== shown.updatedAt || latest.deliveries.length !== shown.deliveries.length) {
      shown = latest;
      render();
    }
  };
  render();
  // Until it settles (and after an action), follow it as it changes.
  ctx.every(1500, async () => {
    if (!SETTLED.includes(shown.status) || watching) await refresh();
  });
  return root;
}

interface Follow {
  refresh(): Promise<void>;
  watch(): void;
}

/** A notification id from contract/ids notificationIdFor is `ntf_<digest>`; its workflow is `notification-<digest>`. */
const workflowIdOf = (id: string) => /^ntf_([0-9a-f]{40})$/.exec(id)?.[1];

function trace(ctx: Ctx, n: Notification, follow: Follow): HTMLElement[] {
  const digest = workflowIdOf(n.id);
  const temporal =
    ctx.session.temporalUiUrl && digest
      ? h(
          'a',
          {
            href: `${ctx.session.temporalUiUrl}/namespaces/${encodeURIComponent(ctx.session.namespace)}/workflows/notification-${digest}`,
            target: '_blank',
            rel: 'noopener noreferrer',
          },
          'Open its workflow in the Temporal Web UI',
        )
      : h('span', { class: 'muted' }, 'No Temporal Web UI configured (HERALD_TEMPORAL_UI_URL)');
  const facts = h(
    'dl',
    { class: 'facts' },
    ...fact('Status', badge(n.status)),
    ...fact('User', h('a', { href: `#/users/${encodeURIComponent(n.userId)}` }, n.userId)),
    ...fact(
      'Template',
      h('a', { href: `#/templates/${encodeURIComponent(n.template)}` }, `${n.template} v${n.templateVersion ?? '?'}`),
    ),
    ...fact('Category', n.category ?? '—'),
    ...fact('Event id', h('code', {}, n.eventId)),
    ...fact('Created', when(n.createdAt)),
    ...(n.sendAt ? fact('Send at', when(n.sendAt)) : []),
    ...(n.heldUntil ? fact('Held until', `${when(n.heldUntil)} (${n.holdReason ?? 'held'})`) : []),
    ...(n.error ? fact('Error', n.error) : []),
    ...fact('Workflow', temporal),
  );

  const channels = [...new Set(n.deliveries.map((d) => d.channel))];
  const decisions = channels.map((channel) => {
    const rows = n.deliveries.filter((d) => d.channel === channel);
    const skipped = rows.filter((d) => d.status === 'skipped');
    const decision = skipped.length === rows.length ? 'skipped' : 'sent';
    const reasons = [...new Set(skipped.map((d) => d.error ?? 'no reason recorded'))];
    return [channel, badge(decision), reasons.join('; ') || '—'];
  });
  const deliveries = n.deliveries
    .filter((d) => d.status !== 'skipped')
    .map((d) => [
      d.channel,
      d.provider,
      h('span', { class: 'mono' }, maskTarget(d.target)),
      badge(d.status),
      d.attempts,
      d.providerMessageId ? h('code', {}, d.providerMessageId) : '—',
      d.error ?? '—',
      when(d.at),
    ]);
  const timeline = n.events.length
    ? h(
        'ol',
        { class: 'timeline' },
        ...n.events.map((e) =>
          h('li', {}, `${when(e.at)} — ${e.type}${e.channel ? ` (${e.channel})` : ''} via ${e.source}`),
        ),
      )
    : h('p', { class: 'empty' }, 'No tracking events yet.');

  return [
    h('h1', {}, 'Notification ', h('code', {}, n.id)),
    section('Summary', facts, actions(ctx, n, follow)),
    section(
      'Channels',
      table('Each channel: what Herald decided and why', ['Channel', 'Decision', 'Reason'], decisions, 'No channel.'),
    ),
    section(
      'Deliveries',
      table(
        'Every delivery attempt',
        ['Channel', 'Provider', 'Target', 'Status', 'Attempts', 'Message id', 'Error', 'At'],
        deliveries,
        'Nothing was sent.',
      ),
    ),
    section('Tracking timeline', timeline),
  ];
}

const fact = (label: string, value: Node | string) => [h('dt', {}, label), h('dd', {}, value)];

function actions(ctx: Ctx, n: Notification, { refresh, watch }: Follow): HTMLElement {
  const box = h('div', { class: 'row', role: 'group', 'aria-label': 'Actions' });
  if (!ctx.can('notifications:send')) {
    box.append(h('p', { class: 'muted' }, 'This key can read but not act (needs notifications:send).'));
    return box;
  }
  if (n.status === 'failed' || n.status === 'partially_delivered') {
    box.append(
      actionButton('Re-drive failed deliveries', async () => {
        const started = await ctx.api.retryNotification(n.id);
        notify(`Re-drive ${started.redrive} started`);
        watch();
        await refresh();
      }),
    );
  }
  if (n.status === 'accepted' || n.status === 'scheduled') {
    box.append(
      actionButton(
        'Cancel',
        async () => {
          await ctx.api.cancelNotification(n.id);
          notify('Canceled');
          await refresh();
        },
        { class: 'danger' },
      ),
    );
  }
  if (n.status === 'scheduled' && n.sendAt) {
    const input = h('input', { type: 'datetime-local', value: toLocalInput(new Date(n.sendAt)) });
    box.append(
      field('Move to', input),
      actionButton(
        'Move',
        async () => {
          await ctx.api.rescheduleNotification(n.id, new Date(input.value).toISOString());
          notify('Moved');
          await refresh();
        },
        { class: 'secondary' },
      ),
    );
  }
  if (!box.childElementCount) box.append(h('p', { class: 'muted' }, 'No action applies in this state.'));
  return box;
}
