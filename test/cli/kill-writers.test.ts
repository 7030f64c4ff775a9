/**
 * kill -9 in the middle of the writers added after kill.test.ts (issue 10): services add/remove,
 * link/unlink, import, identity and export's log. Each is killed by its own failpoint
 * (MCP_TOKENS_FAILPOINT, src/vault/failpoint.ts) at `write:<file>` (the new content whole in a
 * temp file, the file not yet replaced) or `wrote:<file>` (replaced, the lock still held). The
 * file is then the previous state or the new one, never half of either; the next command breaks
 * the dead process's lock at once and sweeps its temp file; doctor ends clean and nothing is
 * sealed under a key the vault does not hold.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { canary, ensureBuilt, passphraseEnv, runCli, tempHome, vaultDir, type CliOptions, type CliResult } from '../helpers/cli.js';
import { seedVault } from './support.js';
import { expectNoDroppedKey, makeBundle, printer } from './writers-support.js';

let home: string;
let dir: string;
let env: Record<string, string>;
const run = (args: readonly string[], extra: CliOptions = {}) =>
  runCli(args, { home, timeoutMs: 60_000, ...extra, env: { ...env, MCP_TOKENS_LOCK_TIMEOUT_MS: '20000', ...extra.env } });

beforeAll(async () => {
  ensureBuilt();
  home = tempHome();
  env = passphraseEnv(home);
  dir = await seedVault(home, [['k1', 'secret', canary()]]);
}, 120_000);

async function killedAt(step: string, args: readonly string[]): Promise<void> {
  const r = await run(args, { env: { MCP_TOKENS_FAILPOINT: step } });
  expect(r.signal, `${args.join(' ')} at ${step}: exit ${r.code} ${r.stderr}`).toBe('SIGKILL');
}

/**
 * The next command runs: the dead holder's lock is broken, not waited out. Its mtime is fresh, so
 * a command that judged it live would wait out MCP_TOKENS_LOCK_TIMEOUT_MS (20 s, far below the
 * 60 s heartbeat silence that lets a waiter break an unknown holder's lock) and exit 1 with LOCKED:
 * exit 0 is the proof, with no wall-clock bound to trip on a loaded machine.
 */
async function next(args: readonly string[], input?: string): Promise<CliResult> {
  const r = await run(args, input === undefined ? {} : { input });
  expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r;
}

const services = async () => {
  // services.json itself is whole JSON (old or new), never half written.
  JSON.parse(readFileSync(join(vaultDir(home), 'services.json'), 'utf8'));
  const r = await run(['services', '--json']);
  expect(r.code, r.stderr).toBe(0);
  return new Set((JSON.parse(r.stdout) as { service: string }[]).map((s) => s.service));
};
const load = async (service: string): Promise<string | number> => {
  const r = await run(['load', service, '--format', 'json']);
  return r.code === 0 ? Object.values(JSON.parse(r.stdout) as Record<string, string>)[0]! : (r.code ?? -1);
};
const exportLog = (): string[][] => {
  const meta = JSON.parse(readFileSync(join(vaultDir(home), 'metadata.json'), 'utf8')) as { exports?: { entries: string[] }[] };
  return (meta.exports ?? []).map((e) => e.entries);
};

