/**
 * jest's Node environment, plus one step at the end of every test file: whatever the file started and did not close
 * (test/support/teardown.ts keeps the list) is closed once all of its afterAll hooks have run. So a test that timed
 * out with a worker still polling cannot keep jest alive: the run ends, with the failure reported.
 *
 * It runs after the file's own hooks (an afterAll in a setup file would run before them), so a file's orderly
 * clean-up still comes first and this only closes what it missed.
 */
import type { Circus } from '@jest/types';
import NodeEnvironment from 'jest-environment-node';
import { CLOSE_ALL } from './teardown-key';

export default class HeraldTestEnvironment extends NodeEnvironment {
  async handleTestEvent(event: Circus.AsyncEvent | Circus.SyncEvent): Promise<void> {
    if (event.name !== 'run_finish') return;
    const closeAll = (this.global as unknown as Record<symbol, unknown>)[CLOSE_ALL] as
      (() => Promise<string[]>) | undefined;
    const left = (await closeAll?.()) ?? [];
    if (left.length > 0 && process.env.TEST_LOG_LEVEL === 'debug') {
      console.error(`test teardown: closed what the file left open: ${left.join(', ')}`);
    }
  }
}
