/**
 * The published entry point: `herald/client` from package.json `exports`, built by `npm run build:client`. Builds the
 * client into a scratch copy of the package and imports it the way a service would — CommonJS, ES module and
 * TypeScript (node16 resolution, which reads `exports` and its `types`) — through Node's own package resolution.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

jest.setTimeout(120_000);

const root = path.resolve(__dirname, '..');
const tsc = require.resolve('typescript/bin/tsc');
let dir: string;

const node = (file: string) =>
  execFileSync(process.execPath, [file], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-package-'));
  // The package as it would be installed: its package.json, its build, and its dependencies beside it.
  fs.copyFileSync(path.join(root, 'package.json'), path.join(dir, 'package.json'));
  fs.symlinkSync(fs.realpathSync(path.join(root, 'node_modules')), path.join(dir, 'node_modules'), 'dir');
  execFileSync(
    process.execPath,
    [tsc, '-p', path.join(root, 'client/tsconfig.build.json'), '--outDir', path.join(dir, 'dist/sdk')],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
  );
});

afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const usage = `
  const client = herald.createHeraldClient({ http: { url: 'http://127.0.0.1:9', apiKey: 'k' } });
  client.send({ userId: 'not valid', template: 't' }).then(
    () => console.log(JSON.stringify({ sent: true })),
    (error) => console.log(JSON.stringify({
      exports: Object.keys(herald).sort(),
      error: error.name, field: error.field, isHeraldError: error instanceof herald.HeraldError,
    })),
  );
`;
const expected = {
  exports: [
    'ConflictError',
    'HeraldError',
    'InvalidInputError',
    'NotFoundError',
    'TransientError',
    'UnauthorizedError',
    'createHeraldClient',
    'heraldDataConverter',
  ],
  error: 'InvalidInputError',
  field: 'userId',
  isHeraldError: true,
};

describe("package.json exports './client'", () => {
  it('is what require("herald/client") loads', () => {
    fs.writeFileSync(path.join(dir, 'consumer.cjs'), `const herald = require('herald/client');\n${usage}`);
    expect(JSON.parse(node('consumer.cjs'))).toEqual(expected);
  });

  it('is what an ES module imports, named exports included', () => {
    fs.writeFileSync(
      path.join(dir, 'consumer.mjs'),
      `import * as all from 'herald/client';\nimport { createHeraldClient } from 'herald/client';\n` +
        `const herald = { ...all }; delete herald.default; delete herald['module.exports']; delete herald.__esModule;\n` +
        `if (typeof createHeraldClient !== 'function') throw new Error('no named export');\n${usage}`,
    );
    expect(JSON.parse(node('consumer.mjs'))).toEqual(expected);
  });

  it('carries its types: a TypeScript consumer gets the inferred input types and errors', () => {
    fs.writeFileSync(
      path.join(dir, 'consumer.ts'),
      `import {
  createHeraldClient,
  NotFoundError,
  type CampaignInput,
  type SendNotificationInput,
  type Notification,
  type Stats,
} from 'herald/client';
const input: SendNotificationInput = { userId: 'u1', template: 'welcome', channels: ['email'], data: { n: 1 } };
// @ts-expect-error: 'fax' is not a channel — the type comes from the API's schema.
const wrong: SendNotificationInput = { userId: 'u1', template: 'welcome', channels: ['fax'] };
const campaign: CampaignInput = { name: 'n', template: 't', audience: { topic: 'all' }, schedule: { cron: '0 9 * * *' } };
// @ts-expect-error: an audience is a topic, user ids or a filter, not a segment.
const noAudience: CampaignInput = { ...campaign, audience: { segment: 'all' } };
export async function daily(): Promise<Stats['totals']['rates']['open']> {
  const herald = createHeraldClient({ http: { url: 'http://127.0.0.1:9', apiKey: 'k' } });
  await herald.createCampaign(campaign);
  // @ts-expect-error: stats group by channel, template, category or day.
  await herald.stats({ from: '2025-01-01T00:00:00Z', to: '2025-01-02T00:00:00Z', groupBy: 'user' });
  return (await herald.stats({ from: '2025-01-01T00:00:00Z', to: '2025-01-02T00:00:00Z', groupBy: 'day' })).totals.rates.open;
}
export async function run(): Promise<Notification['status'] | undefined> {
  const herald = createHeraldClient({ http: { url: 'http://127.0.0.1:9', apiKey: 'k' } });
  try {
    const { id } = await herald.send(input);
    return (await herald.get(id)).status;
  } catch (error) {
    if (error instanceof NotFoundError) return error.resource === 'user' ? undefined : undefined;
    throw error;
  }
}
export { wrong, noAudience };
`,
    );
    const result = (() => {
      try {
        execFileSync(
          process.execPath,
          [
            tsc,
            '--noEmit',
            '--strict',
            '--skipLibCheck',
            '--module',
            'node16',
            '--moduleResolution',
            'node16',
            '--target',
            'es2022',
            '--types',
            'node',
            'consumer.ts',
          ],
          { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
        );
        return '';
      } catch (error) {
        return String((error as { stdout?: string }).stdout ?? error);
      }
    })();
    expect(result).toBe('');
  });
});
