/**
 * A throwaway certificate authority and a server certificate for 127.0.0.1/localhost, made with
 * the `openssl` CLI, for tests and benchmarks that need a real TLS server (nginx serves
 * `serverCert`/`serverKey`; clients trust `caPem`, or `caCert` as a file: ostree's tls-ca-path,
 * NODE_EXTRA_CA_CERTS). Loaded by bench scripts too (erasable TypeScript only).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toolPath } from './toolPath.ts';

export interface TestCertificates {
  dir: string;
  /** PEM files. */
  caCert: string;
  serverCert: string;
  serverKey: string;
  /** The CA certificate's PEM text (for `tls.ca`). */
  caPem: string;
  remove(): void;
}

export function makeTestCertificates(): TestCertificates {
  const openssl = toolPath('openssl');
  if (openssl === null) throw new Error('openssl is not installed');
  const dir = mkdtempSync(join(tmpdir(), 'ffetch-tls-'));
  const f = (name: string) => join(dir, name);
  const run = (args: string[]) => execFileSync(openssl, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  run([
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-sha256',
    '-days',
    '2',
    '-subj',
    '/CN=flathub-fetch test CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
    '-keyout',
    f('ca.key'),
    '-out',
    f('ca.pem'),
  ]);
  run([
    'req',
    '-new',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-sha256',
    '-subj',
    '/CN=127.0.0.1',
    '-keyout',
    f('server.key'),
    '-out',
    f('server.csr'),
  ]);
  writeFileSync(
    f('server.ext'),
    'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n',
  );
  run([
    'x509',
    '-req',
    '-sha256',
    '-days',
    '2',
    '-in',
    f('server.csr'),
    '-CA',
    f('ca.pem'),
    '-CAkey',
    f('ca.key'),
    '-CAcreateserial',
    '-extfile',
    f('server.ext'),
    '-out',
    f('server.pem'),
  ]);
  return {
    dir,
    caCert: f('ca.pem'),
    serverCert: f('server.pem'),
    serverKey: f('server.key'),
    caPem: readFileSync(f('ca.pem'), 'utf8'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
