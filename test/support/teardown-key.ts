/** Where test/support/teardown.ts leaves its closeAll() for the test environment (test/support/jest-environment.ts). */
export const CLOSE_ALL = Symbol.for('herald.test.closeAll');
