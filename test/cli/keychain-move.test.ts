/**
 * `mcp-tokens backend file|keychain` through the built CLI, inside a private Secret Service.
 * Every test uses its own vault directory and its own keychain service name, so each starts
 * from an empty keychain. The kill -9 cases use MCP_TOKENS_FAILPOINT (the process sends itself
 * SIGKILL at a named step of src/vault/move.ts) and one kill from outside at an unknown moment.
 *
 * "Readable from exactly one backend" is checked the strict way: vault.json names a backend,
 * that backend holds every value (read directly, not only through mcp-tokens), and the other
 * backend holds nothing — or, while a move is pending, only the copies move.json lists.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSPHRASE, githubClassic, jwt, passphraseEnv, tempHome, type CliOptions } from '../helpers/cli.js';
import { Vault } from '../../src/vault/vault.js';
import { backendOf, entryFiles, keychainCli, keychainServiceOf, noBusEnv, requireKeyringOrSkip } from './keychain-harness.js';
import { snapshot } from './support.js';

const RUN = requireKeyringOrSkip();

type Values = Record<string, string>; // account (service/key) → value

describe.skipIf(!RUN)('backend moves between the keychain and encrypted files', () => {
  const kc = keychainCli();
  // Made in beforeAll, not at collection: a skipped suite runs no hooks and would leave it behind.
  let noBus = '';
  beforeAll(() => {
    noBus = mkdtempSync(join(tmpdir(), 'mcpt-move-nobus-'));
  });
  afterAll(() => noBus && rmSync(noBus, { recursive: true, force: true }));
  let n = 0;

  /** A fresh vault dir + keychain service; cli() runs with both and a passphrase file. */
  const fresh = () => {
    const home = tempHome('mcpt-move-');
    const dir = join(home, 'vault');
    const service = `mcp-tokens-move-${++n}`;
    const env = { MCP_TOKENS_DIR: dir, MCP_TOKENS_KEYCHAIN_SERVICE: service, ...passphraseEnv(home) };
    const cli = (args: string[], opts: CliOptions = {}) => kc.run(args, { ...opts, env: { ...env, ...opts.env } });
    const lookup = (account: string) => kc.lookup(account, keychainServiceOf(dir, service));
    return { home, dir, service, env, cli, lookup };
  };
  type Fresh = ReturnType<typeof fresh>;

  /** Store the values (the first store creates the vault on `backend`), plus one older github value. */
  const seed = async (v: Fresh, backend: 'keychain' | 'file'): Promise<{ values: Values; oldGithub: string }> => {
    const values: Values = {
      'github/token': githubClassic(),
      'hass/url': 'http://127.0.0.1:8123',
      'hass/token': jwt(),
      'wikijs/url': 'https://wiki.example.test/',
      'wikijs/token': jwt(),
    };
    const oldGithub = githubClassic();
    // Seeded in-process (one KDF run, no process per store); the move itself runs the binary.
    Object.assign(process.env, { DBUS_SESSION_BUS_ADDRESS: kc.session().env['DBUS_SESSION_BUS_ADDRESS'] });
    const passphrase = async () => new TextEncoder().encode(PASSPHRASE);
    const vault = await Vault.open({ dir: v.dir, backend, kdf: 'interactive', passphrase, keychainService: v.service }, { create: true });
    try {
      for (const [account, value] of [['github/token', oldGithub] as const, ...Object.entries(values)]) {
        const [service, key] = account.split('/') as [string, string];
        await vault.store(service, key, value);
      }
    } finally {
      vault.close();
    }
    expect(backendOf(v.dir)).toBe(backend);
    return { values, oldGithub };
  };

  /** What each backend holds, read directly: keychain via secret-tool, files by name. */
  const holdings = async (v: Fresh, values: Values) => {
    const inKeychain: string[] = [];
    for (const [account, value] of Object.entries(values)) {
      const got = await v.lookup(account);
      if (got !== undefined) {
        expect(got, account).toBe(value); // never a different value
        inKeychain.push(account);
      }
    }
    const inFiles = entryFiles(v.dir).map((f) => f.replace('_', '/'));
    return { inKeychain: inKeychain.sort(), inFiles };
  };

  const loadAll = async (v: Fresh): Promise<Values> => {
    const r = await v.cli(['load', 'all', '--format', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const env = JSON.parse(r.stdout) as Record<string, string>;
    const names: Record<string, string> = { GITHUB_PERSONAL_ACCESS_TOKEN: 'github/token', HA_URL: 'hass/url', HA_TOKEN: 'hass/token', WIKIJS_URL: 'wikijs/url', WIKIJS_TOKEN: 'wikijs/token' };
    return Object.fromEntries(Object.entries(env).map(([k, val]) => [names[k] ?? k, val]));
  };

  /** The invariant after any interruption, and after a completed move (pending = false). */
  const expectExactlyOne = async (v: Fresh, values: Values, pending: boolean) => {
    const backend = backendOf(v.dir);
    const { inKeychain, inFiles } = await holdings(v, values);
    const all = Object.keys(values).sort();
    const journal = existsSync(join(v.dir, 'move.json'))
      ? (JSON.parse(readFileSync(join(v.dir, 'move.json'), 'utf8')) as { names: string[] }).names.map((x) => x.replace('_', '/'))
      : [];
    expect(journal.length > 0, 'a journal exactly while a move is pending').toBe(pending);
    const [here, there] = backend === 'keychain' ? [inKeychain, inFiles] : [inFiles, inKeychain];
    expect(here, `every credential in the ${backend} backend vault.json names`).toEqual(all);
    for (const stray of there) expect(journal, `${stray} outside ${backend} is a journaled copy`).toContain(stray);
    if (!pending) expect(there).toEqual([]);
    expect(await loadAll(v)).toEqual(values);
  };

  const expectBackupOpens = async (v: Fresh, oldGithub: string) => {
    const r = await v.cli(['restore', 'github', 'token']); // the one backup: the first value
    expect(r.code, r.stderr).toBe(0);
    expect((await loadAll(v))['github/token']).toBe(oldGithub);
  };

  it('keychain → file → keychain keeps every value and every backup readable', async () => {
    const v = fresh();
    const { values, oldGithub } = await seed(v, 'keychain');
    expect(await v.lookup('vault-key')).toBeDefined();
    const ownService = keychainServiceOf(v.dir, v.service); // the keychain vault's own items

    const toFile = await v.cli(['backend', 'file', '--kdf', 'interactive']);
    expect(toFile.code, toFile.stderr).toBe(0);
    expect(toFile.stderr).toContain('Moved 5 credentials from the OS keychain to encrypted files');
    expect(backendOf(v.dir)).toBe('file');
    await expectExactlyOne(v, values, false);
    // The data key left the keychain: nothing there can open the files without the passphrase.
    expect(await kc.lookup('vault-key', ownService)).toBeUndefined();
    expect(await kc.lookup('github/token', ownService)).toBeUndefined();
    for (const f of entryFiles(v.dir)) expect(readFileSync(join(v.dir, f), 'utf8')).not.toMatch(/ghp_|PVEAPIToken|127\.0\.0\.1/);
    const wrongPass = await v.cli(['load', 'github'], { env: { MCP_TOKENS_PASSPHRASE_FILE: undefined, MCP_TOKENS_PASSPHRASE: 'wrong horse' } });
    expect(wrongPass.code).toBe(4);
    const show = await v.cli(['backend'], { env: { MCP_TOKENS_PASSPHRASE_FILE: undefined } }); // no unlock needed
    expect([show.code, show.stdout]).toEqual([0, 'file\n']);

    const toKeychain = await v.cli(['backend', 'keychain']);
    expect(toKeychain.code, toKeychain.stderr).toBe(0);
    expect(backendOf(v.dir)).toBe('keychain');
    await expectExactlyOne(v, values, false);
    expect(await v.lookup('vault-key')).toBeDefined();
    // No passphrase needed any more, and the backups made on the first keychain leg still open.
    const noPass = await v.cli(['load', 'github'], { env: { MCP_TOKENS_PASSPHRASE_FILE: undefined } });
    expect(noPass.code, noPass.stderr).toBe(0);
    await expectBackupOpens(v, oldGithub);

    const again = await v.cli(['backend', 'keychain']);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('already uses the OS keychain');
  });

  it('file → keychain needs a reachable keychain: exit 5 and nothing changed', async () => {
    const v = fresh();
    await seed(v, 'file');
    const before = snapshot(v.dir);
    const r = await v.cli(['backend', 'keychain'], { env: noBusEnv(noBus) });
    expect(r.code, r.stderr).toBe(5);
    expect(r.stderr).toMatch(/cannot move to the OS keychain: .*no Secret Service is reachable/);
    expect(r.stderr).toMatch(/nothing was changed/);
    expect(snapshot(v.dir)).toEqual(before);
  });

  it('keychain → file without a new passphrase: exit 4 and nothing changed', async () => {
    const v = fresh();
    const { values } = await seed(v, 'keychain');
    const before = snapshot(v.dir);
    const r = await v.cli(['backend', 'file'], { env: { MCP_TOKENS_PASSPHRASE_FILE: undefined } });
    expect(r.code, r.stderr).toBe(4);
    expect(snapshot(v.dir)).toEqual(before);
    await expectExactlyOne(v, values, false);
  });

  it('moves into a keychain service of its own: an item another program left under the shared service is neither adopted nor touched', async () => {
    const v = fresh();
    const { values } = await seed(v, 'file');
    await kc.session().exec('secret-tool', ['store', '--label=stray', 'service', v.service, 'username', 'github/token'], 'stray-value');
    const r = await v.cli(['backend', 'keychain']);
    expect(r.code, r.stderr).toBe(0);
    expect(keychainServiceOf(v.dir, v.service)).toMatch(new RegExp(`^${v.service}:[0-9a-f]{16}$`));
    expect(await kc.lookup('github/token', v.service)).toBe('stray-value');
    expect(await loadAll(v)).toEqual(values);
  });

  const points: ['keychain' | 'file', string][] = [
    ['file', 'journal'],
    ['file', 'copy:2'],
    ['file', 'commit'],
    ['file', 'delete:3'],
    ['file', 'cleaned'],
    ['keychain', 'vault-key'],
    ['keychain', 'copy:4'],
    ['keychain', 'commit'],
    ['keychain', 'delete:1'],
  ];

  const killAndRerun = async (to: 'keychain' | 'file', point: string, batch?: string) => {
    const v = fresh();
    const { values, oldGithub } = await seed(v, to === 'file' ? 'keychain' : 'file');
    const killed = await v.cli(['backend', to, '--kdf', 'interactive'], { env: { MCP_TOKENS_FAILPOINT: point, MCP_TOKENS_KEYCHAIN_BATCH: batch } });
    expect(killed.signal).toBe('SIGKILL');
    await expectExactlyOne(v, values, true);
    const doctor = await v.cli(['doctor']);
    expect(doctor.stderr).toContain(`an interrupted move from the ${to === 'file' ? 'keychain' : 'file'} to the ${to} backend`);

    const rerun = await v.cli(['backend', to, '--kdf', 'interactive'], { env: { MCP_TOKENS_KEYCHAIN_BATCH: batch } });
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.stderr).toContain('Finished moving');
    expect(backendOf(v.dir)).toBe(to);
    await expectExactlyOne(v, values, false);
    await expectBackupOpens(v, oldGithub);
  };
  it.each(points)('kill -9 while moving to %s at %s loses nothing, and a re-run completes', killAndRerun);

  // The same with the process's own keychain connections bounded at 2 accounts: the rest of the
  // items are written, read back and deleted by worker threads, retired every 2 accounts
  // (backends/keychain-pool.ts); a kill takes the worker with the process.
  const workerPoints: ['keychain' | 'file', string][] = [
    ['keychain', 'copy:4'],
    ['file', 'delete:4'],
  ];
  it.each(workerPoints)('kill -9 while moving to %s at %s, keychain calls in worker threads: loses nothing, and a re-run completes', (to, point) => killAndRerun(to, point, '2'));

  it('a pending move resumes after the vault changed meanwhile: new values move, deleted ones stay deleted', async () => {
    const v = fresh();
    const { values } = await seed(v, 'keychain');
    const killed = await v.cli(['backend', 'file', '--kdf', 'interactive'], { env: { MCP_TOKENS_FAILPOINT: 'copy:5' } });
    expect(killed.signal).toBe('SIGKILL');
    expect(entryFiles(v.dir)).toContain('wikijs_url'); // copied before the kill
    values['hass/url'] = 'http://127.0.0.1:9999';
    expect((await v.cli(['store', 'hass', 'url', '-'], { input: values['hass/url'] })).code).toBe(0);
    expect((await v.cli(['delete', 'wikijs'])).code).toBe(0); // both keys, both copied already
    delete values['wikijs/url'];
    delete values['wikijs/token'];

    const rerun = await v.cli(['backend', 'file', '--kdf', 'interactive']);
    expect(rerun.code, rerun.stderr).toBe(0);
    await expectExactlyOne(v, values, false);
    expect(entryFiles(v.dir).filter((f) => f.startsWith('wikijs_'))).toEqual([]); // not resurrected
    expect(await v.lookup('wikijs/url')).toBeUndefined();
    expect(await v.lookup('wikijs/token')).toBeUndefined();
  });

  it('a resumed move into the keychain keeps the copies an earlier run made and rewrites one that differs', async () => {
    const v = fresh();
    const { values } = await seed(v, 'file');
    const killed = await v.cli(['backend', 'keychain'], { env: { MCP_TOKENS_FAILPOINT: 'copy:3' } });
    expect(killed.signal).toBe('SIGKILL');
    const service = keychainServiceOf(v.dir, v.service);
    // secret-tool prints each item's attributes on stderr.
    const search = spawnSync('secret-tool', ['search', '--all', 'service', service], { env: { ...process.env, ...kc.session().env }, encoding: 'utf8' });
    const copied = [...search.stderr.matchAll(/^attribute\.username = (.*\/.*)$/gm)].map((m) => m[1]!).sort();
    expect(copied).toHaveLength(3);
    // One earlier copy no longer matches its source (another program changed it): written again.
    await kc.session().exec('secret-tool', ['store', '--label', 'x', 'service', service, 'username', copied[2]!], 'not the value');

    const rerun = await v.cli(['backend', 'keychain']);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.stderr).toContain('Finished moving 5 credentials from encrypted files');
    expect(rerun.stderr).toContain('(2 already copied by the interrupted run, kept)');
    await expectExactlyOne(v, values, false);
    expect(await v.lookup(copied[2]!)).toBe(values[copied[2]!]);
  });

  it('naming the old backend undoes a move interrupted before the commit', async () => {
    const v = fresh();
    const { values } = await seed(v, 'keychain');
    const killed = await v.cli(['backend', 'file', '--kdf', 'interactive'], { env: { MCP_TOKENS_FAILPOINT: 'copy:3' } });
    expect(killed.signal).toBe('SIGKILL');
    const undo = await v.cli(['backend', 'keychain'], { env: { MCP_TOKENS_PASSPHRASE_FILE: undefined } });
    expect(undo.code, undo.stderr).toBe(0);
    expect(undo.stderr).toContain('Undid the interrupted move');
    await expectExactlyOne(v, values, false);
  });

  it('kill -9 from outside at an unknown moment of the move loses nothing', async () => {
    const v = fresh();
    const { values } = await seed(v, 'keychain');
    const child = kc.spawn(['backend', 'file', '--kdf', 'interactive'], { env: v.env });
    child.stdin?.end();
    const exited = new Promise<NodeJS.Signals | null>((r) => child.once('exit', (_c, sig) => r(sig)));
    // Kill as soon as the journal appears: mid-copy, at the latest mid-cleanup.
    const journal = join(v.dir, 'move.json');
    const deadline = Date.now() + 20_000;
    while (!existsSync(journal) && child.exitCode === null && Date.now() < deadline) await new Promise((r) => setImmediate(r));
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    await expectExactlyOne(v, values, existsSync(journal));
    const rerun = await v.cli(['backend', 'file', '--kdf', 'interactive']);
    expect(rerun.code, rerun.stderr).toBe(0);
    await expectExactlyOne(v, values, false);
  });
});
