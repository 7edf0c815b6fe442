/**
 * Herald's processes keep source maps for their own TypeScript and compile dependencies without theirs
 * (platform/source-maps.ts). Each case runs node as the npm scripts do (`--require tsx/cjs`, then the preload) and
 * asks node's own source-map cache (`module.findSourceMap`) what it kept.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { allSourceMapsRequested } from './source-maps';

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
 * Runs node with `requires` preloaded, as the npm scripts do, on a probe that loads a dependency and a Herald module
 * in the main thread and in a worker thread (the SDK's workflow thread is one), and reports what node kept.
 */
function run(requires: string[], env: NodeJS.ProcessEnv = {}) {
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
    const out = execFileSync(process.execPath, [...requires.flatMap((r) => ['--require', r]), script], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', ...env },
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
  it('keep Herald’s own TypeScript lines and drop the dependencies’ maps, in the main thread and in worker threads', () => {
    const result = run(['tsx/cjs', './scripts/preload.ts']);
    for (const thread of [result.main, result.worker]) {
      expect(thread.dependency).toBe(false);
      expect(thread.own).toBe(true);
      expect(thread.at).toContain(`npm-script.ts:${throwingLine}:`);
    }
  });

  it('without the preload, tsx alone makes node keep every dependency’s map (what the preload saves)', () => {
    const result = run(['tsx/cjs']);
    expect(result.main.dependency).toBe(true);
    expect(result.worker.dependency).toBe(true);
  });

  it('a process started with --enable-source-maps keeps every map', () => {
    const result = run(['tsx/cjs', './scripts/preload.ts'], { NODE_OPTIONS: '--enable-source-maps' });
    expect(result.main.dependency).toBe(true);
    expect(result.main.at).toContain(`npm-script.ts:${throwingLine}:`);
    expect(allSourceMapsRequested(['--enable-source-maps'], undefined)).toBe(true);
    expect(allSourceMapsRequested([], '--max-old-space-size=512 --enable-source-maps')).toBe(true);
    expect(allSourceMapsRequested(['--heap-growing-percent=25'], '')).toBe(false);
  });
});
