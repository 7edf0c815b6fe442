/** Campaigns with live progress, the failed queue with bulk re-drive, and API keys (prefixes only, never secrets). */
import type { NotificationStatus } from '../../packages/client/src/types';
import type { Ctx } from '../context';
import { actionButton, badge, h, notify, section, table, when } from '../dom';
import { filterForm, filterOf, NOTIFICATION_HEAD, notificationRows } from './notifications';

export async function campaignsView(ctx: Ctx): Promise<HTMLElement> {
  const body = h('div', {});
  const render = async () => {
    const { campaigns } = await ctx.api.listCampaigns();
    const runs = await Promise.all(campaigns.map((c) => ctx.api.latestRun(c.id)));
    body.replaceChildren(
      table(
        'Newest first; progress of the latest run, refreshed every few seconds',
        ['Campaign', 'Template', 'Status', 'Latest run', 'Progress', 'Action'],
        campaigns.map((c, i) => {
          const run = runs[i];
          const progress = run
            ? h(
                'div',
                {},
                h('progress', { max: 100, value: run.percentComplete, 'aria-label': `${c.name} progress` }),
                ` ${run.percentComplete.toFixed(0)}% — ${run.delivered} delivered, ${run.failed} failed of ${run.audienceSize}`,
              )
            : h('span', { class: 'muted' }, 'no run yet');
          const toggle = !ctx.can('notifications:send')
            ? null
            : c.status === 'active'
              ? actionButton('Pause', async () => (await ctx.api.pauseCampaign(c.id), render()), {
                  class: 'secondary',
                  'aria-label': `Pause ${c.name}`,
                })
              : c.status === 'paused'
                ? actionButton('Resume', async () => (await ctx.api.resumeCampaign(c.id), render()), {
                    'aria-label': `Resume ${c.name}`,
                  })
                : null;
          return [c.name, c.template, badge(c.status), run ? badge(run.status) : '—', progress, toggle];
        }),
        'No campaigns.',
      ),
    );
  };
  await render();
  ctx.every(3000, render);
  return h('div', {}, h('h1', {}, 'Campaigns'), section('Campaigns', body));
}

const FAILED: NotificationStatus[] = ['failed', 'partially_delivered'];

export async function failedView(ctx: Ctx): Promise<HTMLElement> {
  const filter = filterOf(ctx.query);
  const wanted = filter.status ? [filter.status].flat().filter((s) => FAILED.includes(s)) : FAILED;
  const page = await ctx.api.listNotifications({ ...filter, status: wanted.length ? wanted : FAILED, limit: 50 });
  const boxes = page.notifications.map((n) =>
    h('input', { type: 'checkbox', value: n.id, 'aria-label': `Select ${n.id}` }),
  );
  const rows = notificationRows(page.notifications).map((cells, i) => [boxes[i]!, ...cells]);
  const actions = h('div', { class: 'row' });
  if (ctx.can('notifications:send') && page.notifications.length) {
    actions.append(
      actionButton('Re-drive selected', async () => {
        const ids = boxes.filter((b) => b.checked).map((b) => b.value);
        if (!ids.length) throw new Error('Select at least one notification');
        const result = await ctx.api.retryNotifications({ ids });
        notify(`Re-driven: ${result.redriven.length}; skipped: ${result.skipped.length}`);
      }),
      actionButton(
        'Re-drive all shown',
        async () => {
          const result = await ctx.api.retryNotifications({ ids: page.notifications.map((n) => n.id) });
          notify(`Re-driven: ${result.redriven.length}; skipped: ${result.skipped.length}`);
        },
        { class: 'secondary' },
      ),
    );
  }
  return h(
    'div',
    {},
    h('h1', {}, 'Failed queue'),
    filterForm('failed', ctx.query, FAILED),
    section(
      'Failed and partially delivered',
      table('Newest first', ['Select', ...NOTIFICATION_HEAD], rows, 'Nothing failed. 🎉'),
      actions,
    ),
  );
}

export async function keysView(ctx: Ctx): Promise<HTMLElement> {
  const keys = await ctx.api.apiKeys();
  return h(
    'div',
    {},
    h('h1', {}, 'API keys'),
    section(
      'Keys',
      h(
        'p',
        { class: 'muted' },
        'Secrets are never shown: Herald keeps only their SHA-256 and a prefix to recognise them.',
      ),
      table(
        'Newest first',
        ['Name', 'Prefix', 'Scopes', 'Rate limit', 'Created', 'Last used', 'State', 'Action'],
        keys.map((k) => [
          k.name,
          h('code', {}, `${k.prefix}…`),
          k.scopes.join(', '),
          k.rateLimitPerMinute ? `${k.rateLimitPerMinute}/min` : '—',
          when(k.createdAt),
          when(k.lastUsedAt),
          badge(k.revokedAt ? 'revoked' : 'active'),
          k.revokedAt || k.id === ctx.session.keyId
            ? null
            : actionButton(
                'Revoke',
                async () => {
                  if (!window.confirm(`Revoke the key "${k.name}" for good?`)) return;
                  await ctx.api.revokeApiKey(k.id);
                  notify(`Revoked ${k.name}`);
                  location.reload();
                },
                { class: 'danger', 'aria-label': `Revoke ${k.name}` },
              ),
        ]),
        'No keys besides the bootstrap key.',
      ),
    ),
  );
}
