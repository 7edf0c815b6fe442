/// <reference lib="dom" />
// The page-side callbacks (page.evaluate) run in the browser.
/**
 * The operator dashboard in a real headless Chromium (Debian's `chromium`, driven by playwright-core; nothing is
 * downloaded) against the real Herald: API, Temporal dev server, worker, and providers behind local fakes. It signs
 * in, finds a notification by user, reads a skipped channel's reason, re-drives a failed one until it is delivered,
 * edits a template and watches the preview change, is refused a wrong key, and runs axe-core on every view.
 * DASHBOARD_SCREENSHOTS=<dir> (npm run docs:screenshots) also saves a screenshot of each view there.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import axe from 'axe-core';
import { chromium, type Browser, type Page } from 'playwright-core';
import { DASHBOARD_CSP } from '../../api/routes/dashboard.routes';
import { twilioError } from '../fakes/twilio.fake';
import { startTestHerald, TEST_API_KEY, waitForNotification, type TestHerald } from '../support/herald';
import { startProviderFakes, type ProviderFakes } from '../support/provider-fakes';
import { until } from '../support/until';

jest.setTimeout(180_000);

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SCREENSHOTS = process.env.DASHBOARD_SCREENSHOTS;

let fakes: ProviderFakes;
let herald: TestHerald;
let browser: Browser;
let page: Page;
let dir: string;
const cspViolations: string[] = [];
const ids: { ada: string; bob: string } = { ada: '', bob: '' };

beforeAll(async () => {
  // Never a silent pass: without a browser this suite fails and says how to get one (.ci/run installs it).
  if (!fs.existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium`);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-dashboard-'));
  const deliveryConfig = path.join(dir, 'delivery.json');
  const fast = { initialInterval: '100ms', backoffCoefficient: 1, maximumAttempts: 2 };
  fs.writeFileSync(deliveryConfig, JSON.stringify({ channels: { sms: { retry: fast }, email: { retry: fast } } }));
  fakes = await startProviderFakes();
  herald = await startTestHerald({ env: { ...fakes.env, HERALD_DELIVERY_CONFIG_FILE: deliveryConfig } });

  await herald.api('PUT', '/v1/templates/order-shipped', {
    channels: {
      email: { subject: 'Shipped', text: 'Order {{ order }} shipped' },
      sms: { body: 'Order {{ order }} shipped' },
    },
  });
  // Ada muted SMS: her notification is emailed, and its SMS is skipped with the reason.
  await herald.api('PUT', '/v1/users/dash-ada', { email: 'ada@example.com', phone: '+14155550100', name: 'Ada' });
  await herald.api('PUT', '/v1/users/dash-ada/preferences', { channels: { sms: false }, categories: {} });
  await herald.api('POST', '/v1/users/dash-ada/devices', { platform: 'android', token: 'fcm-token-dash-ada-0001' });
  ids.ada = (
    await herald.api('POST', '/v1/notifications', {
      userId: 'dash-ada',
      template: 'order-shipped',
      data: { order: '42' },
    })
  ).body.id;
  // Bob's SMS fails on both attempts (Twilio is down), so his notification fails; the re-drive then goes through.
  await herald.api('PUT', '/v1/users/dash-bob', { phone: '+14155550101' });
  fakes.twilio.enqueue(twilioError(503, 20503, 'Service Unavailable'), twilioError(503, 20503, 'Service Unavailable'));
  ids.bob = (
    await herald.api('POST', '/v1/notifications', {
      userId: 'dash-bob',
      template: 'order-shipped',
      data: { order: '7' },
    })
  ).body.id;
  expect((await waitForNotification(herald, ids.ada)).status).toBe('delivered');
  expect((await waitForNotification(herald, ids.bob)).status).toBe('failed');

  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Playwright gives the browser a new, empty profile in a temporary directory.
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('console', (message) => {
    if (/Content.Security.Policy/i.test(message.text())) cspViolations.push(message.text());
  });
});

afterAll(async () => {
  await browser?.close();
  await herald?.stop();
  await fakes?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** axe-core in the page: no violations of WCAG 2 A/AA rules (labels, names, contrast, keyboard focus order). */
async function expectAccessible(view: string) {
  await page.evaluate(axe.source);
  const violations = await page.evaluate(async () => {
    const result = await (window as unknown as { axe: typeof axe }).axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] },
    });
    return result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  });
  expect({ view, violations }).toEqual({ view, violations: [] });
  if (SCREENSHOTS) {
    fs.mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SCREENSHOTS, `${view}.png`), fullPage: true });
  }
}

