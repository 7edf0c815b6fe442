/**
 * A throwaway certificate authority for fakes that must speak TLS (APNs is HTTP/2 over TLS only; an `https://`
 * endpoint of any provider). Made with the `openssl` CLI at test time so that no key material is checked in and
 * nothing expires in the repository.
 *
 *   const ca = await createTestCa();
 *   const { certPem, keyPem } = await ca.issue(['127.0.0.1', 'localhost']);
 *   // server: https.createServer({ cert: certPem, key: keyPem }); client: trust ca.caPem
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface IssuedCertificate {
  certPem: string;
  keyPem: string;
}

export interface TestCa {
  /** PEM of the CA certificate: what a client must trust. */
  caPem: string;
  /** A server certificate (P-256, serverAuth) whose subjectAltName lists every host name and IP address given. */
  issue(hostnames: string[]): Promise<IssuedCertificate>;
}

// One day either side keeps a machine whose clock is slightly off from rejecting the certificate as not yet valid.
const DAYS = '2';

async function withTempDir<T>(work: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'herald-tls-'));
  try {
    return await work(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function newKey(path: string): Promise<void> {
  await run('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-out', path]);
}

export async function createTestCa(commonName = 'Herald Test CA'): Promise<TestCa> {
  const { caPem, caKeyPem } = await withTempDir(async (dir) => {
    const keyPath = join(dir, 'ca.key');
    const certPath = join(dir, 'ca.pem');
    await newKey(keyPath);
    await run('openssl', [
      'req',
      '-x509',
      '-new',
      '-key',
      keyPath,
      '-out',
      certPath,
      '-days',
      DAYS,
      '-subj',
      `/CN=${commonName}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ]);
    return { caPem: await readFile(certPath, 'utf8'), caKeyPem: await readFile(keyPath, 'utf8') };
  });

  const issue = (hostnames: string[]): Promise<IssuedCertificate> => {
    const [first] = hostnames;
    if (first === undefined) throw new Error('issue() needs at least one host name');
    return withTempDir(async (dir) => {
      const caKeyPath = join(dir, 'ca.key');
      const caCertPath = join(dir, 'ca.pem');
      const keyPath = join(dir, 'leaf.key');
      const csrPath = join(dir, 'leaf.csr');
      const certPath = join(dir, 'leaf.pem');
      const extPath = join(dir, 'leaf.ext');
      const altNames = hostnames.map((name) => (isIP(name) ? `IP:${name}` : `DNS:${name}`)).join(',');
      await writeFile(caKeyPath, caKeyPem, { mode: 0o600 });
      await writeFile(caCertPath, caPem);
      await writeFile(
        extPath,
        [
          'basicConstraints=critical,CA:FALSE',
          'keyUsage=critical,digitalSignature',
          'extendedKeyUsage=serverAuth',
          `subjectAltName=${altNames}`,
          '',
        ].join('\n'),
      );
      await newKey(keyPath);
      await run('openssl', ['req', '-new', '-key', keyPath, '-out', csrPath, '-subj', `/CN=${first}`]);
      await run('openssl', [
        'x509',
        '-req',
        '-in',
        csrPath,
        '-CA',
        caCertPath,
        '-CAkey',
        caKeyPath,
        // A random serial avoids the CA serial file and duplicate serials across issued certificates.
        '-set_serial',
        `0x${randomBytes(8).toString('hex')}`,
        '-days',
        DAYS,
        '-extfile',
        extPath,
        '-out',
        certPath,
      ]);
      return { certPem: await readFile(certPath, 'utf8'), keyPem: await readFile(keyPath, 'utf8') };
    });
  };

  return { caPem, issue };
}
