/**
 * The newer writers (test/cli/writers-support.ts) against a backend move, in a private Secret
 * Service (test/cli/keychain-harness.ts), held deterministically at `before-lock` as in
 * race-keychain.test.ts. A writer held while the vault moves to the keychain either did its work
 * where the vault now is or was refused having written nothing — never an orphan entry file in
 * the directory the vault left; a move held while they all run carries everything they wrote
 * (links, imported values, the age identity) into the keychain.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { canary, passphraseEnv, tempHome, type CliOptions, type CliResult } from '../helpers/cli.js';
import { backendOf, entryFiles, keychainCli, requireKeyringOrSkip } from './keychain-harness.js';
import { holdAt, type Held } from './race-support.js';
import { SEALING, WRITERS, expectSeededIntact, expectWriterOutcome, observe, prepareWriters, writerArgs, type WriterName } from './writers-support.js';

const RUN = requireKeyringOrSkip();

describe.skipIf(!RUN)('newer writers racing a backend move (issue 10)', { timeout: 400_000 }, () => {
  const kc = keychainCli();
  let n = 0;

  const fresh = async () => {
    const home = tempHome('mcpt-race-kcw-');
    const dir = join(home, 'vault');
    const service = `mcp-tokens-racew-${++n}`;
    const env = { MCP_TOKENS_DIR: dir, MCP_TOKENS_KEYCHAIN_SERVICE: service, MCP_TOKENS_LOCK_TIMEOUT_MS: '120000', ...passphraseEnv(home) };
    const cli = (args: readonly string[], opts: CliOptions = {}): Promise<CliResult> => kc.run(args, { timeoutMs: 120_000, ...opts, env: { ...env, ...opts.env } });
    const hold = (args: readonly string[], opts: CliOptions = {}) => holdAt(kc.spawn, 'before-lock', args, { home: kc.home, ...opts, env: { ...env, ...opts.env } });
    const values = new Map(['k1', 'k2', 'k3'].map((s) => [s, canary()]));
    expect((await cli(['--backend', 'file', 'init', '--kdf', 'interactive'])).code).toBe(0);
    for (const [s, val] of values) expect((await cli(['store', s, 'secret', '-'], { input: val })).code).toBe(0);
    const setup = await prepareWriters(home, cli);
    return { dir, cli, hold, values, setup };
  };

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
});
