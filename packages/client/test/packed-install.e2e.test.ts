/**
 * @herald/client as a service gets it: `npm pack` of the package, installed into an empty project in the system's
 * temporary folder (no Herald checkout on its path, no node_modules above it) from a registry on 127.0.0.1 that
 * serves what `npm ci` installed (test/support/local-registry.ts) — no network. From CommonJS, from an ES module and
 * from TypeScript (type-checked with the repository's tsc, then run), the installed package sends a notification to a
 * running Herald over HTTP and then, with the same event id, over Temporal: one notification, delivered once. A
 * project without @temporalio/client loads the package and sends over HTTP; the Temporal transport says what is
 * missing.
 */
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { formatEncryptionKeys, generateEncryptionKey } from '../../../contract/codec';
import { startTestHerald, TEST_API_KEY, waitForNotification, type TestHerald } from '../../../test/support/herald';
import { startLocalRegistry, type LocalRegistry } from '../../../test/support/local-registry';
import { startProviderFakes, type ProviderFakes } from '../../../test/support/provider-fakes';
import { createLocalTemporal } from '../../../test/support/temporal';

jest.setTimeout(600_000);

// Asynchronous: the registry and Herald answer from this process while npm and the services run.
const exec = async (file: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }) =>
  (await promisify(execFile)(file, args, { ...options, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })).stdout;

const root = path.resolve(__dirname, '../../..');
const pkgDir = path.resolve(__dirname, '..');
const tsc = path.join(root, 'node_modules/typescript/bin/tsc');
const installedVersion = (name: string) =>
  (JSON.parse(fs.readFileSync(path.join(root, 'node_modules', name, 'package.json'), 'utf8')) as { version: string })
    .version;

let work: string;
let registry: LocalRegistry;
let temporal: TestWorkflowEnvironment;
let fakes: ProviderFakes;
let herald: TestHerald;
let tarball: string;
let packed: { size: number; unpackedSize: number; entryCount: number };
const encryptionKeys = formatEncryptionKeys([generateEncryptionKey('sdk-package')]);

/** npm as a service's CI runs it: only our registry, a cache of its own, none of the environment `npm test` sets. */
function npm(cwd: string, args: string[]): Promise<string> {
  const env: NodeJS.ProcessEnv = {};
  for (const name of ['PATH', 'HOME', 'LANG', 'TMPDIR']) if (process.env[name]) env[name] = process.env[name];
  fs.writeFileSync(path.join(work, 'npmrc'), '');
  return exec(
    'npm',
    [
      ...args,
      `--registry=${registry.url}`,
      `--cache=${path.join(work, 'npm-cache')}`,
      `--userconfig=${path.join(work, 'npmrc')}`,
      '--no-audit',
      '--no-fund',
      '--no-update-notifier',
    ],
    { cwd, env },
  );
}

async function project(name: string, packages: string[]): Promise<string> {
  const dir = path.join(work, name);
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', private: true }));
  await npm(dir, ['install', tarball, ...packages]);
  return dir;
}

async function run(dir: string, file: string, config: object): Promise<unknown> {
  const out = await exec(process.execPath, [file], {
    cwd: dir,
    env: { PATH: process.env.PATH, HERALD_TEST_CONFIG: JSON.stringify(config) },
  });
  return JSON.parse(out.trim().split('\n').pop()!);
}

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-client-package-'));
  registry = await startLocalRegistry(root);
  // What a service installs: the tarball of the package (its prepack script builds it).
  const [result] = JSON.parse(
    execFileSync('npm', ['pack', '--json', '--pack-destination', work], {
      cwd: pkgDir,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  ) as [{ filename: string; size: number; unpackedSize: number; entryCount: number }];
  tarball = path.join(work, result.filename);
  packed = result;
  temporal = await createLocalTemporal();
  fakes = await startProviderFakes();
  herald = await startTestHerald({ env: { ...fakes.env, HERALD_ENCRYPTION_KEYS: encryptionKeys }, temporal });
  const template = await herald.api('PUT', '/v1/templates/order-shipped', {
    channels: { email: { subject: 'Order {{ order }}', text: 'Order {{ order }} has shipped' } },
  });
  expect(template.status).toBeLessThan(300);
});

