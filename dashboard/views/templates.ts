/**
 * The template editor: each channel and locale, a live preview of the unsaved draft (SMS encoding and segments, push
 * payload size, missing variables), version history, and a test send to a chosen user.
 */
import { NotFoundError } from '../../packages/client/src/errors';
import type { TemplateInput, TemplatePreview } from '../../packages/client/src/types';
import type { Ctx } from '../context';
import { actionButton, field, h, notify, section, select, table, when } from '../dom';

type Channels = TemplateInput['channels'];
const FIELDS = [
  ['push', 'title', 'Push title'],
  ['push', 'body', 'Push body'],
  ['sms', 'body', 'SMS body'],
  ['email', 'subject', 'Email subject'],
  ['email', 'text', 'Email text'],
  ['email', 'html', 'Email HTML'],
] as const;

export async function templatesView(ctx: Ctx, templateId: string | undefined): Promise<HTMLElement> {
  const idInput = h('input', { name: 'templateId', value: templateId ?? '', required: true, autocomplete: 'off' });
  const open = h(
    'form',
    { class: 'filters card', role: 'search', 'aria-label': 'Open a template' },
    field('Template id', idInput),
    h('button', { type: 'submit' }, 'Open'),
  );
  open.addEventListener('submit', (event) => {
    event.preventDefault();
    location.hash = `#/templates/${encodeURIComponent(idInput.value.trim())}`;
  });
  const page = h('div', {}, h('h1', {}, templateId ? `Template ${templateId}` : 'Templates'), open);
  if (!templateId) return page;

  const stored = await ctx.api.getTemplate(templateId).catch((error: unknown) => {
    if (error instanceof NotFoundError) return undefined;
    throw error;
  });
  let content: TemplateInput = stored
    ? { channels: stored.channels, ...(stored.locales ? { locales: stored.locales } : {}) }
    : { channels: { sms: { body: 'Hello {{ user.name }}' } } };
  let locale = '';

  const inputs = FIELDS.map(([channel, key, label]) => {
    const area = h('textarea', { name: `${channel}.${key}`, rows: key === 'html' ? 4 : 2, spellcheck: 'false' });
    return { channel, key, label, area };
  });
  const localeSelect = select('locale', []);
  const newLocale = h('input', { name: 'newLocale', placeholder: 'e.g. fr', size: 6, autocomplete: 'off' });
  const sample = h('textarea', { name: 'data', rows: 3, spellcheck: 'false' }, '{"name": "Ada", "order": "42"}');
  const previewBox = h('div', { 'aria-live': 'polite', id: 'preview' });

  const channelsOf = (): Channels => (locale ? content.locales?.[locale] : content.channels) ?? {};
  const fill = () => {
    const channels = channelsOf() as Record<string, Record<string, string | undefined> | undefined>;
    for (const { channel, key, area } of inputs) area.value = channels[channel]?.[key] ?? '';
    localeSelect.replaceChildren(
      h('option', { value: '' }, 'default'),
      ...Object.keys(content.locales ?? {}).map((l) => h('option', { value: l }, l)),
    );
    localeSelect.value = locale;
  };
  /** The fields back into the draft: a channel with every field empty is left out. */
  const collect = () => {
    const channels: Record<string, Record<string, string>> = {};
    for (const { channel, key, area } of inputs) {
      if (area.value === '') continue;
      (channels[channel] ??= {})[key] = area.value;
    }
    if (locale) content = { ...content, locales: { ...content.locales, [locale]: channels as Channels } };
    else content = { ...content, channels: channels as Channels };
  };

  let timer: number | undefined;
  let asked = 0;
  const preview = () => {
    clearTimeout(timer);
    timer = window.setTimeout(async () => {
      const mine = ++asked;
      try {
        const data = JSON.parse(sample.value || '{}') as Record<string, unknown>;
        const result = await ctx.api.previewTemplate(templateId, {
          draft: content,
          data,
          ...(locale ? { locale } : {}),
        });
        if (mine === asked) previewBox.replaceChildren(renderPreview(result));
      } catch (error) {
        if (mine === asked) previewBox.replaceChildren(h('p', { class: 'error' }, (error as Error).message));
      }
    }, 250);
  };
  for (const { area } of inputs) area.addEventListener('input', () => (collect(), preview()));
  sample.addEventListener('input', preview);
  localeSelect.addEventListener('change', () => {
    collect();
    locale = localeSelect.value;
    fill();
    preview();
  });
  const addLocale = h('button', { type: 'button', class: 'secondary' }, 'Add locale');
  addLocale.addEventListener('click', () => {
    const tag = newLocale.value.trim();
    if (!/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/.test(tag))
      return notify('A locale is a BCP 47 tag, e.g. fr or pt-BR', 'error');
    collect();
    content = { ...content, locales: { ...content.locales, [tag]: channelsOf() } };
    locale = tag;
    newLocale.value = '';
    fill();
    preview();
  });

  const versions = h('div', {});
  const loadVersions = async () => {
    if (!stored && !versions.childElementCount)
      return versions.replaceChildren(h('p', { class: 'empty' }, 'Not saved yet.'));
    const list = await ctx.api.listTemplateVersions(templateId);
    versions.replaceChildren(
      table(
        'Newest first',
        ['Version', 'Saved', 'Action'],
        list.versions.map((v) => [
          `v${v.version}${v.current ? ' (current)' : ''}`,
          when(v.createdAt),
          actionButton(
            `Load v${v.version}`,
            async () => {
              const old = await ctx.api.getTemplateVersion(templateId, v.version);
              content = { channels: old.channels, ...(old.locales ? { locales: old.locales } : {}) };
              locale = '';
              fill();
              preview();
              notify(`Loaded v${v.version} into the editor; saving makes it a new version`);
            },
            { class: 'secondary', 'aria-label': `Load v${v.version} into the editor` },
          ),
        ]),
      ),
    );
  };

  const editorActions = h('div', { class: 'row' });
  if (ctx.can('templates:write')) {
    editorActions.append(
      actionButton('Save as new version', async () => {
        collect();
        const saved = await ctx.api.putTemplate(templateId, content);
        notify(`Saved version ${saved.version}`);
        await loadVersions();
      }),
    );
  } else editorActions.append(h('p', { class: 'muted' }, 'Read-only: this key lacks templates:write.'));

  const editor = h(
    'section',
    { class: 'card editor', 'aria-labelledby': 'editor-title' },
    h('h2', { id: 'editor-title' }, 'Edit'),
    h('div', { class: 'row' }, field('Locale', localeSelect), field('New locale', newLocale), addLocale),
    ...inputs.map(({ label, area }) => field(label, area)),
    field('Sample data (JSON)', sample),
    editorActions,
  );
  const side = h('div', {}, section('Preview', previewBox), section('Version history', versions));
  if (ctx.can('notifications:send')) side.append(testSend(ctx, templateId, sample));
  page.append(h('div', { class: 'two' }, editor, side));
  fill();
  preview();
  await loadVersions();
  return page;
}

