/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json', diagnostics: { warnOnly: false } }] },
  testMatch: ['**/?(*.)test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/.data/', '/.venv/', '/dist/'],
  modulePathIgnorePatterns: ['<rootDir>/.data/', '<rootDir>/.venv/', '<rootDir>/dist/'],
  // The client SDK is imported by its package name, as its users do; in this repository that is its source.
  moduleNameMapper: { '^herald/client$': '<rootDir>/client/index.ts' },
  testTimeout: 60_000,
};
