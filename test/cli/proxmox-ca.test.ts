/**
 * `store proxmox ca PATH`: the path must name a readable file of PEM certificates. A missing file,
 * a non-PEM file, a broken certificate, a directory and a FIFO are refused with exit 2 and a hint,
 * before any vault is created — the FIFO at once, without waiting for a writer.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, passphraseEnv, runCli, tempHome, vaultDir } from '../helpers/cli.js';
import { makeCerts, type TestCerts } from '../verify/certs.js';

let certs: TestCerts;
const home = tempHome('mcpt-ca-');
const files = join(home, 'files');

beforeAll(() => {
  ensureBuilt();
  certs = makeCerts();
  mkdirSync(files);
  writeFileSync(join(files, 'notes.txt'), 'just some text\n');
  writeFileSync(join(files, 'broken.pem'), '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n');
  mkdirSync(join(files, 'a-dir'));
  execFileSync('mkfifo', [join(files, 'fifo')]);
});
afterAll(() => certs?.cleanup());

describe('store proxmox ca', () => {
  it.each([
    ['a missing file', 'no-such-file.pem', 'no such file'],
    ['a file without a certificate', 'notes.txt', 'no PEM certificate in it'],
    ['a certificate that does not parse', 'broken.pem', 'a certificate in it does not parse'],
    ['a directory', 'a-dir', 'a directory'],
    ['a FIFO', 'fifo', 'not a regular file'],
  ])('refuses %s: exit 2 with a hint, no vault created', async (_label, name, problem) => {
    const path = join(files, name);
    const r = await runCli(['store', 'proxmox', 'ca', path], { home, env: passphraseEnv(home), timeoutMs: 20_000 });
    expect(r.signal).toBeNull(); // a FIFO must not hang it until the timeout
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`Invalid CA file ${path} (${problem})`);
    expect(r.stderr).toContain('hint: expected a readable PEM certificate file');
    expect(existsSync(vaultDir(home))).toBe(false);
  });

  it('accepts a PEM certificate file (and a bundle of several)', async () => {
    const bundle = join(files, 'bundle.pem');
    writeFileSync(bundle, `# two CAs\n${execFileSync('cat', [certs.caFile, certs.otherCaFile], { encoding: 'utf8' })}`);
    const env = passphraseEnv(home);
    for (const path of [certs.caFile, bundle]) {
      const r = await runCli(['store', 'proxmox', 'ca', path], { home, env });
      expect(r.code, r.stderr).toBe(0);
    }
  });
});
