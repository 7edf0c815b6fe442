import { spawn } from 'node:child_process';
import { childProcesses, readProcStat } from './proc';

describe('/proc', () => {
  it('reads a process: its command name, parent and state; nothing once it is gone', async () => {
    const self = readProcStat(process.pid)!;
    expect(self).toMatchObject({ pid: process.pid, ppid: process.ppid, state: expect.stringMatching(/^[RS]$/) });
    expect(self.ticks).toBeGreaterThan(0);

    const child = spawn('sleep', ['30']);
    try {
      expect(childProcesses(process.pid)).toContainEqual(
        expect.objectContaining({ pid: child.pid, comm: 'sleep', ppid: process.pid }),
      );
    } finally {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill();
      await exited;
    }
    expect(readProcStat(child.pid!)).toBeUndefined();
    expect(childProcesses(process.pid).map((c) => c.pid)).not.toContain(child.pid);
  });
});
