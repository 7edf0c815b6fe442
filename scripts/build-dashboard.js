#!/usr/bin/env node
/**
 * Builds the operator dashboard (dashboard/) into dist/dashboard: one ES module bundle (app.js) with the chart
 * library and the client SDK's HTTP calls, one stylesheet (app.css), and the page. esbuild and uPlot are pinned in
 * package.json; nothing is fetched. Run by `npm run setup` (so by `npm start` and `npm test`) and by the Dockerfile.
 */
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const esbuild = require('esbuild');

const root = path.resolve(__dirname, '..');
const out = path.join(root, 'dist', 'dashboard');

function buildDashboard() {
  fs.mkdirSync(out, { recursive: true });
  esbuild.buildSync({
    entryPoints: { app: path.join(root, 'dashboard', 'main.ts') },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2022'],
    minify: true,
    sourcemap: false,
    legalComments: 'eof',
    outdir: out,
    tsconfig: path.join(root, 'dashboard', 'tsconfig.json'),
    logLevel: 'warning',
  });
  fs.copyFileSync(path.join(root, 'dashboard', 'index.html'), path.join(out, 'index.html'));
}

module.exports = { buildDashboard };
if (require.main === module) buildDashboard();