describe('kill -9 in the middle of the newer writers (issue 10)', { timeout: 300_000 }, () => {
  it('services add / remove: services.json is the old or the new list, and the next command goes on', async () => {
    expect((await run(['services', 'add', 'svc-a', '--field', 'api-key'])).code).toBe(0);
    await killedAt('write:services.json', ['services', 'add', 'svc-b', '--field', 'api-key']);
    expect([...(await services())]).not.toContain('svc-b');
    expect([...(await services())]).toContain('svc-a');
    await next(['services', 'add', 'svc-b', '--field', 'api-key']);
    await killedAt('wrote:services.json', ['services', 'add', 'svc-c', '--field', 'api-key']);
    expect([...(await services())]).toEqual(expect.arrayContaining(['svc-a', 'svc-b', 'svc-c']));
    await killedAt('write:services.json', ['services', 'remove', 'svc-a']);
    expect([...(await services())]).toContain('svc-a');
    await next(['services', 'remove', 'svc-a']);
    await killedAt('wrote:services.json', ['services', 'remove', 'svc-b']);
    expect([...(await services())]).not.toContain('svc-b');
    await next(['services', 'remove', 'svc-c']);
    expect([...(await services())].filter((s) => s.startsWith('svc-'))).toEqual([]);
  });

  it('link / unlink: the sealed map of links is the old or the new one', async () => {
    const v1 = canary();
    const v2 = canary();
    const p1 = printer(home, 'kl1', v1);
    const p2 = printer(home, 'kl2', v2);
    await killedAt('write:mcp-tokens_links', ['link', 'kl1', 'secret', '--', p1]);
    expect(await load('kl1')).toBe(3);
    await next(['link', 'kl1', 'secret', '--', p1]);
    expect(await load('kl1')).toBe(v1);
    await killedAt('wrote:mcp-tokens_links', ['link', 'kl2', 'secret', '--', p2]);
    expect(await load('kl2')).toBe(v2);
    expect(await load('kl1')).toBe(v1);
    await killedAt('write:mcp-tokens_links', ['unlink', 'kl1', 'secret']);
    expect(await load('kl1')).toBe(v1);
    await next(['unlink', 'kl1', 'secret']);
    expect(await load('kl1')).toBe(3);
    expect(await load('kl2')).toBe(v2);
  });

  it('import: each value is stored whole or not at all; run again, the import completes', async () => {
    const a = canary();
    const b = canary();
    const { bundle, idFile } = await makeBundle(home, [{ service: 'ki1', key: 'secret', value: a }, { service: 'ki2', key: 'secret', value: b }], 'kill');
    await killedAt('write:ki1_secret', ['import', bundle, '--identity', idFile, '--new-services']);
    expect([await load('ki1'), await load('ki2')]).toEqual([3, 3]);
    await killedAt('write:ki2_secret', ['import', bundle, '--identity', idFile, '--new-services']);
    // Stored one by one under one lock: the first is in, the second not (never half of a file).
    expect([await load('ki1'), await load('ki2')]).toEqual([a, 3]);
    const again = await next(['import', bundle, '--identity', idFile, '--new-services']);
    expect(again.stderr).toContain('Imported ki2 secret');
    expect([await load('ki1'), await load('ki2')]).toEqual([a, b]);
  });

  it('identity: none or a whole one is kept; the next run makes or prints it', async () => {
    await killedAt('write:mcp-tokens_age-identity', ['identity']);
    const first = await next(['identity']);
    expect(first.stderr).toContain('Created an age identity');
    expect(first.stdout).toMatch(/^age1[0-9a-z]+\n$/);
    const again = await next(['identity']);
    expect(again.stdout).toBe(first.stdout);
  });

  it("export: its record in metadata.json is there whole or not at all", async () => {
    const recipient = (await next(['identity'])).stdout.trim();
    const before = exportLog().length;
    await killedAt('write:metadata.json', ['export', 'k1', '--to', recipient, '-o', join(home, 'kill-2.age')]);
    expect(exportLog().length).toBe(before);
    await next(['export', 'k1', '--to', recipient, '-o', join(home, 'kill-3.age')]);
    expect(exportLog().length).toBe(before + 1);
    await killedAt('wrote:metadata.json', ['export', 'k1', '--to', recipient, '-o', join(home, 'kill-4.age')]);
    expect(exportLog().length).toBe(before + 2);
  });

  it('afterwards: doctor is clean (no temp file, no lock left), nothing sealed under a dropped key', async () => {
    await next(['store', 'k2', 'secret', '-'], canary()); // a vault write sweeps what the kills left
    const d = await run(['doctor']);
    expect(d.code, d.stdout + d.stderr).toBe(0);
    expect(d.stdout + d.stderr).not.toMatch(/temporary file|lock|damaged|older key|\[error\]/);
    expect(expectNoDroppedKey(dir)).toBeGreaterThan(0);
  });
});
