import type { TemplateContent } from '../../contract/schemas';
import {
  checkTemplateSyntax,
  pickLocale,
  renderChannels,
  renderPreview,
  resolveLocale,
  TemplateRenderError,
} from './render';

const content: TemplateContent = {
  channels: { sms: { body: 'Hello {{ name }}' }, push: { title: 'Hi', body: 'Default push' } },
  locales: { ko: { sms: { body: '안녕하세요 {{ name }}님' } }, 'pt-BR': { sms: { body: 'Olá {{ name }}' } } },
};

describe('locale fallback', () => {
  it('ko-KR falls back to ko, then to the default channels; a channel the locale lacks comes from the default', () => {
    expect(resolveLocale(content, 'ko-KR')).toBe('ko');
    expect(pickLocale(content, 'ko-KR').sms?.body).toBe('안녕하세요 {{ name }}님');
    expect(pickLocale(content, 'ko-KR').push?.body).toBe('Default push');
    expect(resolveLocale(content, 'pt-br')).toBe('pt-BR');
    expect(resolveLocale(content, 'pt-PT')).toBeNull();
    expect(pickLocale(content, 'fr-FR').sms?.body).toBe('Hello {{ name }}');
    expect(pickLocale(content, null).sms?.body).toBe('Hello {{ name }}');
  });
});

describe('rendering', () => {
  it('is strict about a missing variable, but `if` and `default` may test an optional one', async () => {
    await expect(renderChannels({ sms: { body: 'Hi {{ name }}' } }, ['sms'], {})).rejects.toThrow(TemplateRenderError);
    await expect(renderChannels({ sms: { body: 'Hi {{ name }}' } }, ['sms'], {})).rejects.toThrow(
      /sms\.body: undefined variable: name/,
    );
    const optional = '{% if coupon %}Code {{ coupon }}. {% endif %}Hi {{ name | default: "there" }}';
    expect(await renderChannels({ sms: { body: optional } }, ['sms'], {})).toEqual({ sms: { body: 'Hi there' } });
  });

  it('escapes data written into email HTML (and nowhere else); `raw` writes HTML on purpose', async () => {
    const data = { name: 'Ada & <b>Bob</b>', block: '<p>ok</p>' };
    const rendered = await renderChannels(
      { email: { subject: 'For {{ name }}', html: '<p>{{ name }}</p>{{ block | raw }}', text: '{{ name }}' } },
      ['email'],
      data,
    );
    expect(rendered.email).toEqual({
      subject: 'For Ada & <b>Bob</b>',
      html: '<p>Ada &amp; &lt;b&gt;Bob&lt;/b&gt;</p><p>ok</p>',
      text: 'Ada & <b>Bob</b>',
    });
  });
});

describe('preview rendering', () => {
  it('renders what it can and lists every variable a send would fail on, by field, deepest path first', async () => {
    const { rendered, missing } = await renderPreview(
      {
        sms: { body: 'Hi {{ user.name }}, order {{ order.id }} ({{ order.total }}){% if vip %} VIP{% endif %}' },
        email: { subject: '{{ subject_line }}', html: '<p>{{ greeting }} {{ order.id }}</p>' },
      },
      { order: { id: 'A-1' } },
    );
    expect(rendered.sms?.body).toBe('Hi , order A-1 ()');
    expect(missing).toEqual([
      { field: 'sms.body', variable: 'user.name' },
      { field: 'sms.body', variable: 'order.total' },
      { field: 'email.subject', variable: 'subject_line' },
      { field: 'email.html', variable: 'greeting' },
    ]);
  });
});

describe('syntax errors', () => {
  it('name the field, the line and the column', () => {
    const problem = checkTemplateSyntax({
      channels: { email: { subject: 'ok', html: '<p>one</p>\n<p>two</p>\n  {% if order %}\n<p>never closed</p>' } },
    });
    expect(problem).toEqual({
      field: 'channels.email.html',
      line: 3,
      column: 3,
      message: 'tag {% if order %} not closed',
    });
    expect(
      checkTemplateSyntax({
        channels: { sms: { body: 'fine' } },
        locales: { ko: { sms: { body: 'a\n{{ x | nope }}' } } },
      }),
    ).toMatchObject({ field: 'locales.ko.sms.body', line: 2, column: 1, message: 'undefined filter: nope' });
    expect(checkTemplateSyntax(content)).toBeUndefined();
  });
});
