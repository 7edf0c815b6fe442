const ts = require('typescript');

/**
 * tsconfig.json's `paths` (the client SDK by its package name, the wire contract by its alias) as jest module names:
 * exact names first, then the `/*` patterns, so the mapping is written once, in tsconfig.json.
 */
function tsconfigPaths() {
  const { config } = ts.readConfigFile(`${__dirname}/tsconfig.json`, ts.sys.readFile);
  const entries = Object.entries(config.compilerOptions.paths);
  entries.sort(([a], [b]) => Number(a.includes('*')) - Number(b.includes('*')));
  return Object.fromEntries(
    entries.map(([name, [target]]) => [
      `^${name.replace('*', '(.*)')}$`,
      `<rootDir>/${target.replace(/^\.\//, '').replace('*', '$1')}`,
    ]),
  );
}

/** @type {import('jest').Config} */
module.exports = {
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json', diagnostics: { warnOnly: false } }] },
  testMatch: ['**/?(*.)test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/.data/', '/.venv/', '/dist/'],
  modulePathIgnorePatterns: ['<rootDir>/.data/', '<rootDir>/.venv/', '<rootDir>/dist/'],
  // The Vonage SDK requires uuid 13 and node-fetch 3, which are ESM only: Node loads them (require(esm)), jest's
  // module loader cannot. Their CommonJS predecessors (uuid 11, node-fetch 2) have the same v4() and fetch().
  moduleNameMapper: {
    ...tsconfigPaths(),
    '^uuid$': '<rootDir>/node_modules/uuid/dist/cjs/index.js',
    '^node-fetch$': '<rootDir>/node_modules/node-fetch/lib/index.js',
  },
  testTimeout: 60_000,
  // Closes what a test file left open (workers first, then servers) after its own hooks, so a failure ends the run.
  testEnvironment: '<rootDir>/test/support/jest-environment.ts',
  // A scratch folder for the run: one migrated embedded database and one workflow bundle, shared by every file.
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  // Two files at a time: every file has its own Temporal server, database and ports, and most of a file's time is
  // spent waiting on them, so two workers fill two cores.
  maxWorkers: 2,
};
