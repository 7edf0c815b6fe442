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

/**
 * The house plan (README "Architecture"): imports only run down. server/ (composition roots) → api/, the SDK →
 * workflows/ → activities/ → domain/ → platform/, contract/ → prisma/. Tests, scripts and bench may import anything.
 */
const layers = ['server', 'api', 'client', 'workflows', 'activities', 'domain', 'platform', 'contract', 'dashboard'];
const below = {
  server: [],
  api: ['server', 'client', 'workflows', 'activities'],
  client: ['server', 'api', 'workflows', 'activities', 'domain', 'platform', 'prisma', 'generated'],
  // workflows/ import activity types only: the no-restricted-imports rule below.
  workflows: ['server', 'api', 'client', 'domain', 'platform', 'prisma', 'generated'],
  activities: ['server', 'api', 'client', 'workflows'],
  domain: ['server', 'api', 'client', 'workflows', 'activities'],
  platform: ['server', 'api', 'client', 'workflows', 'activities', 'domain'],
  contract: ['server', 'api', 'client', 'workflows', 'activities', 'domain', 'platform', 'prisma', 'generated'],
  dashboard: ['server', 'api', 'workflows', 'activities', 'domain', 'platform', 'prisma', 'generated'],
};
/** Pure parsers of provider webhooks live in their provider's folder; the API's webhook routes read them. */
const webhookParsers = ['./providers/email/sendgrid/sendgrid.webhook.ts', './providers/sms/twilio/twilio.webhook.ts'];
/** Where a layer lives when it is not the folder of its name: the SDK is its own workspace package. */
const folder = (layer) => (layer === 'client' ? './packages/client/src' : `./${layer}`);
const boundaryZones = layers.flatMap((layer) =>
  below[layer].map((from) => ({
    target: folder(layer),
    from: folder(from),
    ...(layer === 'api' && from === 'activities' ? { except: webhookParsers } : {}),
    message: `${layer}/ must not import ${from}/: imports only run down (README "Architecture").`,
  })),
);

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      '.venv/',
      '.data/',
      'dist/',
      '**/dist/',
      'generated/',
      'coverage/',
      '**/*.js',
      '**/*.mjs',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    plugins: { 'import-x': importX },
    // Resolves relative imports to .ts files, so the path rules (no-cycle, no-restricted-paths) see them.
    settings: { 'import-x/resolver-next': [importX.createNodeResolver({ extensions: ['.ts', '.js', '.json'] })] },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'import-x/no-cycle': 'error',
    },
  },
  {
    // The rooms and their order: no arrow runs back up. Tests are wiring, like the composition roots.
    files: ['**/*.ts'],
    ignores: ['**/*.test.ts', 'test/**', 'scripts/**', 'bench/**'],
    rules: { 'import-x/no-restricted-paths': ['error', { basePath: import.meta.dirname, zones: boundaryZones }] },
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
              group: ['../activities', '../activities/*', '../../activities/*', '@prisma/*'],
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
                '@herald/client',
                '../packages/client/src/index',
                '../../packages/client/src/index',
                '../packages/client/src/temporal.transport',
                '../packages/client/src/temporal-peer',
                '@herald/contract/codec',
                '@herald/contract/ids',
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
