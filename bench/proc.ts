/**
 * CPU time and memory of other processes, read from /proc (Linux only). Reading another process's counters costs
 * nothing in that process, so the numbers are the process's own work, whatever language it is written in.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { allProcesses, readProcStat } from '../platform/proc';

let ticksPerSecond: number | undefined;
function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** The pid and every live descendant of it. */
export function processTree(rootPid: number): number[] {
  const children = new Map<number, number[]>();
  for (const { pid, ppid } of allProcesses()) {
    const list = children.get(ppid) ?? [];
    list.push(pid);
    children.set(ppid, list);
  }
  const tree: number[] = [];
  const queue = [rootPid];
  while (queue.length > 0) {
    const pid = queue.shift()!;
    if (!readProcStat(pid)) continue;
    tree.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return tree;
}

/** CPU seconds (user + system) of these processes and the children they have reaped. */
export function cpuSeconds(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) ticks += readProcStat(pid)?.ticks ?? 0;
  return ticks / clockTicks();
}

/** CPU seconds of a process tree (root and live descendants). */
export function treeCpuSeconds(rootPid: number): number {
  return cpuSeconds(processTree(rootPid));
}

/** Resident set size of a process, in bytes (VmRSS); 0 when it is gone. */
export function rssBytes(pid: number): number {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Samples the summed RSS of process trees every `intervalMs` and keeps the peak. */
export function watchPeakRss(rootPids: () => number[], intervalMs = 200): { peak(): number; stop(): void } {
  let peak = 0;
  const sample = () => {
    let total = 0;
    for (const root of rootPids()) for (const pid of processTree(root)) total += rssBytes(pid);
    peak = Math.max(peak, total);
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  timer.unref();
  return {
    peak: () => peak,
    stop: () => clearInterval(timer),
  };
}
