import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';

const nodeBuiltins = [
  'assert',
  'buffer',
  'child_process',
  'cluster',
  'crypto',
  'dgram',
  'dns',
  'events',
  'fs',
  'fs/promises',
  'http',
  'http2',
  'https',
  'net',
  'os',
  'path',
  'perf_hooks',
  'process',
  'readline',
  'stream',
  'tls',
  'url',
  'util',
  'v8',
  'vm',
  'worker_threads',
  'zlib',
];

export default tseslint.config(
  { ignores: ['node_modules/', '.venv/', '.data/', 'dist/', 'generated/', 'coverage/', '**/*.js', '**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    plugins: { 'import-x': importX },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'import-x/no-cycle': 'error',
    },
  },
  {
    // Workflows are deterministic orchestration: no Node built-ins, no I/O, no activity code (types only).
    files: ['workflows/**/*.ts'],
    ignores: ['workflows/**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.flatMap((name) => [
            { name, message: 'Workflows must be deterministic: no Node built-ins.' },
            { name: `node:${name}`, message: 'Workflows must be deterministic: no Node built-ins.' },
          ]),
          patterns: [
            {
              group: ['../activities', '../activities/*', '../../activities/*', '../lib/*', '../api/*', '@prisma/*'],
              allowTypeImports: true,
              message: 'Workflows import activity types only (import type).',
            },
          ],
        },
      ],
    },
  },
  {
    // The dashboard runs in the browser: no Node built-ins, and only the client SDK's HTTP modules (no Temporal, no codec).
    files: ['dashboard/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.flatMap((name) => [
            { name, message: 'The dashboard runs in the browser: no Node built-ins.' },
            { name: `node:${name}`, message: 'The dashboard runs in the browser: no Node built-ins.' },
          ]),
          patterns: [
            {
              group: [
                '../client/index',
                '../../client/index',
                '../client/temporal.transport',
                '../contract/codec',
                '../contract/ids',
              ],
              message: 'Node-only modules: the dashboard uses the HTTP transport and its call modules.',
            },
          ],
        },
      ],
    },
  },
);
