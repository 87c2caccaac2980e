// A throwaway self-signed certificate for 127.0.0.1 (its own CA), made with the openssl CLI, for
// the benchmarks' HTTPS/HTTP2 server: clients trust it through `tls.ca` (ours) or the remote's
// `tls-ca-path` (ostree).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function makeCertificate() {
  const dir = mkdtempSync(join(tmpdir(), 'ffetch-bench-tls-'));
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-sha256',
      '-days',
      '2',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-keyout',
      key,
      '-out',
      cert,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  return { dir, cert, key, pem: readFileSync(cert, 'utf8'), remove: () => rmSync(dir, { recursive: true, force: true }) };
}