function renderPreview(p: TemplatePreview): HTMLElement {
  const box = h(
    'div',
    {},
    h('p', { class: 'muted' }, `Draft after v${p.version}, locale ${p.locale.used ?? 'default'}`),
  );
  const missing = (list: { field: string; variable: string }[]) =>
    list.length
      ? h('p', { class: 'warn' }, `Missing variables: ${list.map((m) => `${m.variable} (${m.field})`).join(', ')}`)
      : '';
  const { push, sms, email } = p.channels;
  if (push) {
    box.append(
      h('h3', {}, 'Push'),
      h('div', { class: 'preview' }, h('strong', {}, push.title), '\n', push.body),
      h(
        'p',
        { class: push.fits ? 'muted' : 'warn' },
        `Payload ${push.payloadBytes.apns} B (APNs) / ${push.payloadBytes.fcm} B (FCM) of ${push.limitBytes} B${push.fits ? '' : ' — too large'}`,
      ),
      missing(push.missingVariables),
    );
  }
  if (sms) {
    box.append(
      h('h3', {}, 'SMS'),
      h('div', { class: 'preview', 'data-testid': 'sms-preview' }, sms.body),
      h(
        'p',
        { class: 'muted', 'data-testid': 'sms-segments' },
        `${sms.encoding}, ${sms.characters} characters, ${sms.segments} segment${sms.segments === 1 ? '' : 's'}${sms.nonGsmCharacters.length ? ` (non-GSM: ${sms.nonGsmCharacters.join(' ')})` : ''}`,
      ),
      missing(sms.missingVariables),
    );
  }
  if (email) {
    // The HTML is shown as source text, never rendered: no template content becomes markup in the dashboard.
    box.append(
      h('h3', {}, 'Email'),
      h('div', { class: 'preview' }, h('strong', {}, email.subject), '\n', email.text ?? email.html ?? ''),
      missing(email.missingVariables),
    );
  }
  return box;
}

function testSend(ctx: Ctx, templateId: string, sample: HTMLTextAreaElement): HTMLElement {
  const user = h('input', { name: 'testUser', autocomplete: 'off' });
  const result = h('p', { 'aria-live': 'polite' });
  const send = actionButton('Send test', async () => {
    const data = JSON.parse(sample.value || '{}') as Record<string, unknown>;
    const sent = await ctx.api.send({ userId: user.value.trim(), template: templateId, data });
    result.replaceChildren('Sent: ', h('a', { href: `#/notifications/${encodeURIComponent(sent.id)}` }, sent.id));
  });
  return section(
    'Test send',
    h('p', {}, 'Sends the saved current version to a user.'),
    h('div', { class: 'row' }, field('User id', user), send),
    result,
  );
}
