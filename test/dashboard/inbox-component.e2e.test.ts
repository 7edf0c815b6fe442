/**
 * `<herald-inbox>` in a real headless Chromium (Debian's `chromium`, driven by playwright-core; nothing downloaded),
 * on an app page served from another origin (so CORS is configuration, as in production), against the real Herald:
 * the badge, an item arriving live, mark read, archive. INBOX_SCREENSHOT=<file> saves a screenshot of the open panel
 * (docs/inbox.png).
 */
import fs from 'node:fs';
import http from 'node:http';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { startTestHerald, waitForNotification, type TestHerald } from '../support/herald';
import { until } from '../support/until';

jest.setTimeout(180_000);

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SCREENSHOT = process.env.INBOX_SCREENSHOT;

let herald: TestHerald;
let browser: Browser;
let page: Page;
let appServer: http.Server;
let appOrigin: string;
let token: string;
let html = '';
const notifications: string[] = [];

async function notify(text: string, extra: Record<string, unknown> = {}) {
  const res = await herald.api('POST', '/v1/notifications', {
    userId: 'web-ada',
    template: 'mention',
    data: { text, ...extra },
    channels: ['inbox'],
  });
  notifications.push(res.body.id);
  return (await waitForNotification(herald, res.body.id)).id as string;
}

beforeAll(async () => {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium`);
  // The app's page, on its own origin: it loads the component from Herald.
  appServer = http.createServer((_req, res) => {
    res.setHeader('content-type', 'text/html; charset=utf-8');
    res.end(html);
  });
  await new Promise<void>((resolve) => appServer.listen(0, '127.0.0.1', resolve));
  appOrigin = `http://127.0.0.1:${(appServer.address() as { port: number }).port}`;
  herald = await startTestHerald({ env: { HERALD_INBOX_CORS_ORIGINS: appOrigin } });
  await herald.api('PUT', '/v1/templates/mention', {
    channels: {
      inbox: {
        title: '{{ text }}',
        body: 'Grace mentioned you in “Quarterly plan”',
        url: 'https://app.example/docs/42',
        actions: [{ label: 'Open', url: 'https://app.example/docs/42' }],
      },
    },
  });
  await herald.api('PUT', '/v1/users/web-ada', { name: 'Ada' });
  token = (await herald.api('POST', '/v1/inbox/tokens', { userId: 'web-ada' })).body.token;
  await notify('Your export is ready');
  await notify('Grace mentioned you');
  html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Acme</title>
    <style>body{font-family:system-ui;margin:0}nav{display:flex;justify-content:space-between;align-items:center;
    padding:8px 24px;background:#1f3b73;color:#fff}nav b{font-size:18px}herald-inbox{color:#fff}</style>
    <script src="${herald.url}/inbox/herald-inbox.js"></script></head>
    <body><nav><b>Acme</b><herald-inbox api-url="${herald.url}" token="${token}"></herald-inbox></nav></body></html>`;

  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
  });
});

afterAll(async () => {
  await browser?.close();
  await herald?.stop();
  await new Promise((resolve) => appServer?.close(resolve));
});

const badge = () => page.locator('herald-inbox .badge');
const counts = async () =>
  (await herald.api('GET', '/v1/inbox/counts', undefined, { authorization: `Bearer ${token}` })).body.counts;

it('shows the badge, an item arriving live, marks read and archives', async () => {
  page = await browser.newPage({ viewport: { width: 900, height: 640 } });
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(appOrigin);

  // The badge is the server's unread count.
  await badgeIs('2');

  // Live: a notification sent now appears without a reload.
  await notify('Deploy finished');
  await badgeIs('3');
  await page.locator('herald-inbox .bell').click();
  await hasCount(page.locator('herald-inbox li'), 3);
  await hasText(page.locator('herald-inbox li').first().locator('.title'), 'Deploy finished');
  // Opening the panel marks everything seen.
  await until('all seen', async () => ((await counts()).unseen === 0 ? true : undefined), { timeoutMs: 20_000 });

  // Mark read: the badge follows the server.
  await page.locator('herald-inbox li').nth(1).locator('.mark-read').click();
  await badgeIs('2');
  expect((await counts()).unread).toBe(2);
  await poll(
    'read item',
    async () => !/unread/.test((await page.locator('herald-inbox li').nth(1).getAttribute('class')) ?? ''),
  );

  if (SCREENSHOT) await page.screenshot({ path: SCREENSHOT });

  // Archive: the item leaves the list; the counts follow.
  await page.locator('herald-inbox li').nth(2).locator('.archive').click();
  await hasCount(page.locator('herald-inbox li'), 2);
  await badgeIs('1');
  expect(await counts()).toEqual({ unread: 1, unseen: 0, total: 2 });

  // Changes made elsewhere (another tab, the API) reach the badge too.
  await herald.api('POST', '/v1/inbox/items/read', { all: true }, { authorization: `Bearer ${token}` });
  await isHidden(badge());
  expect(errors).toEqual([]);
});

async function badgeIs(text: string) {
  await hasText(badge(), text);
}

// playwright-core has no test runner: its locators, polled until they show what is expected.
const poll = (what: string, check: () => Promise<boolean>) =>
  until(what, async () => ((await check()) ? true : undefined), { timeoutMs: 20_000, intervalMs: 100 });
const hasText = (locator: Locator, text: string) =>
  poll(`text ${text}`, async () => (await locator.isVisible()) && (await locator.textContent())?.trim() === text);
const hasCount = (locator: Locator, n: number) => poll(`${n} elements`, async () => (await locator.count()) === n);
const isHidden = (locator: Locator) => poll('hidden', async () => !(await locator.isVisible()));
