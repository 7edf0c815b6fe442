/**
 * `npm start` with a cold transpile cache (the first start after an install or an upgrade, and every container start)
 * transpiles Herald's sources with esbuild, whose worker thread and child process would otherwise idle for the life of
 * the process (platform/transpiler.ts). Once Herald is up, no esbuild process is left under it, not even a zombie.
 */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { childProcesses } from '../../platform/proc';
import { setUpNpmStart, type NpmStartSetup } from '../support/npm-start';
import { until } from '../support/until';

jest.setTimeout(240_000);

let setup: NpmStartSetup;
let child: ChildProcess | undefined;
let tmp: string;

beforeAll(async () => {
  setup = await setUpNpmStart('cold-start', 'cold-start-api-key-0123456789');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-cold-tmp-'));
  setup.env.TMPDIR = tmp;
});

afterAll(async () => {
  await setup?.cleanup(child);
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

it('leaves no esbuild process behind once started with a cold transpile cache', async () => {
  child = setup.start();
  await setup.waitReady(120_000);
  // It did transpile: tsx wrote its cache into the empty temporary folder.
  expect(fs.readdirSync(tmp).some((entry) => entry.startsWith('tsx-'))).toBe(true);
  // The dev server is the one child left (the release happens before the start-up banner, which follows readiness).
  await until('the start-up banner', async () => (setup.log().includes('Herald is up') ? true : undefined), {
    timeoutMs: 30_000,
  });
  expect(childProcesses(child.pid!).map(({ comm, state }) => ({ comm, state }))).toEqual([
    { comm: 'temporal', state: expect.not.stringMatching(/^Z$/) },
  ]);
  // And it goes on working.
  expect((await setup.api('PUT', '/v1/templates/cold', { channels: { sms: { body: 'hi' } } })).status).toBe(201);
});