afterAll(async () => {
  await herald?.stop();
  await fakes?.stop();
  await temporal?.teardown();
  await registry?.stop();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

/** The service's code, the same in every module system; it prints what it got back. */
const SERVICE = `
const config = JSON.parse(process.env.HERALD_TEST_CONFIG ?? '{}');
async function main() {
  const http = { url: config.url, apiKey: config.apiKey };
  const overHttp = createHeraldClient({ http });
  const connection = await Connection.connect({ address: config.address });
  try {
    const client = new Client({ connection, namespace: config.namespace, dataConverter: heraldDataConverter(config.keys) });
    const overTemporal = createHeraldClient({ http, temporal: { client, taskQueue: config.taskQueue } });
    const input = { userId: config.userId, template: 'order-shipped', data: { order: config.order }, eventId: config.eventId };
    const viaHttp = await overHttp.send(input);
    const viaTemporal = await overTemporal.send(input);
    const unknownUser = await overTemporal.send({ ...input, userId: 'nobody-' + config.userId, eventId: undefined }).then(
      () => 'sent',
      (error) => (error instanceof NotFoundError && error instanceof HeraldError ? error.name + ':' + error.resource : String(error)),
    );
    console.log(JSON.stringify({ viaHttp, viaTemporal, unknownUser, transport: overTemporal.transport }));
  } finally {
    await connection.close();
  }
}
main().catch((error) => { console.error(error); process.exit(1); });
`;

const TYPED_SERVICE = `
import { Client, Connection } from '@temporalio/client';
import {
  createHeraldClient,
  heraldDataConverter,
  HeraldError,
  NotFoundError,
  type CampaignInput,
  type SendNotificationInput,
  type SendResult,
} from '@herald/client';

// The types come from the API's own schemas.
const ok: SendNotificationInput = { userId: 'u1', template: 'welcome', channels: ['email'], data: { n: 1 } };
// @ts-expect-error: 'fax' is not a channel.
const wrong: SendNotificationInput = { userId: 'u1', template: 'welcome', channels: ['fax'] };
const campaign: CampaignInput = { name: 'n', template: 't', audience: { topic: 'all' }, schedule: { cron: '0 9 * * *' } };
// @ts-expect-error: an audience is a topic, user ids or a filter, not a segment.
const noAudience: CampaignInput = { ...campaign, audience: { segment: 'all' } };
export const examples = { ok, wrong, noAudience };
export type Sent = SendResult['status'];
${SERVICE}`;

let users = 0;
async function sendFrom(dir: string, file: string) {
  const userId = `package-user-${++users}`;
  const email = `${userId}@example.com`;
  expect((await herald.api('PUT', `/v1/users/${userId}`, { email })).status).toBeLessThan(300);
  const eventId = `order-${users}-shipped`;
  const result = (await run(dir, file, {
    url: herald.url,
    apiKey: TEST_API_KEY,
    address: temporal.address,
    namespace: temporal.namespace ?? 'default',
    taskQueue: herald.taskQueue,
    keys: encryptionKeys,
    userId,
    eventId,
    order: `A-${users}`,
  })) as { viaHttp: { id: string }; viaTemporal: { id: string } };

  expect(result).toEqual({
    viaHttp: { id: expect.any(String), status: 'accepted', eventId, replayed: false },
    viaTemporal: { id: result.viaHttp.id, status: expect.any(String), eventId, replayed: true },
    unknownUser: 'NotFoundError:user',
    transport: 'temporal',
  });
  // One notification for the event id, delivered: one e-mail at the provider.
  const rows = await herald.db.prisma.notification.findMany({ where: { idempotencyKey: eventId } });
  expect(rows.map((r) => r.id)).toEqual([result.viaHttp.id]);
  expect((await waitForNotification(herald, result.viaHttp.id)).status).toBe('delivered');
  const mails = fakes.sendgrid.requests.filter((r) => JSON.stringify(r.body).includes(email));
  expect(mails).toHaveLength(1);
}

describe('npm pack of @herald/client, installed into an empty project', () => {
  let service: string;

  beforeAll(async () => {
    // The service's own dependencies: the SDK, and Temporal's client for the Temporal transport (an optional peer).
    service = await project('service', [
      `@temporalio/client@${installedVersion('@temporalio/client')}`,
      `@types/node@${installedVersion('@types/node')}`,
    ]);
  });

  it('is a small package: its bundles, declarations and README, depending on zod alone', () => {
    const files = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).trim().split('\n').sort();
    expect(files).toEqual([
      'package/README.md',
      'package/dist/index.cjs',
      'package/dist/index.d.mts',
      'package/dist/index.d.ts',
      'package/dist/index.mjs',
      'package/package.json',
    ]);
    const manifest = JSON.parse(
      fs.readFileSync(path.join(service, 'node_modules/@herald/client/package.json'), 'utf8'),
    );
    expect(Object.keys(manifest.dependencies)).toEqual(['zod']);
    expect(manifest.peerDependenciesMeta).toEqual({ '@temporalio/client': { optional: true } });
    // The numbers the package's README quotes.
    const lock = JSON.parse(fs.readFileSync(path.join(service, 'package-lock.json'), 'utf8'));
    const installed = Object.keys(lock.packages).filter((key) => key.includes('node_modules/'));
    process.stdout.write(
      `@herald/client tarball: ${JSON.stringify(packed)}\n` +
        `installed with @temporalio/client and @types/node: ${installed.length} packages: ${installed.join(' ')}\n`,
    );
    expect(packed.size).toBeLessThan(120_000);
  });

  it('sends from CommonJS, over HTTP and over Temporal: one notification', async () => {
    fs.writeFileSync(
      path.join(service, 'service.cjs'),
      `const { createHeraldClient, heraldDataConverter, HeraldError, NotFoundError } = require('@herald/client');\n` +
        `const { Client, Connection } = require('@temporalio/client');\n${SERVICE}`,
    );
    await sendFrom(service, 'service.cjs');
  });

  it('sends from an ES module, over HTTP and over Temporal: one notification', async () => {
    fs.writeFileSync(
      path.join(service, 'service.mjs'),
      `import { createHeraldClient, heraldDataConverter, HeraldError, NotFoundError } from '@herald/client';\n` +
        `import { Client, Connection } from '@temporalio/client';\n${SERVICE}`,
    );
    await sendFrom(service, 'service.mjs');
  });

  it('sends from type-checked TypeScript (CommonJS and ES module declarations), one notification', async () => {
    fs.writeFileSync(path.join(service, 'service.ts'), TYPED_SERVICE);
    // The ES module flavour is type-checked too (its declarations are index.d.mts).
    fs.writeFileSync(path.join(service, 'service-esm.mts'), TYPED_SERVICE);
    const args = ['--strict', '--skipLibCheck', '--module', 'node16', '--moduleResolution', 'node16'];
    const tscOut = await exec(
      process.execPath,
      [tsc, ...args, '--target', 'es2022', '--types', 'node', '--outDir', 'out', 'service.ts', 'service-esm.mts'],
      { cwd: service, env: { PATH: process.env.PATH } },
    ).catch((error: { stdout?: string }) => String(error.stdout ?? error));
    expect(tscOut).toBe('');
    await sendFrom(service, 'out/service.js');
  });
});

describe('without @temporalio/client (an HTTP-only service)', () => {
  let service: string;

  beforeAll(async () => {
    service = await project('http-only', []);
  });

  it('installs the SDK and zod only, sends over HTTP, and the Temporal transport says what to install', async () => {
    expect(fs.readdirSync(path.join(service, 'node_modules')).sort()).toEqual(['.package-lock.json', '@herald', 'zod']);
    const userId = 'http-only-user';
    expect((await herald.api('PUT', `/v1/users/${userId}`, { email: 'http-only@example.com' })).status).toBeLessThan(
      300,
    );
    fs.writeFileSync(
      path.join(service, 'service.mjs'),
      `import { createHeraldClient, heraldDataConverter, HeraldError } from '@herald/client';
const config = JSON.parse(process.env.HERALD_TEST_CONFIG ?? '{}');
const http = { url: config.url, apiKey: config.apiKey };
const sent = await createHeraldClient({ http }).send({ userId: config.userId, template: 'order-shipped', data: { order: 'H-1' } });
const refusal = (fn) => { try { fn(); return 'no error'; } catch (error) { return { heraldError: error instanceof HeraldError, code: error.code, message: error.message }; } };
console.log(JSON.stringify({
  sent,
  transport: refusal(() => createHeraldClient({ http, temporal: { client: {} } })),
  dataConverter: refusal(() => heraldDataConverter('k1:' + 'a'.repeat(43))),
}));
`,
    );
    const result = (await run(service, 'service.mjs', { url: herald.url, apiKey: TEST_API_KEY, userId })) as {
      sent: { id: string };
    };
    const missing = {
      heraldError: true,
      code: 'temporal_client_missing',
      message: expect.stringContaining('npm install @temporalio/client'),
    };
    expect(result).toEqual({
      sent: { id: expect.any(String), status: 'accepted', eventId: expect.any(String), replayed: false },
      transport: missing,
      dataConverter: missing,
    });
    expect((await waitForNotification(herald, result.sent.id)).status).toBe('delivered');
  });
});
