/**
 * The newer writers (test/cli/writers-support.ts) against a backend move, in a private Secret
 * Service (test/cli/keychain-harness.ts), held deterministically at `before-lock` as in
 * race-keychain.test.ts. A writer held while the vault moves to the keychain either did its work
 * where the vault now is or was refused having written nothing — never an orphan entry file in
 * the directory the vault left; a move held while they all run carries everything they wrote
 * (links, imported values, the age identity) into the keychain. The same both ways: a keychain
 * vault moving to files (`backend file`) leaves no item of its service behind in the keychain.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { canary, passphraseEnv, tempHome, type CliOptions, type CliResult } from '../helpers/cli.js';
import { backendOf, entryFiles, keychainCli, keychainServiceOf, requireKeyringOrSkip } from './keychain-harness.js';
import { holdAt, type Held } from './race-support.js';
import { SEALING, WRITERS, expectNoDroppedKey, expectSeededIntact, expectWriterOutcome, observe, prepareWriters, writerArgs, type WriterName } from './writers-support.js';

const RUN = requireKeyringOrSkip();

describe.skipIf(!RUN)('newer writers racing a backend move (issue 10)', { timeout: 400_000 }, () => {
  const kc = keychainCli();
  let n = 0;

  const fresh = async (backend: 'file' | 'keychain' = 'file') => {
    const home = tempHome('mcpt-race-kcw-');
    const dir = join(home, 'vault');
    const service = `mcp-tokens-racew-${++n}`;
    const env = { MCP_TOKENS_DIR: dir, MCP_TOKENS_KEYCHAIN_SERVICE: service, MCP_TOKENS_LOCK_TIMEOUT_MS: '120000', ...passphraseEnv(home) };
    const cli = (args: readonly string[], opts: CliOptions = {}): Promise<CliResult> => kc.run(args, { timeoutMs: 120_000, ...opts, env: { ...env, ...opts.env } });
    const hold = (args: readonly string[], opts: CliOptions = {}, step = 'before-lock') => holdAt(kc.spawn, step, args, { home: kc.home, ...opts, env: { ...env, ...opts.env } });
    const values = new Map(['k1', 'k2', 'k3'].map((s) => [s, canary()]));
    expect((await cli(['--backend', backend, 'init', '--kdf', 'interactive'])).code).toBe(0);
    for (const [s, val] of values) expect((await cli(['store', s, 'secret', '-'], { input: val })).code).toBe(0);
    expect(backendOf(dir)).toBe(backend);
    const setup = await prepareWriters(home, cli);
    return { dir, service, cli, hold, values, setup };
  };

  /**
   * Accounts the keychain holds under the vault's keychain service: `secret-tool search --all`,
   * which prints each item's attributes on stderr (and nothing, exit 1, when none matches).
   */
  const keychainAccounts = (service: string): Promise<string[]> =>
    new Promise((resolve) => {
      execFile('secret-tool', ['search', '--all', 'service', service], { env: { ...process.env, ...kc.session().env }, timeout: 10_000 }, (_err, stdout, stderr) =>
        resolve([...`${stdout}\n${stderr}`.matchAll(/^attribute\.username = (.*)$/gm)].map((m) => m[1]!).sort()),
      );
    });

  it('each newer writer, held before the lock ‖ backend keychain: done in the keychain, or refused; no orphan file', async () => {
    const v = await fresh();
    const held = new Map<WriterName, Held>(await Promise.all(WRITERS.map(async (w) => [w, await v.hold(writerArgs(w, v.setup))] as const)));
    const mv = await v.cli(['backend', 'keychain']);
    expect(mv.code, mv.stderr).toBe(0);
    const results = new Map<WriterName, CliResult>(await Promise.all([...held].map(async ([w, h]) => [w, await h.release()] as const)));
    expect(backendOf(v.dir)).toBe('keychain');
    expect(entryFiles(v.dir), 'no entry file left in a keychain vault').toEqual([]);
    const seen = await observe(v.cli, v.dir);
    const outcomes = Object.fromEntries([...results].map(([w, r]) => [w, expectWriterOutcome(w, r, v.setup, seen)]));
    // The sealing writers unlocked a file vault that has moved: refused. services.json and the export log are plain files: done.
    expect(outcomes).toEqual(Object.fromEntries(WRITERS.map((w) => [w, SEALING.includes(w) ? 'refused' : 'done'])));
    await expectSeededIntact(v.cli, seen, v.values);
  });

  it('backend keychain, held before the lock ‖ each newer writer: all done, and the move carries what they wrote', async () => {
    const v = await fresh();
    const mv = await v.hold(['backend', 'keychain']);
    const results = new Map<WriterName, CliResult>(await Promise.all(WRITERS.map(async (w) => [w, await v.cli(writerArgs(w, v.setup))] as const)));
    const r = await mv.release();
    expect(r.code, r.stderr).toBe(0);
    expect(backendOf(v.dir)).toBe('keychain');
    expect(entryFiles(v.dir), 'no entry file left in a keychain vault').toEqual([]);
    const seen = await observe(v.cli, v.dir);
    for (const [w, res] of results) expect(expectWriterOutcome(w, res, v.setup, seen), w).toBe('done');
    await expectSeededIntact(v.cli, seen, v.values);
  });

  it('each newer writer, held before the lock ‖ backend file: done in the files, or refused; no keychain item left', async () => {
    const v = await fresh('keychain');
    const svc = keychainServiceOf(v.dir, v.service);
    expect(await keychainAccounts(svc), 'the seeded keychain vault is seen by secret-tool').toContain('k1/secret');
    const held = new Map<WriterName, Held>(await Promise.all(WRITERS.map(async (w) => [w, await v.hold(writerArgs(w, v.setup))] as const)));
    const mv = await v.cli(['backend', 'file', '--kdf', 'interactive']);
    expect(mv.code, mv.stderr).toBe(0);
    const results = new Map<WriterName, CliResult>(await Promise.all([...held].map(async ([w, h]) => [w, await h.release()] as const)));
    expect(backendOf(v.dir)).toBe('file');
    expect(await keychainAccounts(svc), 'no keychain item left by a file vault').toEqual([]);
    const seen = await observe(v.cli, v.dir);
    const outcomes = Object.fromEntries([...results].map(([w, r]) => [w, expectWriterOutcome(w, r, v.setup, seen)]));
    // The sealing writers unlocked a keychain vault that has moved: refused. services.json and the export log are plain files: done.
    expect(outcomes).toEqual(Object.fromEntries(WRITERS.map((w) => [w, SEALING.includes(w) ? 'refused' : 'done'])));
    await expectSeededIntact(v.cli, seen, v.values);
    expect(expectNoDroppedKey(v.dir), 'sealed files looked at').toBeGreaterThan(0);
  });

  it('backend file, held before the lock ‖ each newer writer: all done, and the move carries what they wrote into the files', async () => {
    const v = await fresh('keychain');
    const svc = keychainServiceOf(v.dir, v.service);
    const mv = await v.hold(['backend', 'file', '--kdf', 'interactive']);
    const results = new Map<WriterName, CliResult>(await Promise.all(WRITERS.map(async (w) => [w, await v.cli(writerArgs(w, v.setup))] as const)));
    const r = await mv.release();
    expect(r.code, r.stderr).toBe(0);
    expect(backendOf(v.dir)).toBe('file');
    expect(await keychainAccounts(svc), 'no keychain item left by a file vault').toEqual([]);
    const seen = await observe(v.cli, v.dir);
    for (const [w, res] of results) expect(expectWriterOutcome(w, res, v.setup, seen), w).toBe('done');
    await expectSeededIntact(v.cli, seen, v.values);
    expect(expectNoDroppedKey(v.dir), 'sealed files looked at').toBeGreaterThan(0);
  });

  // Held earlier, right after the open: before import's plan and identity's look read anything.
  // services add/remove write services.json alone and never open the vault.
  const opening = WRITERS.filter((w) => !w.startsWith('services'));
  for (const to of ['keychain', 'file'] as const) {
    it(`each writer that opens the vault, held right after the open ‖ backend ${to}: done where the vault is, or refused`, async () => {
      const v = await fresh(to === 'keychain' ? 'file' : 'keychain');
      const held = new Map<WriterName, Held>(await Promise.all(opening.map(async (w) => [w, await v.hold(writerArgs(w, v.setup), {}, 'after-open')] as const)));
      const mv = await v.cli(to === 'file' ? ['backend', 'file', '--kdf', 'interactive'] : ['backend', 'keychain']);
      expect(mv.code, mv.stderr).toBe(0);
      const results = new Map<WriterName, CliResult>(await Promise.all([...held].map(async ([w, h]) => [w, await h.release()] as const)));
      expect(backendOf(v.dir)).toBe(to);
      const seen = await observe(v.cli, v.dir);
      const outcomes = Object.fromEntries([...results].map(([w, r]) => [w, expectWriterOutcome(w, r, v.setup, seen)]));
      expect(outcomes).toEqual(Object.fromEntries(opening.map((w) => [w, SEALING.includes(w) ? 'refused' : 'done'])));
      await expectSeededIntact(v.cli, seen, v.values);
    });
  }
});
