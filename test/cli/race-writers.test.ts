/**
 * The writers added after the first race tests (test/cli/writers-support.ts: services add/remove,
 * link/unlink, import, identity, export's log) against rekey, passwd, store and migrate (the
 * backend moves: race-writers-keychain.test.ts), and against each other. Deterministic, as in
 * race.test.ts: one side is held at `before-lock` (MCP_TOKENS_PAUSE) while the other runs to the
 * end. Each held command either did its whole work on the state it found under the lock, or was
 * refused with "the vault changed while this command waited" having written nothing; no
 * successful command's effect is lost, nothing is sealed under a dropped key, doctor is clean.
 *
 * Reading under the lock is what the "against each other" case proves: an import that planned
 * before the lock replaced a value stored meanwhile without --overwrite, and a link that looked
 * for a stored value before the lock linked over one.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { canary, ensureBuilt, githubClassic, passphraseEnv, runCli, spawnCli, tempHome, type CliOptions, type CliResult } from '../helpers/cli.js';
import { seedVault } from './support.js';
import { holdAt, type Held } from './race-support.js';
import { SEALING, WRITERS, expectNoDroppedKey, expectSeededIntact, expectWriterOutcome, makeBundle, observe, prepareWriters, printer, writerArgs, type WriterName, type WriterSetup } from './writers-support.js';

let home: string;
let dir: string;
let env: Record<string, string>;
let values: Map<string, string>;
let setup: WriterSetup;
const run = (args: readonly string[], extra: CliOptions = {}) => runCli(args, { home, timeoutMs: 120_000, ...extra, env: { ...env, ...extra.env } });
const hold = (args: readonly string[], extra: CliOptions = {}) => holdAt(spawnCli, 'before-lock', args, { home, ...extra, env: { ...env, ...extra.env } });

beforeEach(async () => {
  ensureBuilt();
  home = tempHome();
  env = { ...passphraseEnv(home), MCP_TOKENS_LOCK_TIMEOUT_MS: '120000' };
  values = new Map(['k1', 'k2', 'k3'].map((s) => [s, canary()]));
  dir = await seedVault(home, [...values].map(([s, v]) => [s, 'secret', v] as const));
  setup = await prepareWriters(home, run);
}, 180_000);

/** The other writers of the project rule, each with what it must leave. */
interface Other {
  args: string[];
  env?: Record<string, string>;
  input?: string;
  /** Check its own effect; may switch env (a new passphrase). */
  after(): Promise<void>;
}

function others(): Record<'rekey' | 'passwd' | 'store' | 'migrate', () => Other> {
  return {
    rekey: () => ({ args: ['rekey'], after: async () => undefined }),
    passwd: () => {
      const file = join(home, 'new-passphrase');
      writeFileSync(file, 'a new passphrase, long enough\n', { mode: 0o600 });
      return {
        args: ['passwd'],
        env: { MCP_TOKENS_NEW_PASSPHRASE_FILE: file },
        after: async () => {
          env = { ...env, MCP_TOKENS_PASSPHRASE_FILE: file };
        },
      };
    },
    store: () => {
      const v = canary();
      return { args: ['store', 'k3', 'secret', '-'], input: v, after: async () => void values.set('k3', v) };
    },
    migrate: () => {
      const token = githubClassic();
      const envFile = join(home, 'project.env');
      writeFileSync(envFile, `GITHUB_PERSONAL_ACCESS_TOKEN=${token}\n`, { mode: 0o600 });
      return {
        args: ['migrate', '--env-file', envFile, '--no-client-configs', '--no-projects'],
        after: async () => {
          const r = await run(['load', 'github', '--format', 'json']);
          expect(r.code, r.stderr).toBe(0);
          expect(JSON.parse(r.stdout)).toMatchObject({ GITHUB_PERSONAL_ACCESS_TOKEN: token });
          expect(readFileSync(envFile, 'utf8')).not.toContain(token);
        },
      };
    },
  };
}

async function runOther(o: Other): Promise<CliResult> {
  return run(o.args, { ...(o.env ? { env: o.env } : {}), ...(o.input !== undefined ? { input: o.input } : {}) });
}

/** Every writer's outcome, then the seeded values, doctor and the key ids of every sealed file. */
async function settle(results: Map<WriterName, CliResult>): Promise<Record<string, string>> {
  const seen = await observe(run, dir);
  const outcomes: Record<string, string> = {};
  for (const [w, r] of results) outcomes[w] = expectWriterOutcome(w, r, setup, seen);
  await expectSeededIntact(run, seen, values);
  expect(expectNoDroppedKey(dir)).toBeGreaterThan(0);
  return outcomes;
}

