/**
 * Certificates made with the openssl CLI for the TLS tests: a self-signed server certificate
 * (Proxmox's default) and a small CA with a server certificate it signed. Fingerprints come from
 * `openssl x509 -fingerprint -sha256`, independently of the code under test.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCerts {
  readonly dir: string;
  readonly selfSigned: { key: string; cert: string; fingerprint: string };
  readonly caSigned: { key: string; cert: string };
  readonly caFile: string;
  /** A second, unrelated CA: trusting it must not make the server trusted. */
  readonly otherCaFile: string;
  cleanup(): void;
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function openssl(args: string[], cwd: string): string {
  return execFileSync('/usr/bin/openssl', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export function makeCerts(): TestCerts {
  const dir = mkdtempSync(join(tmpdir(), 'mcp-tokens-verify-'));
  const san = 'subjectAltName=IP:127.0.0.1,DNS:localhost';

  openssl(['req', '-x509', ...EC, '-keyout', 'self.key', '-out', 'self.crt', '-days', '2', '-subj', '/CN=pve-test', '-addext', san], dir);
  const fp = openssl(['x509', '-in', 'self.crt', '-noout', '-fingerprint', '-sha256'], dir);
  const fingerprint = fp.trim().split('=')[1]!;

  for (const name of ['ca', 'other-ca']) {
    openssl(
      ['req', '-x509', ...EC, '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '2', '-subj', `/CN=${name}`,
        '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
      dir,
    );
  }
  openssl(['req', ...EC, '-keyout', 'leaf.key', '-out', 'leaf.csr', '-subj', '/CN=pve-leaf'], dir);
  writeFileSync(join(dir, 'leaf.ext'), `${san}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n`);
  openssl(
    ['x509', '-req', '-in', 'leaf.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'leaf.crt', '-days', '2',
      '-extfile', 'leaf.ext'],
    dir,
  );

  const read = (f: string): string => readFileSync(join(dir, f), 'utf8');
  return {
    dir,
    selfSigned: { key: read('self.key'), cert: read('self.crt'), fingerprint },
    caSigned: { key: read('leaf.key'), cert: read('leaf.crt') },
    caFile: join(dir, 'ca.crt'),
    otherCaFile: join(dir, 'other-ca.crt'),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
