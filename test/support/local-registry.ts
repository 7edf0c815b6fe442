/**
 * An npm registry on 127.0.0.1 that serves the packages installed in this repository's node_modules, so a test can
 * `npm install` into an empty project the way a service would, without the network: what `npm ci` installed is all
 * there is to serve. The versions are the ones package-lock.json lists (nested copies included); a package's tarball
 * is its installed folder, packed (without its own node_modules, which are served as packages of their own).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { track } from './teardown';

export interface LocalRegistry {
  url: string;
  /** The packages whose metadata npm asked for, by name. */
  requested: Set<string>;
  stop(): Promise<void>;
}

interface LockEntry {
  version?: string;
  link?: boolean;
}

/** The packages in `root`'s lockfile and installed in its node_modules: name → version → folder. */
function installedPackages(root: string): Map<string, Map<string, string>> {
  const lock = JSON.parse(fs.readFileSync(path.join(root, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, LockEntry>;
  };
  const packages = new Map<string, Map<string, string>>();
  for (const [key, entry] of Object.entries(lock.packages)) {
    const at = key.lastIndexOf('node_modules/');
    if (at < 0 || entry.link || !entry.version) continue;
    const dir = path.join(root, key);
    if (!fs.existsSync(path.join(dir, 'package.json'))) continue; // an optional dependency for another platform
    const name = key.slice(at + 'node_modules/'.length);
    if (!packages.has(name)) packages.set(name, new Map());
    packages.get(name)!.set(entry.version, dir);
  }
  return packages;
}

interface Tarball {
  data: Buffer;
  integrity: string;
  shasum: string;
}

function pack(dir: string): Tarball {
  const data = execFileSync('tar', ['-cz', '--exclude=./node_modules', '--transform=s,^\\.,package,', '-C', dir, '.'], {
    maxBuffer: 256 * 1024 * 1024,
  });
  return {
    data,
    integrity: `sha512-${createHash('sha512').update(data).digest('base64')}`,
    shasum: createHash('sha1').update(data).digest('hex'),
  };
}

const MANIFEST_FIELDS = [
  'name',
  'version',
  'main',
  'bin',
  'dependencies',
  'optionalDependencies',
  'peerDependencies',
  'peerDependenciesMeta',
  'engines',
  'os',
  'cpu',
  'license',
];

export async function startLocalRegistry(root: string): Promise<LocalRegistry> {
  const packages = installedPackages(root);
  const tarballs = new Map<string, Tarball>();
  const requested = new Set<string>();
  let url = '';

  const tarballOf = (name: string, version: string): Tarball | undefined => {
    const key = `${name}@${version}`;
    if (!tarballs.has(key)) {
      const dir = packages.get(name)?.get(version);
      if (!dir) return undefined;
      tarballs.set(key, pack(dir));
    }
    return tarballs.get(key);
  };
  const fileName = (name: string, version: string) => `${name.split('/').pop()}-${version}.tgz`;

  const packument = (name: string) => {
    const versions: Record<string, unknown> = {};
    for (const [version, dir] of packages.get(name) ?? []) {
      const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as Record<string, unknown>;
      const tarball = tarballOf(name, version)!;
      versions[version] = {
        ...Object.fromEntries(MANIFEST_FIELDS.filter((f) => f in manifest).map((f) => [f, manifest[f]])),
        name,
        version,
        dist: {
          tarball: `${url}/${name}/-/${fileName(name, version)}`,
          integrity: tarball.integrity,
          shasum: tarball.shasum,
        },
      };
    }
    // The lockfile lists the top-level copy first: the one `npm install <name>` gets.
    const latest = [...(packages.get(name)?.keys() ?? [])][0];
    return { name, 'dist-tags': { latest }, versions };
  };

  const server = http.createServer((req, res) => {
    const pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://registry').pathname).slice(1);
    const tgz = /^(.+)\/-\/[^/]+-(\d[^/]*)\.tgz$/.exec(pathname);
    try {
      if (tgz) {
        const tarball = tarballOf(tgz[1]!, tgz[2]!);
        if (tarball) {
          res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(tarball.data);
          return;
        }
      } else if (packages.has(pathname)) {
        requested.add(pathname);
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(packument(pathname)));
        return;
      }
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'not found' }));
    } catch (error) {
      res.writeHead(500).end(String(error));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= new Promise<void>((resolve) => {
      forget();
      server.closeAllConnections();
      server.close(() => resolve());
    }));
  const forget = track('a local npm registry', stop);
  return { url, requested, stop };
}
