/**
 * Herald's processes run without source maps unless started with `--enable-source-maps` (platform/source-maps.ts).
 * Each case runs node as `npm start` does (package.json's own line) and asks node's own source-map
 * cache (`module.findSourceMap`) what it kept, and where a stack frame of a Herald file points.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { npmScriptCommand } from '../test/support/npm-script';
import { sourceMapsRequested } from './source-maps';

const ROOT = path.resolve(__dirname, '..');

interface Probe {
  /** node kept the source map of a dependency (@temporalio/common ships one). */
  dependency: boolean;
  /** node kept the source map of a Herald TypeScript file. */
  own: boolean;
  /** The stack frame of an error thrown in that file. */
  at: string;
}

/**
 * Runs node as `npm start` does (package.json's line: its environment, V8 flags and preloads; `withPreload: false`
 * drops scripts/preload.ts) on a probe that loads a dependency and a Herald module in the main thread and in a worker
 * thread (the SDK's workflow thread is one), and reports what node kept.
 */
function run({ withPreload = true, env = {} }: { withPreload?: boolean; env?: Record<string, string> } = {}) {
  const command = npmScriptCommand('start');
  // Everything before the script itself, without the preload if asked.
  const flags = command.nodeArgs
    .slice(0, -1)
    .filter((arg, i, all) => withPreload || (arg !== './scripts/preload.ts' && all[i + 1] !== './scripts/preload.ts'));
  if (withPreload) expect(flags).toContain('./scripts/preload.ts');
  const script = path.join(ROOT, 'dist', `source-maps-probe-${process.pid}.js`);
  fs.mkdirSync(path.dirname(script), { recursive: true });
  fs.writeFileSync(
    script,
    `const { findSourceMap } = require('node:module');
const { Worker, isMainThread, parentPort } = require('node:worker_threads');
function probe() {
  const dependency = require.resolve('@temporalio/common', { paths: [${JSON.stringify(ROOT)}] });
  require(dependency);
  const own = ${JSON.stringify(path.join(ROOT, 'test', 'support', 'npm-script.ts'))};
  let at = '';
  try { require(own).npmScriptCommand('no-such-script'); } catch (error) { at = error.stack.split('\\n')[1]; }
  return { dependency: Boolean(findSourceMap(dependency)), own: Boolean(findSourceMap(own)), at };
}
if (isMainThread) {
  const main = probe();
  const worker = new Worker(__filename);
  worker.once('message', (inWorker) => console.log(JSON.stringify({ main, worker: inWorker })));
} else {
  parentPort.postMessage(probe());
}
`,
  );
  try {
    const out = execFileSync(process.execPath, [...flags, script], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', ...command.env, ...env },
      encoding: 'utf8',
    });
    return JSON.parse(out.trim().split('\n').at(-1)!) as Record<'main' | 'worker', Probe>;
  } finally {
    fs.rmSync(script, { force: true });
  }
}

// The line of npm-script.ts that throws for an unknown script: where a Herald stack frame must point.
const throwingLine =
  fs
    .readFileSync(path.join(ROOT, 'test', 'support', 'npm-script.ts'), 'utf8')
    .split('\n')
    .findIndex((line) => line.includes('has no script')) + 1;

jest.setTimeout(60_000);

describe('source maps in Herald processes', () => {
  it('are off in the main thread and in worker threads: no map kept, a frame still names the function and the file', () => {
    const result = run();
    for (const thread of [result.main, result.worker]) {
      expect(thread.dependency).toBe(false);
      expect(thread.own).toBe(false);
      expect(thread.at).toMatch(/npmScriptCommand .*npm-script\.ts:\d+:\d+/);
      expect(thread.at).not.toContain(`npm-script.ts:${throwingLine}:`);
    }
  });

  it('without the preload, tsx makes node keep every map (what the preload saves)', () => {
    const result = run({ withPreload: false });
    for (const thread of [result.main, result.worker]) {
      expect(thread.dependency).toBe(true);
      expect(thread.own).toBe(true);
    }
  });

  it('a process started with --enable-source-maps keeps them, and its frames point at the TypeScript line', () => {
    const result = run({ env: { NODE_OPTIONS: '--enable-source-maps' } });
    for (const thread of [result.main, result.worker]) {
      expect(thread.own).toBe(true);
      expect(thread.at).toContain(`npm-script.ts:${throwingLine}:`);
    }
    expect(sourceMapsRequested(['--enable-source-maps'], undefined)).toBe(true);
    expect(sourceMapsRequested([], '--max-old-space-size=512 --enable-source-maps')).toBe(true);
    expect(sourceMapsRequested(['--heap-growing-percent=25'], '')).toBe(false);
  });
});
