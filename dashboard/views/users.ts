/** A user: contacts (masked), devices with their state, preferences, recent notifications, and erasure. */
import type { Ctx } from '../context';
import { actionButton, badge, field, h, maskEmail, maskPhone, notify, section, table, when } from '../dom';
import { NOTIFICATION_HEAD, notificationRows } from './notifications';

export async function usersView(ctx: Ctx, userId: string | undefined): Promise<HTMLElement> {
  const input = h('input', { name: 'userId', value: userId ?? '', required: true, autocomplete: 'off' });
  const form = h(
    'form',
    { class: 'filters card', role: 'search', 'aria-label': 'Find a user' },
    field('User id', input),
    h('button', { type: 'submit' }, 'Open'),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    location.hash = `#/users/${encodeURIComponent(input.value.trim())}`;
  });
  const page = h('div', {}, h('h1', {}, userId ? `User ${userId}` : 'Users'), form);
  if (!userId) return page;

  const [user, devices, preferences, recent] = await Promise.all([
    ctx.api.getUser(userId),
    ctx.api.listDevices(userId),
    ctx.api.getPreferences(userId),
    ctx.can('notifications:read') ? ctx.api.listNotifications({ userId, limit: 10 }) : undefined,
  ]);
  page.append(
    section(
      'Contacts',
      h(
        'dl',
        { class: 'facts' },
        h('dt', {}, 'Email'),
        h('dd', {}, user.email ? maskEmail(user.email) : '—'),
        h('dt', {}, 'Phone'),
        h('dd', {}, user.phone ? maskPhone(user.phone) : '—'),
        h('dt', {}, 'Locale'),
        h('dd', {}, user.locale ?? '—'),
        h('dt', {}, 'Time zone'),
        h('dd', {}, user.timezone ?? '—'),
      ),
    ),
    section(
      'Devices',
      table(
        'Registered devices',
        ['Id', 'Platform', 'Provider', 'State', 'Reason', 'Registered'],
        devices.map((d) => [
          h('code', {}, d.id),
          d.platform,
          d.provider,
          badge(d.active ? 'active' : 'inactive'),
          d.deactivationReason ?? '—',
          when(d.createdAt),
        ]),
        'No devices.',
      ),
    ),
    section('Preferences', preferencesView(preferences)),
  );
  if (recent) {
    page.append(
      section(
        'Recent notifications',
        table('Newest first', NOTIFICATION_HEAD, notificationRows(recent.notifications), 'None yet.'),
      ),
    );
  }
  if (ctx.can('users:write')) page.append(eraseSection(ctx, userId));
  return page;
}

function preferencesView(p: {
  channels: Record<string, boolean | undefined>;
  /** Per category: switches, and the user's digest choice (a string) where the category allows one. */
  categories: Record<string, Record<string, boolean | string | undefined>>;
  quietHours?: { start: string; end: string } | null;
}): HTMLElement {
  const onOff = (v: boolean | undefined) => (v === false ? 'off' : 'on');
  const channels = ['push', 'sms', 'email', 'inbox'].map((c) => `${c}: ${onOff(p.channels[c])}`).join(', ');
  const categories = Object.entries(p.categories).map(([name, c]) => [
    name,
    onOff(c.enabled === false ? false : undefined),
    ['push', 'sms', 'email', 'inbox'].map((ch) => `${ch}: ${onOff(c[ch] === false ? false : undefined)}`).join(', '),
  ]);
  return h(
    'div',
    {},
    h('p', {}, `Channels — ${channels}`),
    h('p', {}, `Quiet hours — ${p.quietHours ? `${p.quietHours.start} to ${p.quietHours.end}` : 'none'}`),
    table('Categories', ['Category', 'Enabled', 'Channels'], categories, 'No category settings.'),
  );
}

/** Erasure cannot be undone: the operator types the user id to confirm. */
function eraseSection(ctx: Ctx, userId: string): HTMLElement {
  const confirmInput = h('input', { name: 'confirm', autocomplete: 'off' });
  const dialog = h(
    'dialog',
    { 'aria-labelledby': 'erase-title' },
    h('h2', { id: 'erase-title' }, 'Erase this user?'),
    h('p', {}, 'Their devices, preferences and the personal data in their notifications are deleted for good.'),
    field(`Type ${userId} to confirm`, confirmInput),
  );
  const erase = actionButton(
    'Erase',
    async () => {
      if (confirmInput.value !== userId) throw new Error('The id typed does not match');
      const result = await ctx.api.deleteUser(userId);
      dialog.close();
      notify(`Erased ${userId} (${JSON.stringify(result)})`);
      location.hash = '#/users';
    },
    { class: 'danger' },
  );
  const cancel = h('button', { type: 'button', class: 'secondary', onclick: () => dialog.close() }, 'Keep');
  dialog.append(h('div', { class: 'row' }, erase, cancel));
  const open = h('button', { type: 'button', class: 'danger', onclick: () => dialog.showModal() }, 'Erase user…');
  return section('Erase', h('p', {}, 'Right to erasure: removes the user and their personal data.'), open, dialog);
}
