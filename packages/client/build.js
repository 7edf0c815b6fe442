#!/usr/bin/env node
/**
 * Builds @herald/client into dist/: index.cjs (the CommonJS bundle), index.mjs (its ES module face) and index.d.ts / index.d.mts (one
 * declaration file for both). The wire contract — the schemas, ids, codec and workflow names the server uses — is
 * compiled into the bundles and the declarations from the server's own sources, found through the `@herald/contract/*`
 * paths of the root tsconfig.json (the one place that says where the contract lives), so the server and the SDK
 * cannot drift. Only zod stays an import; @temporalio/client (an optional peer) is required on first use of the
 * Temporal transport, and the codec's @temporalio/common and @temporalio/proto from @temporalio/client's installation
 * (src/temporal-peer.ts).
 */
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { generateDtsBundle } = require('dts-bundle-generator');
const esbuild = require('esbuild');

const dir = __dirname;
const out = path.join(dir, 'dist');
const tsconfig = path.join(dir, 'tsconfig.build.json');

/** Temporal's SDK is not bundled: a require, on first use, of the copy installed beside the service's Temporal client. */
const temporalPeers = {
  name: 'temporal-peers',
  setup(build) {
    build.onResolve({ filter: /^@temporalio\/(client|common|proto)$/ }, (args) => ({
      path: args.path,
      namespace: 'temporal-peer',
    }));
    build.onLoad({ filter: /.*/, namespace: 'temporal-peer' }, (args) => ({
      contents: `module.exports = require('./temporal-peer').requireTemporalPeer(${JSON.stringify(args.path)});`,
      resolveDir: path.join(dir, 'src'),
      loader: 'js',
    }));
    // The workflow definitions the transport reads names from are plain objects; @temporalio/workflow (for workers)
    // is not needed to make them.
    build.onResolve({ filter: /^@temporalio\/workflow$/ }, () => ({
      path: 'workflow',
      namespace: 'temporal-workflow',
    }));
    build.onLoad({ filter: /.*/, namespace: 'temporal-workflow' }, () => ({
      contents: ['signal', 'query', 'update']
        .map((type) => {
          const fn = `define${type[0].toUpperCase()}${type.slice(1)}`;
          return `export const ${fn} = (name, options = {}) => ({ type: '${type}', name, ...options });`;
        })
        .join('\n'),
      loader: 'js',
    }));
  },
};

function bundleCommonJs() {
  return esbuild.build({
    entryPoints: [path.join(dir, 'src', 'index.ts')],
    outfile: path.join(out, 'index.cjs'),
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: ['node20'],
    tsconfig,
    external: ['zod'],
    plugins: [temporalPeers],
    minifySyntax: true,
    legalComments: 'eof',
    // The codec's server half (never called by the SDK) resolves the worker's failure converter by path.
    logOverride: { 'require-resolve-not-external': 'silent' },
    logLevel: 'warning',
  });
}

/**
 * The ES module is the CommonJS bundle's named exports: one copy of the code (half the package), and one HeraldError
 * class for a service whose code both imports and requires the SDK.
 */
function esModule() {
  const names = Object.keys(require(path.join(out, 'index.cjs'))).filter((name) => name !== 'default');
  fs.writeFileSync(
    path.join(out, 'index.mjs'),
    `import herald from './index.cjs';\n\nexport const {\n${names.map((n) => `  ${n},\n`).join('')}} = herald;\nexport default herald;\n`,
  );
}

async function build() {
  fs.rmSync(out, { recursive: true, force: true });
  await bundleCommonJs();
  esModule();
  // One declaration file: the SDK's types and the contract's they are inferred from; zod and Temporal's stay imports.
  const [declarations] = generateDtsBundle(
    [{ filePath: path.join(dir, 'src', 'index.ts'), output: { noBanner: true, exportReferencedTypes: false } }],
    { preferredConfigPath: tsconfig },
  );
  fs.writeFileSync(path.join(out, 'index.d.ts'), declarations);
  fs.copyFileSync(path.join(out, 'index.d.ts'), path.join(out, 'index.d.mts'));
}

module.exports = { build };
if (require.main === module) {
  build().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