describe('new writers held while another writer runs (issue 10)', { timeout: 400_000 }, () => {
  for (const name of ['rekey', 'passwd', 'store', 'migrate'] as const) {
    it(`each new writer, held before the lock ‖ ${name}: done on the state it locked, or refused having written nothing`, async () => {
      // All held at once (started together: each start pays Node and a KDF).
      const held = new Map<WriterName, Held>(await Promise.all(WRITERS.map(async (w) => [w, await hold(writerArgs(w, setup))] as const)));
      const other = others()[name]();
      const r = await runOther(other);
      expect(r.code, r.stderr).toBe(0);
      await other.after();
      const results = new Map<WriterName, CliResult>(await Promise.all([...held].map(async ([w, h]) => [w, await h.release()] as const)));
      const outcomes = await settle(results);
      // A rekey replaced the key they unlocked: the sealing writers must refuse, the others (plain
      // JSON under the lock) succeed. passwd re-wraps the same key, store and migrate keep it: all done.
      const expected = Object.fromEntries(WRITERS.map((w) => [w, name === 'rekey' && SEALING.includes(w) ? 'refused' : 'done']));
      expect(outcomes).toEqual(expected);
    });

    it(`${name}, held before the lock ‖ each new writer: all of them done, ${name} too`, async () => {
      const other = others()[name]();
      const h = await hold(other.args, { ...(other.env ? { env: other.env } : {}), ...(other.input !== undefined ? { input: other.input } : {}) });
      // All at once: they also race each other for the lock.
      const results = new Map<WriterName, CliResult>(await Promise.all(WRITERS.map(async (w) => [w, await run(writerArgs(w, setup))] as const)));
      const r = await h.release();
      expect(r.code, r.stderr).toBe(0);
      await other.after();
      const outcomes = await settle(results);
      expect(Object.values(outcomes).every((o) => o === 'done'), JSON.stringify(outcomes)).toBe(true);
    });
  }

  it('the new writers against each other: no lost update, no conflict missed', async () => {
    // Held first, each with a twin that runs to the end in its window.
    const stored = canary();
    const linkedOver = canary();
    const second = await makeBundle(home, [{ service: 'imp2', key: 'secret', value: canary() }], 'second');
    const [svcA, linkA, importImp, linkStored, exportA] = await Promise.all([
      hold(['services', 'add', 'svc-a', '--field', 'api-key']),
      hold(['link', 'la', 'secret', '--', printer(home, 'la', 'value-of-la-0123')]),
      hold(['import', setup.bundle, '--identity', setup.idFile, '--new-services']),
      hold(['link', 'ls', 'secret', '--', printer(home, 'ls', 'value-of-ls-0123')]),
      hold(['export', 'k1', '--to', setup.recipient, '-o', join(home, 'a.age')]),
    ]);
    const held = { svcA: svcA!, linkA: linkA!, importImp: importImp!, linkStored: linkStored!, exportA: exportA! };
    const twins = await Promise.all([
      run(['services', 'add', 'svc-b', '--field', 'api-key']),
      run(['link', 'lb', 'secret', '--', printer(home, 'lb', 'value-of-lb-0123')]),
      run(['store', 'imp', 'secret', '-'], { input: stored }),
      run(['store', 'ls', 'secret', '-'], { input: linkedOver }),
      run(['export', 'k3', '--to', second.recipient, '-o', join(home, 'b.age')]),
    ]);
    for (const t of twins) expect(t.code, t.stderr).toBe(0);

    expect((await held.svcA.release()).code).toBe(0);
    expect((await held.linkA.release()).code).toBe(0);
    const imp = await held.importImp.release();
    expect(imp.code, imp.stderr).toBe(2); // a conflict with what was stored meanwhile: nothing imported
    expect(imp.stderr).toContain('would replace imp secret');
    const ls = await held.linkStored.release();
    expect(ls.code, ls.stderr).toBe(2);
    expect(ls.stderr).toContain('holds a stored value');
    expect((await held.exportA.release()).code).toBe(0);

    const seen = await observe(run, dir);
    expect([...seen.services]).toEqual(expect.arrayContaining(['svc-a', 'svc-b']));
    expect(seen.loaded).toMatchObject({ LA_SECRET: 'value-of-la-0123', LB_SECRET: 'value-of-lb-0123', IMP_SECRET: stored, LS_SECRET: linkedOver });
    expect(seen.exports.map((e) => e.join(',')).sort()).toEqual(['k1_secret', 'k3_secret']);
    await expectSeededIntact(run, seen, values);
    expectNoDroppedKey(dir);
  });
});

/**
 * The window before a writer's own reads: a rekey or passwd between the open and the first read
 * (import's plan of the services already there, identity's look for an identity). What such a read
 * meets is sealed under a key the command did not unlock: it must end as "the vault changed while
 * this command waited" (or succeed on a passwd, which keeps the key), never as a damaged vault.
 */
describe('writers held right after the open, before any read', { timeout: 400_000 }, () => {
  // services add/remove write services.json alone and never open the vault.
  const opening = WRITERS.filter((w) => !w.startsWith('services'));
  for (const name of ['rekey', 'passwd'] as const) {
    it(`each writer, held after the open ‖ ${name}: done, or refused having written nothing`, async () => {
      const held = new Map<WriterName, Held>(
        await Promise.all(opening.map(async (w) => [w, await holdAt(spawnCli, 'after-open', writerArgs(w, setup), { home, env })] as const)),
      );
      const other = others()[name]();
      const r = await runOther(other);
      expect(r.code, r.stderr).toBe(0);
      await other.after();
      const results = new Map<WriterName, CliResult>(await Promise.all([...held].map(async ([w, h]) => [w, await h.release()] as const)));
      const outcomes = await settle(results);
      const expected = Object.fromEntries(opening.map((w) => [w, name === 'rekey' && SEALING.includes(w) ? 'refused' : 'done']));
      expect(outcomes).toEqual(expected);
    });
  }
});
