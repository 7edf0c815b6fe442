/**
 * Processes as Linux's /proc describes them (`/proc/<pid>/stat`). Elsewhere there are none to read: the functions
 * answer nothing rather than fail.
 */
import fs from 'node:fs';

export interface ProcStat {
  pid: number;
  /** The command name, as the kernel keeps it (at most 15 characters). */
  comm: string;
  /** R, S, D, Z (a zombie: exited, not yet collected by its parent), … */
  state: string;
  ppid: number;
  /** utime + stime + cutime + cstime in clock ticks: the process's own CPU and that of children it has reaped. */
  ticks: number;
}

/** The process's stat line, or undefined once it is gone (or without /proc). */
export function readProcStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may contain spaces and parentheses: it ends at the last closing parenthesis.
  const close = text.lastIndexOf(')');
  const fields = text.slice(close + 2).split(' ');
  const n = (i: number) => Number(fields[i]);
  return {
    pid,
    comm: text.slice(text.indexOf('(') + 1, close),
    state: fields[0] ?? '',
    ppid: n(1),
    ticks: n(11) + n(12) + n(13) + n(14),
  };
}

/** Every process there is now. */
export function allProcesses(): ProcStat[] {
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return [];
  }
  return entries.flatMap((entry) => {
    const pid = Number(entry);
    const stat = Number.isInteger(pid) && pid > 0 ? readProcStat(pid) : undefined;
    return stat ? [stat] : [];
  });
}

/** The processes whose parent is `pid`, zombies included. */
export function childProcesses(pid: number): ProcStat[] {
  return allProcesses().filter((stat) => stat.ppid === pid);
}
