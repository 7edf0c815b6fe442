/**
 * Herald runs from its TypeScript sources through tsx (`--require tsx/cjs` in package.json), which transpiles each
 * file with esbuild the first time it is loaded and keeps the result in a cache under the temporary folder. esbuild's
 * synchronous API does its work in a worker thread and an `esbuild --service` child process, and keeps both for as
 * long as the process lives: ≈25 MB idling once every module is loaded. That is every start with a cold cache: the
 * first after an install or an upgrade, and every start of a container, whose temporary folder starts empty.
 */
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { childProcesses, readProcStat } from './proc';

/**
 * Stops esbuild's child process and worker thread, if tsx started them; called once Herald has started. The child is
 * stopped first and its exit collected by the thread that started it (terminating the thread first would leave it a
 * zombie). A module loaded later (nothing on Herald's paths does) would start them again.
 */
export async function releaseTranspiler(): Promise<void> {
  const id = require.resolve('esbuild', { paths: [path.dirname(require.resolve('tsx/cjs'))] });
  const esbuild = require.cache[id]?.exports as { stop?: () => Promise<void> } | undefined;
  if (!esbuild?.stop) return;
  const children = childProcesses(process.pid).flatMap((child) => (child.comm === 'esbuild' ? [child.pid] : []));
  for (const pid of children) process.kill(pid, 'SIGTERM');
  for (let waited = 0; waited < 2_000 && children.some((pid) => readProcStat(pid)); waited += 20) {
    await sleep(20);
  }
  await esbuild.stop();
}
