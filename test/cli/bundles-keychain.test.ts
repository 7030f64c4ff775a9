/**
 * Bundles across backends: a keychain vault (its own private Secret Service) and a file vault,
 * two HOMEs standing for two machines, exchanging bundles both ways with the README one-liner
 *   mcp-tokens export github hass --to "$(mcp-tokens identity)" | mcp-tokens import -
 * run by a real shell. The keychain vault's identity lives in the keychain, never in a file.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { BIN, canary, cliEnv, githubClassic, jwt, passphraseEnv, runCli, tempHome, vaultDir } from '../helpers/cli.js';
import { keychainCli, requireKeyringOrSkip } from './keychain-harness.js';
import { openVault, seedVault } from './support.js';

const RUN = requireKeyringOrSkip();

/** `sh -c script` with HOME_A/HOME_B and the CLI as $MT; returns code and both streams. */
function shell(script: string, env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', script], { env: { ...env, MT: `${process.execPath} ${BIN}` }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe.skipIf(!RUN)('bundles between a keychain vault and a file vault (two HOMEs)', () => {
  const kc = keychainCli();
  const secret = canary();
  const gh = githubClassic();
  const hassToken = jwt();
  // Made in beforeAll, not at collection: a skipped suite runs no hooks and would leave it behind.
  let fileHome = '';
  beforeAll(() => {
    fileHome = tempHome('mcpt-bundle-server-');
  });
  let fileEnv: Record<string, string>;

  it('keychain laptop → file-vault server with the README one-liner', async () => {
    for (const [s, k, v] of [['github', 'token', gh], ['hass', 'token', hassToken], ['hass', 'url', 'http://ha.local:8123'], ['canary', 'token', secret]] as const) {
      const r = await kc.run(['store', s, k, '-'], { input: v });
      expect(r.code, r.stderr).toBe(0);
    }
    await seedVault(fileHome, [['wikijs', 'url', 'https://wiki.example.org']]);
    fileEnv = passphraseEnv(fileHome);
    const env = { ...cliEnv(kc.home, kc.session().env), HOME: kc.home, ...fileEnv, SERVER: fileHome };
    // The server's commands run with HOME=$SERVER (in real life: ssh server …).
    const r = await shell('$MT export github hass --to "$(HOME=$SERVER $MT identity)" | HOME=$SERVER $MT import -', env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
    for (const s of [gh, hassToken, secret]) expect(r.stderr).not.toContain(s);
    const v = await openVault(vaultDir(fileHome));
    try {
      expect((await v.loadService('github')).values).toEqual({ token: gh });
      expect((await v.loadService('hass')).values).toEqual({ token: hassToken, url: 'http://ha.local:8123' });
      expect(await v.services()).toEqual(['github', 'hass', 'wikijs']);
    } finally {
      v.close();
    }
  });

  it('file-vault server → keychain laptop, the other way round', async () => {
    const env = { ...cliEnv(kc.home, kc.session().env), HOME: kc.home, ...fileEnv, SERVER: fileHome };
    const r = await shell('HOME=$SERVER $MT export wikijs --to "$($MT identity)" | $MT import -', env);
    expect(r.code, r.stderr).toBe(0);
    expect(await kc.lookup('wikijs/url')).toBe('https://wiki.example.org');
  });

  it("the keychain vault's identity is a keychain item, listed nowhere, never a file (only its public recipient is)", async () => {
    expect(await kc.lookup('mcp-tokens/age-identity')).toMatch(/^AGE-SECRET-KEY-1[0-9A-Z]+$/);
    // identity.pub: the public recipient, so `identity` needs no unlock; the secret is never on disk.
    expect(readdirSync(kc.dir).filter((n) => n.includes('identity'))).toEqual(['identity.pub']);
    expect(readFileSync(join(kc.dir, 'identity.pub'), 'utf8')).toMatch(/^age1[0-9a-z]+\n?$/);
    const list = await kc.run(['list', '--json']);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).not.toMatch(/mcp-tokens"|age-identity|AGE-SECRET/);
    const load = await kc.run(['load', 'all']);
    expect(load.code, load.stderr).toBe(0);
    expect(load.stdout).not.toContain('AGE-SECRET');
    expect(load.stdout).toContain(secret); // load prints values: the canary, but no identity
  });

  it('a bundle sealed to the file vault does not open on the keychain vault (exit 6)', async () => {
    const rServer = (await runCli(['identity'], { home: fileHome, env: fileEnv })).stdout.trim();
    const exp = await kc.run(['export', 'canary', '--to', rServer]);
    expect(exp.code, exp.stderr).toBe(0);
    const r = await kc.run(['import', '-'], { input: exp.stdoutBytes });
    expect(r.code).toBe(6);
    expect(r.stderr).not.toContain(secret);
  });
});