async function open(hash: string) {
  await page.evaluate((h) => (location.hash = h), hash);
  await page.locator('main h1').first().waitFor();
}

describe('the dashboard', () => {
  it('is served by the API process with a strict Content-Security-Policy', async () => {
    const response = await fetch(`${herald.url}/dashboard`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-security-policy')).toBe(DASHBOARD_CSP);
    expect(DASHBOARD_CSP).toContain("script-src 'self'");
    expect(DASHBOARD_CSP).not.toContain('unsafe');
    expect(await response.text()).not.toMatch(/<script>|style=/);
  });

  it('refuses a wrong key', async () => {
    await page.goto(`${herald.url}/dashboard`);
    await page.getByLabel('API key').fill('hk_not-a-real-key-0123456789');
    await page.getByRole('button', { name: 'Sign in' }).click();
    // The alert may be in the page before the answer arrives: wait for the refusal itself.
    await page.getByRole('alert').filter({ hasText: 'refused' }).waitFor();
    expect(await page.evaluate(() => sessionStorage.getItem('herald.apiKey'))).toBeNull();
    await expectAccessible('sign-in');
  });

  it('signs in and finds a notification by user', async () => {
    await page.getByLabel('API key').fill(TEST_API_KEY);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    await expectAccessible('overview');
    await page.getByRole('link', { name: 'Notifications', exact: true }).click();
    await page.getByLabel('User id').fill('dash-ada');
    await page.getByLabel('User id').press('Enter');
    // The search result replaces the unfiltered list: wait for the table to hold the one row, then for its link.
    const link = page.getByRole('table').getByRole('link', { name: ids.ada });
    await until(`one row for dash-ada`, async () =>
      (await page.locator('tbody tr').count()) === 1 && (await link.count()) === 1 ? true : undefined,
    );
    await expectAccessible('notifications');
    await link.click();
  });

  it("opens its trace: the skipped channel's reason, masked targets, the workflow link", async () => {
    await page.getByRole('heading', { name: /Notification/ }).waitFor();
    const channels = page.getByRole('table', { name: /Each channel/ });
    await expect(channels.getByRole('row', { name: /sms/ }).textContent()).resolves.toMatch(
      /skipped.*user_disabled_sms/,
    );
    const deliveries = page.getByRole('table', { name: /Every delivery/ });
    await expect(deliveries.textContent()).resolves.toContain('a***@example.com');
    // Contact details are masked everywhere: the address never reaches the page.
    expect(await page.content()).not.toContain('ada@example.com');
    const workflow = page.getByRole('link', { name: /Temporal Web UI/ });
    expect(await workflow.getAttribute('href')).toMatch(
      /^http:\/\/localhost:8233\/namespaces\/default\/workflows\/notification-[0-9a-f]{40}$/,
    );
    await expectAccessible('notification');
  });

  it('re-drives a failed notification and watches it turn delivered', async () => {
    await open(`#/notifications/${ids.bob}`);
    await expect(page.locator('dd .badge').first().textContent()).resolves.toBe('failed');
    await page.getByRole('button', { name: 'Re-drive failed deliveries' }).click();
    await page.locator('dd .badge-delivered').waitFor({ timeout: 60_000 });
    expect(fakes.twilio.sent.filter((m) => m.to === '+14155550101')).toHaveLength(1);
  });

  it('edits a template and sees the preview change', async () => {
    await open('#/templates/order-shipped');
    const sms = page.getByTestId('sms-preview');
    await expect(sms.textContent()).resolves.toBe('Order 42 shipped');
    await expect(page.getByTestId('sms-segments').textContent()).resolves.toContain('GSM-7');
    await expectAccessible('templates');
    await page.getByLabel('SMS body').fill('Commande {{ order }} expédiée — {{ missing }}');
    await page.waitForFunction(() =>
      document.querySelector('[data-testid=sms-preview]')?.textContent?.startsWith('Commande 42'),
    );
    await expect(page.getByTestId('sms-segments').textContent()).resolves.toContain('UCS-2');
    await expect(page.locator('#preview').textContent()).resolves.toContain('Missing variables: missing');
    // Nothing is stored until saved.
    expect((await herald.api('GET', '/v1/templates/order-shipped')).body.channels.sms.body).toBe(
      'Order {{ order }} shipped',
    );
  });

  it('shows users (masked), campaigns, the failed queue and API keys, each accessible', async () => {
    await open('#/users/dash-ada');
    await expect(page.locator('main').textContent()).resolves.toContain('+1******0100');
    expect(await page.content()).not.toMatch(/ada@example\.com|4155550100/);
    await expectAccessible('users');
    for (const view of ['campaigns', 'failed', 'keys']) {
      await open(`#/${view}`);
      await expectAccessible(view);
    }
    expect(cspViolations).toEqual([]);
  });

  it('shows a read-only key only what its scopes allow', async () => {
    const created = await herald.api('POST', '/v1/api-keys', { name: 'support', scopes: ['notifications:read'] });
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('API key').fill(created.body.key);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    const nav = await page.getByRole('navigation', { name: 'Views' }).textContent();
    expect(nav).toContain('Notifications');
    expect(nav).not.toMatch(/Users|Templates|API keys/);
    await open(`#/notifications/${ids.bob}`);
    await expect(page.locator('main').textContent()).resolves.toContain('needs notifications:send');
    expect(await page.getByRole('button', { name: /Re-drive/ }).count()).toBe(0);
    // The secret is never rendered, not even the one just used to sign in.
    expect(await page.content()).not.toContain(created.body.key);
  });
});

describe('the reads behind it', () => {
  const range = () => ({
    from: new Date(Date.now() - 3_600_000).toISOString(),
    to: new Date(Date.now() + 60_000).toISOString(),
  });

  it('GET /v1/stats/series counts sent and failed per channel per bucket', async () => {
    const { from, to } = range();
    const series = await herald.api('GET', `/v1/stats/series?from=${from}&to=${to}&bucket=hour`);
    expect(series.status).toBe(200);
    const total = (channel: string, key: 'sent' | 'failed') =>
      (series.body.points as { channel: string; sent: number; failed: number }[])
        .filter((p) => p.channel === channel)
        .reduce((sum, p) => sum + p[key], 0);
    expect(total('email', 'sent')).toBe(1);
    expect(total('sms', 'failed')).toBe(1);
    const tooLong = await herald.api('GET', `/v1/stats/series?from=2020-01-01T00:00:00Z&to=2026-01-01T00:00:00Z`);
    expect(tooLong.status).toBe(400);
  });

  it('GET /v1/ops/providers shows each provider’s calls and failures, for admin keys only', async () => {
    const health = await herald.api('GET', '/v1/ops/providers?windowMinutes=60');
    expect(health.status).toBe(200);
    expect(health.body.providers).toEqual(
      expect.arrayContaining([expect.objectContaining({ provider: 'twilio', failures: 2 })]),
    );
    const reader = await herald.api('POST', '/v1/api-keys', { name: 'reader', scopes: ['notifications:read'] });
    const refused = await herald.api('GET', '/v1/ops/providers', undefined, {
      authorization: `Bearer ${reader.body.key}`,
    });
    expect(refused.status).toBe(403);
  });

  it('GET /v1/notifications filters by event id, template, category and time range', async () => {
    const ada = (await herald.api('GET', `/v1/notifications/${ids.ada}`)).body;
    const byEvent = await herald.api('GET', `/v1/notifications?eventId=${encodeURIComponent(ada.eventId)}`);
    expect(byEvent.body.notifications.map((n: { id: string }) => n.id)).toEqual([ids.ada]);
    expect((await herald.api('GET', '/v1/notifications?template=order-shipped')).body.notifications).toHaveLength(2);
    expect((await herald.api('GET', '/v1/notifications?template=nope')).body.notifications).toHaveLength(0);
    expect((await herald.api('GET', '/v1/notifications?category=nope')).body.notifications).toHaveLength(0);
    const later = new Date(Date.now() + 60_000).toISOString();
    expect((await herald.api('GET', `/v1/notifications?from=${later}`)).body.notifications).toHaveLength(0);
    expect((await herald.api('GET', `/v1/notifications?to=${later}`)).body.notifications).toHaveLength(2);
  });

  it('POST /v1/templates/{id}/preview renders an unsaved draft, and refuses a broken one with 422', async () => {
    const draft = { channels: { sms: { body: 'Draft {{ order }}' } } };
    const preview = await herald.api('POST', '/v1/templates/order-shipped/preview', { draft, data: { order: 'X' } });
    expect(preview.status).toBe(200);
    expect(preview.body.channels.sms.body).toBe('Draft X');
    const broken = await herald.api('POST', '/v1/templates/order-shipped/preview', {
      draft: { channels: { sms: { body: 'Draft {{ order' } } },
    });
    expect(broken.status).toBe(422);
    expect(broken.body.error.code).toBe('template_syntax_error');
  });
});
