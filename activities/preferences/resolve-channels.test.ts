import type { Preferences } from '../../contract/schemas';
import type { Channel } from '../../contract/channels';
import { resolveChannels, type CategoryPolicy } from './resolve-channels';

const ALL: Channel[] = ['push', 'sms', 'email'];
const prefs = (p: Partial<Preferences>): Preferences => ({ channels: {}, categories: {}, ...p });
const marketing = (overrides: Partial<CategoryPolicy> = {}): CategoryPolicy => ({
  name: 'marketing',
  critical: false,
  channels: {},
  ...overrides,
});
const decide = (input: Parameters<typeof resolveChannels>[0]) =>
  Object.fromEntries(resolveChannels(input).map((d) => [d.channel, d.send ? 'send' : d.reason]));

describe('resolveChannels: each rule', () => {
  it('sends every channel of the template when nobody has set anything', () => {
    expect(decide({ templateChannels: ALL })).toEqual({ push: 'send', sms: 'send', email: 'send' });
  });

  it('skips a requested channel the template has no content for', () => {
    expect(decide({ templateChannels: ['push'], requested: ['push', 'sms'] })).toEqual({
      push: 'send',
      sms: 'template_has_no_content_for_channel',
    });
  });

  it('only considers the requested channels', () => {
    expect(decide({ templateChannels: ALL, requested: ['email'] })).toEqual({ email: 'send' });
  });

  it("the user's channel switch turns a channel off", () => {
    expect(decide({ templateChannels: ALL, preferences: prefs({ channels: { sms: false } }) })).toEqual({
      push: 'send',
      sms: 'user_disabled_sms',
      email: 'send',
    });
  });

  it('a category default applies when the user has set nothing', () => {
    expect(decide({ templateChannels: ALL, category: marketing({ channels: { sms: false } }) })).toEqual({
      push: 'send',
      sms: 'category_default_off_sms',
      email: 'send',
    });
  });

  it("the user's channel switch beats the category default (both ways)", () => {
    const category = marketing({ channels: { sms: false, push: true } });
    expect(
      decide({ templateChannels: ALL, category, preferences: prefs({ channels: { sms: true, push: false } }) }),
    ).toEqual({ push: 'user_disabled_push', sms: 'send', email: 'send' });
  });

  it("the user's category switch beats their channel switches", () => {
    const preferences = prefs({ channels: { push: true }, categories: { marketing: { enabled: false } } });
    expect(decide({ templateChannels: ALL, category: marketing(), preferences })).toEqual({
      push: 'user_disabled_category',
      sms: 'user_disabled_category',
      email: 'user_disabled_category',
    });
  });

  it("the user's per-channel setting in a category beats the category switch and the channel switch", () => {
    const preferences = prefs({
      channels: { email: false, sms: true },
      categories: { marketing: { enabled: false, email: true, sms: false } },
    });
    expect(decide({ templateChannels: ALL, category: marketing(), preferences })).toEqual({
      push: 'user_disabled_category',
      sms: 'user_disabled_sms_for_category',
      email: 'send',
    });
  });

  it('a critical category goes out on every channel whatever the user set', () => {
    const preferences = prefs({
      channels: { push: false, sms: false, email: false },
      categories: { security: { enabled: false, push: false } },
    });
    const category = { name: 'security', critical: true, channels: { sms: false } };
    const decisions = resolveChannels({ templateChannels: ALL, category, preferences });
    expect(decisions.every((d) => d.send && d.reason === 'critical_category')).toBe(true);
  });

  it('a critical category still cannot send what the template does not have', () => {
    const category = { name: 'security', critical: true, channels: {} };
    expect(decide({ templateChannels: ['email'], requested: ['email', 'push'], category })).toEqual({
      email: 'send',
      push: 'template_has_no_content_for_channel',
    });
  });

  it('preferences for another category do not apply', () => {
    const preferences = prefs({ categories: { digest: { enabled: false } } });
    expect(decide({ templateChannels: ['push'], category: marketing(), preferences })).toEqual({ push: 'send' });
  });

  it('without a category, category preferences are ignored and channel switches apply', () => {
    const preferences = prefs({ channels: { email: false }, categories: { marketing: { enabled: false } } });
    expect(decide({ templateChannels: ['push', 'email'], preferences })).toEqual({
      push: 'send',
      email: 'user_disabled_email',
    });
  });
});

describe('resolveChannels: exhaustively, against the documented precedence', () => {
  const tri = [undefined, true, false] as const;
  // Every combination of the five inputs for one channel: 2 × 3^4 = 162 cases.
  const cases: [boolean, (typeof tri)[number], (typeof tri)[number], (typeof tri)[number], (typeof tri)[number]][] = [];
  for (const critical of [false, true])
    for (const perCategory of tri)
      for (const categoryEnabled of tri)
        for (const userSwitch of tri)
          for (const categoryDefault of tri)
            cases.push([critical, perCategory, categoryEnabled, userSwitch, categoryDefault]);

  it.each(cases)(
    'critical=%s perCategory=%s categoryEnabled=%s userSwitch=%s categoryDefault=%s',
    (critical, perCategory, categoryEnabled, userSwitch, categoryDefault) => {
      const expected = critical
        ? true
        : perCategory !== undefined
          ? perCategory
          : categoryEnabled === false
            ? false
            : userSwitch !== undefined
              ? userSwitch
              : categoryDefault !== false;
      const [decision] = resolveChannels({
        templateChannels: ['push'],
        category: { name: 'c', critical, channels: categoryDefault === undefined ? {} : { push: categoryDefault } },
        preferences: prefs({
          channels: userSwitch === undefined ? {} : { push: userSwitch },
          categories: {
            c: {
              ...(perCategory === undefined ? {} : { push: perCategory }),
              ...(categoryEnabled === undefined ? {} : { enabled: categoryEnabled }),
            },
          },
        }),
      });
      expect(decision!.send).toBe(expected);
    },
  );
});
