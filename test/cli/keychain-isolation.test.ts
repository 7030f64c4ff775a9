/**
 * Two keychain vaults on one keychain never share an item (issue 25, item 1; DESIGN.md §12), and
 * a keychain vault made before vault ids moves its items to its own service in place, safe at
 * every kill -9 point (src/vault/keychain-id.ts).
 *
 * One private Secret Service for the whole file (test/cli/keychain-harness.ts). The side-by-side
 * suite uses the real default service prefix `mcp-tokens`, as two users' vaults would: vault A in
 * the default directory, vault B with --dir. The migration cases each use their own prefix
 * (MCP_TOKENS_KEYCHAIN_SERVICE), so each starts from an empty "old" service.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { PASSPHRASE, githubClassic, jwt, passphraseEnv, tempHome, type CliOptions, type CliResult } from '../helpers/cli.js';
import { Vault } from '../../src/vault/vault.js';
import { deleteVaultKey, keychainBackend, readVaultKey, writeVaultKey } from '../../src/backends/keychain.js';
import { entryName } from '../../src/names.js';
import { withLock } from '../../src/vault/lock.js';
import { backendOf, entryFiles, keychainCli, keychainServiceOf, requireKeyringOrSkip } from './keychain-harness.js';

const RUN = requireKeyringOrSkip();

type Values = Record<string, string>; // account (service/key) → value

describe.skipIf(!RUN)('keychain vaults side by side and the move to per-vault items', { timeout: 300_000 }, () => {
  const kc = keychainCli();

  /** Every account the keychain holds under `service` (secret-tool search prints attributes on stderr). */
  const accounts = (service: string): Promise<string[]> =>
    new Promise((resolve) => {
      execFile('secret-tool', ['search', '--all', 'service', service], { env: { ...process.env, ...kc.session().env }, timeout: 10_000 }, (_err, stdout, stderr) =>
        resolve([...`${stdout}\n${stderr}`.matchAll(/^attribute\.username = (.*)$/gm)].map((m) => m[1]!).sort()),
      );
    });

  const loadJson = async (run: (args: string[], opts?: CliOptions) => Promise<CliResult>, service: string): Promise<Record<string, string> | number | null> => {
    const r = await run(['load', service, '--format', 'json']);
    return r.code === 0 ? (JSON.parse(r.stdout) as Record<string, string>) : r.code;
  };

  const listed = async (run: (args: string[], opts?: CliOptions) => Promise<CliResult>): Promise<string[]> => {
    const r = await run(['list', '--json']);
    expect(r.code, r.stderr).toBe(0);
    return (JSON.parse(r.stdout) as { entries: { service: string; key: string }[] }).entries.map((e) => `${e.service}/${e.key}`).sort();
  };

  describe('vault A (default dir) and vault B (--dir), both in the keychain', () => {
    const a = (args: string[], opts: CliOptions = {}) => kc.run(args, opts);
    let bDir = '';
    const b = (args: string[], opts: CliOptions = {}) => kc.run(['--dir', bDir, ...args], opts);
    const aGithub = [githubClassic(), githubClassic()] as const;
    const bGithub = [githubClassic(), githubClassic()] as const;
    const bHass = jwt();
    let aService = '';
    let bService = '';

    /** What A must hold and show, whatever B did. */
    const expectA = async (github: string) => {
      expect(await loadJson(a, 'github')).toEqual({ GITHUB_PERSONAL_ACCESS_TOKEN: github });
      expect((await listed(a)).filter((x) => x !== 'k1/secret')).toEqual(['github/token', 'wikijs/url']); // k1: A's link, below
      expect(await loadJson(a, 'hass')).toBe(3);
      expect((await accounts(aService)).filter((x) => x !== 'mcp-tokens/links')).toEqual(['github/token', 'vault-key', 'wikijs/url']);
      expect(await kc.lookup('github/token', aService)).toBe(github);
    };

    beforeAll(async () => {
      bDir = join(tempHome('mcpt-kc-b-'), 'B');
      for (const run of [a, b]) {
        const r = await run(['init', '--backend', 'keychain']);
        expect(r.code, r.stderr).toBe(0);
      }
      aService = keychainServiceOf(kc.dir);
      bService = keychainServiceOf(bDir);
    });

    it('each vault has its own id, and its items live under mcp-tokens:<id>, nothing under mcp-tokens', async () => {
      expect(aService).toMatch(/^mcp-tokens:[0-9a-f]{16}$/);
      expect(bService).toMatch(/^mcp-tokens:[0-9a-f]{16}$/);
      expect(aService).not.toBe(bService);
      expect(await accounts(aService)).toEqual(['vault-key']);
      expect(await accounts(bService)).toEqual(['vault-key']);
      expect(await kc.lookup('vault-key', aService)).not.toBe(await kc.lookup('vault-key', bService));
      expect(await accounts('mcp-tokens')).toEqual([]);
    });

    it('store and load: B storing github token leaves A\'s untouched, and each loads its own', async () => {
      expect((await a(['store', 'github', 'token', '-'], { input: aGithub[0] })).code).toBe(0);
      expect((await a(['store', 'wikijs', 'url', 'https://wiki.a.example'])).code).toBe(0);
      const r = await b(['store', 'github', 'token', '-'], { input: bGithub[0] });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).not.toContain('backup'); // B had no value: nothing of A's was replaced
      expect((await b(['store', 'hass', 'token', '-'], { input: bHass })).code).toBe(0);
      expect((await b(['store', 'hass', 'url', 'http://127.0.0.1:8123'])).code).toBe(0);
      expect(await loadJson(b, 'github')).toEqual({ GITHUB_PERSONAL_ACCESS_TOKEN: bGithub[0] });
      await expectA(aGithub[0]);
      expect(await accounts('mcp-tokens')).toEqual([]);
    });

    it('list shows each vault its own entries only', async () => {
      expect(await listed(b)).toEqual(['github/token', 'hass/token', 'hass/url']);
      expect(await listed(a)).toEqual(['github/token', 'wikijs/url']);
    });

    it('run hands each child its own vault\'s token', async () => {
      const out = join(kc.home, 'run-out');
      const child = ['node', '-e', `require('fs').writeFileSync(${JSON.stringify(out)}, process.env.GITHUB_PERSONAL_ACCESS_TOKEN)`];
      expect((await a(['run', 'github', '--', ...child])).code).toBe(0);
      expect(readFileSync(out, 'utf8')).toBe(aGithub[0]);
      expect((await b(['run', 'github', '--', ...child])).code).toBe(0);
      expect(readFileSync(out, 'utf8')).toBe(bGithub[0]);
      expect((await a(['run', 'hass', '--', 'true'])).code).toBe(3); // B's hass is not A's
    });

    it('delete in B removes B\'s item only; deleting what only B holds is "not found" in A', async () => {
      expect((await a(['delete', 'hass'])).code).toBe(3);
      expect(await loadJson(b, 'hass')).toMatchObject({ HA_TOKEN: bHass });
      const r = await b(['delete', 'github']);
      expect(r.code, r.stderr).toBe(0);
      expect(await loadJson(b, 'github')).toBe(3);
      await expectA(aGithub[0]);
      expect((await b(['store', 'github', 'token', '-'], { input: bGithub[1] })).code).toBe(0);
      await expectA(aGithub[0]);
    });

    it('backups and restore: each vault restores its own old value with its own key', async () => {
      expect((await a(['store', 'github', 'token', '-'], { input: aGithub[1] })).code).toBe(0);
      await expectA(aGithub[1]);
      const rb = await b(['restore', 'github', 'token']); // B's backup: its first value, deleted above
      expect(rb.code, rb.stderr).toBe(0);
      expect(await loadJson(b, 'github')).toEqual({ GITHUB_PERSONAL_ACCESS_TOKEN: bGithub[0] });
      await expectA(aGithub[1]);
      const ra = await a(['restore', 'github', 'token']);
      expect(ra.code, ra.stderr).toBe(0);
      await expectA(aGithub[0]);
    });

    it('rekey of B replaces B\'s vault-key only; A\'s backups keep opening', async () => {
      const aKey = await kc.lookup('vault-key', aService);
      const bKey = await kc.lookup('vault-key', bService);
      const r = await b(['rekey']);
      expect(r.code, r.stderr).toBe(0);
      expect(await kc.lookup('vault-key', bService)).not.toBe(bKey);
      expect(await kc.lookup('vault-key', aService)).toBe(aKey);
      const ra = await a(['restore', 'github', 'token']); // the newest backup of A: aGithub[1]
      expect(ra.code, ra.stderr).toBe(0);
      await expectA(aGithub[1]);
      const rb = await b(['restore', 'github', 'token']); // B's newest backup, sealed before the rekey
      expect(rb.code, rb.stderr).toBe(0);
      expect(await loadJson(b, 'github')).toEqual({ GITHUB_PERSONAL_ACCESS_TOKEN: bGithub[1] });
    });

    it('links: a link made in A is A\'s alone', async () => {
      const l = await a(['link', 'k1', 'secret', '--', '/bin/echo', 'linked-value-a']);
      expect(l.code, l.stderr).toBe(0);
      expect(await loadJson(a, 'k1')).toEqual({ K1_SECRET: 'linked-value-a' });
      expect(await loadJson(b, 'k1')).toBe(3);
      expect((await listed(b)).some((n) => n.startsWith('k1/'))).toBe(false);
      expect(await accounts(bService)).not.toContain('mcp-tokens/links');
    });

    it('backend file in B moves B\'s credentials only; passwd in B; backend keychain brings them back beside A\'s', async () => {
      const aBefore = await accounts(aService);
      const toFile = await b(['backend', 'file', '--kdf', 'interactive'], { env: passphraseEnv(kc.home) });
      expect(toFile.code, toFile.stderr).toBe(0);
      expect(toFile.stderr).toContain('Moved 3 credentials');
      expect(backendOf(bDir)).toBe('file');
      expect(entryFiles(bDir)).toEqual(['github_token', 'hass_token', 'hass_url']);
      expect(await accounts(bService)).toEqual([]); // B left the keychain entirely
      expect(await accounts(aService)).toEqual(aBefore);
      await expectA(aGithub[1]);
      const ra = await a(['restore', 'github', 'token']); // A's vault-key is still there: backups open
      expect(ra.code, ra.stderr).toBe(0);
      await expectA(aGithub[0]);

      // passwd applies to file vaults: B's, now; A refuses it and is untouched.
      const newPass = join(kc.home, 'new-pass');
      writeFileSync(newPass, 'another passphrase', { mode: 0o600 });
      const pw = await b(['passwd'], { env: { ...passphraseEnv(kc.home), MCP_TOKENS_NEW_PASSPHRASE_FILE: newPass } });
      expect(pw.code, pw.stderr).toBe(0);
      expect((await a(['passwd'])).code).toBe(2);
      await expectA(aGithub[0]);

      const toKeychain = await b(['backend', 'keychain'], { env: { MCP_TOKENS_PASSPHRASE_FILE: newPass } });
      expect(toKeychain.code, toKeychain.stderr).toBe(0);
      expect(toKeychain.stderr).toContain('Moved 3 credentials');
      const bNow = keychainServiceOf(bDir);
      expect(bNow).toMatch(/^mcp-tokens:[0-9a-f]{16}$/);
      expect(bNow).not.toBe(aService);
      expect(await accounts(bNow)).toEqual(['github/token', 'hass/token', 'hass/url', 'vault-key']);
      expect(await loadJson(b, 'github')).toEqual({ GITHUB_PERSONAL_ACCESS_TOKEN: bGithub[1] });
      await expectA(aGithub[0]);
      expect(await accounts('mcp-tokens')).toEqual([]);
    });

    it('backend file in A moves A\'s own (its link included); B keeps its own', async () => {
      const toFile = await a(['backend', 'file', '--kdf', 'interactive'], { env: passphraseEnv(kc.home) });
      expect(toFile.code, toFile.stderr).toBe(0);
      expect(toFile.stderr).toContain('Moved 3 credentials'); // github, wikijs url, the link
      expect(entryFiles(kc.dir)).toEqual(['github_token', 'mcp-tokens_links', 'wikijs_url']);
      expect(await loadJson(b, 'github')).toEqual({ GITHUB_PERSONAL_ACCESS_TOKEN: bGithub[1] });
      expect(await listed(b)).toEqual(['github/token', 'hass/token', 'hass/url']);
    });
  });

  describe('a keychain vault made before vault ids (items under the shared service)', () => {
    let n = 0;

    /**
     * A vault as the code before ids left it: vault.json without an id, every item (entries,
     * vault-key) under the prefix alone. Made with today's code, then moved back by hand.
     */
    const legacyVault = async () => {
      const home = tempHome('mcpt-kc-legacy-');
      const dir = join(home, 'vault');
      const base = `mcp-tokens-legacy-${++n}`;
      const env = { MCP_TOKENS_DIR: dir, MCP_TOKENS_KEYCHAIN_SERVICE: base };
      const cli = (args: string[], opts: CliOptions = {}) => kc.run(args, { ...opts, env: { ...env, ...opts.env } });
      Object.assign(process.env, { DBUS_SESSION_BUS_ADDRESS: kc.session().env['DBUS_SESSION_BUS_ADDRESS'] });
      const values: Values = { 'github/token': githubClassic(), 'hass/url': 'http://127.0.0.1:8123', 'hass/token': jwt() };
      const oldGithub = githubClassic();
      const passphrase = async () => new TextEncoder().encode(PASSPHRASE);
      const vault = await Vault.open({ dir, backend: 'keychain', passphrase, keychainService: base }, { create: true });
      try {
        for (const [account, value] of [['github/token', oldGithub] as const, ...Object.entries(values)]) {
          const [s, k] = account.split('/') as [string, string];
          await vault.store(s, k, value);
        }
      } finally {
        vault.close();
      }
      const config = JSON.parse(readFileSync(join(dir, 'vault.json'), 'utf8')) as Record<string, unknown>;
      const own = `${base}:${String(config['id'])}`;
      const from = keychainBackend({ service: own });
      const to = keychainBackend({ service: base });
      for (const account of Object.keys(values)) {
        const [s, k] = account.split('/') as [string, string];
        await to.set(entryName(s, k), (await from.get(entryName(s, k)))!);
        await from.delete(entryName(s, k));
      }
      const key = (await readVaultKey({ service: own }))!;
      await writeVaultKey(key, { service: base });
      await deleteVaultKey({ service: own });
      delete config['id'];
      writeFileSync(join(dir, 'vault.json'), `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
      expect(await accounts(own)).toEqual([]);
      expect(await accounts(base)).toEqual(['github/token', 'hass/token', 'hass/url', 'vault-key']);
      return { dir, base, cli, values, oldGithub, vaultKey: Buffer.from(key).toString('base64') };
    };
    type Legacy = Awaited<ReturnType<typeof legacyVault>>;

    /**
     * Every credential readable from exactly one place: the service vault.json names holds every
     * value and the vault-key; the other holds nothing but the copies the journal lists.
     */
    const expectExactlyOne = async (v: Legacy) => {
      const id = (JSON.parse(readFileSync(join(v.dir, 'vault.json'), 'utf8')) as { id?: string }).id;
      const journal = existsSync(join(v.dir, 'keychain-id.json'))
        ? (JSON.parse(readFileSync(join(v.dir, 'keychain-id.json'), 'utf8')) as { id: string; names: string[] })
        : undefined;
      const ownId = id ?? journal?.id;
      const [here, there] = id ? [`${v.base}:${id}`, v.base] : [v.base, ownId ? `${v.base}:${ownId}` : undefined];
      for (const [account, value] of Object.entries(v.values)) expect(await kc.lookup(account, here), `${account} in ${here}`).toBe(value);
      expect(await kc.lookup('vault-key', here)).toBe(v.vaultKey);
      if (there) {
        const listedCopies = (journal?.names ?? []).map((x) => x.replace('_', '/'));
        for (const stray of await accounts(there)) {
          if (stray === 'vault-key') expect(await kc.lookup(stray, there)).toBe(v.vaultKey); // the same key, never another
          else expect(listedCopies, `${stray} in ${there} is a journaled copy`).toContain(stray);
        }
      }
    };

    /** Migrated and cleaned up: the id in vault.json, the journal gone, the old service empty. */
    const expectMigrated = async (v: Legacy) => {
      const service = keychainServiceOf(v.dir, v.base);
      expect(service).toMatch(new RegExp(`^${v.base}:[0-9a-f]{16}$`));
      expect(existsSync(join(v.dir, 'keychain-id.json'))).toBe(false);
      expect(await accounts(v.base)).toEqual([]);
      expect(await accounts(service)).toEqual(['github/token', 'hass/token', 'hass/url', 'vault-key']);
      expect(await loadJson(v.cli, 'github')).toEqual({ GITHUB_PERSONAL_ACCESS_TOKEN: v.values['github/token'] });
      const r = await v.cli(['restore', 'github', 'token']); // the backup opens: the vault-key moved too
      expect(r.code, r.stderr).toBe(0);
      expect(await loadJson(v.cli, 'github')).toEqual({ GITHUB_PERSONAL_ACCESS_TOKEN: v.oldGithub });
    };

    it('the first command (list) moves every item to the vault\'s own service; a new vault beside it shares nothing', async () => {
      const v = await legacyVault();
      const doc = await v.cli(['doctor']); // reads only: says where the items are, moves nothing
      expect(doc.stdout + doc.stderr).toContain(`under the service ${v.base}, which every vault made before vault ids shares`);
      expect(await accounts(v.base)).toEqual(['github/token', 'hass/token', 'hass/url', 'vault-key']);
      const r = await v.cli(['list', '--json']);
      expect(r.code, r.stderr).toBe(0);
      expect((JSON.parse(r.stdout) as { entries: unknown[] }).entries).toHaveLength(3);
      await expectMigrated(v);
      // Another vault with the same prefix starts empty; the migrated one does not see its items.
      const other = (args: string[], opts: CliOptions = {}) => kc.run(args, { ...opts, env: { MCP_TOKENS_DIR: join(v.dir, '..', 'other'), MCP_TOKENS_KEYCHAIN_SERVICE: v.base, ...opts.env } });
      expect((await other(['store', 'github', 'token', '-'], { input: githubClassic() })).code).toBe(0);
      expect(await listed(other)).toEqual(['github/token']);
      expect(await loadJson(v.cli, 'github')).toEqual({ GITHUB_PERSONAL_ACCESS_TOKEN: v.oldGithub });
    });

    it('a read that cannot take the lock (held by another process) reads the items where vault.json says they are', async () => {
      const v = await legacyVault();
      await withLock(v.dir, async () => {
        const r = await v.cli(['load', 'github', '--format', 'json']);
        expect(r.code, r.stderr).toBe(0);
        expect(JSON.parse(r.stdout)).toEqual({ GITHUB_PERSONAL_ACCESS_TOKEN: v.values['github/token'] });
        expect(await accounts(v.base)).toEqual(['github/token', 'hass/token', 'hass/url', 'vault-key']); // nothing moved
        expect(existsSync(join(v.dir, 'keychain-id.json'))).toBe(false);
      });
      expect((await v.cli(['list'])).code).toBe(0); // the lock free again: this command moves them
      await expectMigrated(v);
    });

    /**
     * A file vault with a move to the keychain cut short by the code before ids: move.json has no
     * keychainId, and the copies and the vault-key sit under the shared prefix.
     */
    const pendingLegacyMove = async () => {
      const home = tempHome('mcpt-kc-oldmove-');
      const dir = join(home, 'vault');
      const base = `mcp-tokens-oldmove-${++n}`;
      const env = { MCP_TOKENS_DIR: dir, MCP_TOKENS_KEYCHAIN_SERVICE: base, ...passphraseEnv(home) };
      const cli = (args: string[], opts: CliOptions = {}) => kc.run(args, { ...opts, env: { ...env, ...opts.env } });
      Object.assign(process.env, { DBUS_SESSION_BUS_ADDRESS: kc.session().env['DBUS_SESSION_BUS_ADDRESS'] });
      const values: Values = { 'github/token': githubClassic(), 'hass/url': 'http://127.0.0.1:8123' };
      const passphrase = async () => new TextEncoder().encode(PASSPHRASE);
      const vault = await Vault.open({ dir, backend: 'file', kdf: 'interactive', passphrase }, { create: true });
      const to = keychainBackend({ service: base });
      try {
        for (const [account, value] of Object.entries(values)) {
          const [s, k] = account.split('/') as [string, string];
          await vault.store(s, k, value);
          await to.set(entryName(s, k), value);
        }
        const raw = (await vault.localKey()).exportKey();
        await writeVaultKey(raw, { service: base });
        raw.fill(0);
      } finally {
        vault.close();
      }
      const journal = { v: 1, from: 'file', to: 'keychain', names: ['github_token', 'hass_url'], startedAt: new Date().toISOString() };
      writeFileSync(join(dir, 'move.json'), `${JSON.stringify(journal)}\n`, { mode: 0o600 });
      return { dir, base, cli, values };
    };

    it('a move to the keychain cut short before ids: finishing it, the vault then takes its own service', async () => {
      const v = await pendingLegacyMove();
      const r = await v.cli(['backend', 'keychain']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain('Finished moving 2 credentials');
      expect(entryFiles(v.dir)).toEqual([]);
      expect((await v.cli(['list'])).code).toBe(0); // its first command after the move
      const service = keychainServiceOf(v.dir, v.base);
      expect(service).toMatch(/:[0-9a-f]{16}$/);
      expect(await accounts(v.base)).toEqual([]);
      expect(await accounts(service)).toEqual(['github/token', 'hass/url', 'vault-key']);
      expect(await loadJson(v.cli, 'github')).toEqual({ GITHUB_PERSONAL_ACCESS_TOKEN: v.values['github/token'] });
    });

    it('a move to the keychain cut short before ids: undoing it removes the copies from the shared service', async () => {
      const v = await pendingLegacyMove();
      const r = await v.cli(['backend', 'file']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain('Undid the interrupted move');
      expect(await accounts(v.base)).toEqual([]);
      expect(backendOf(v.dir)).toBe('file');
      expect(await loadJson(v.cli, 'github')).toEqual({ GITHUB_PERSONAL_ACCESS_TOKEN: v.values['github/token'] });
    });

    const points = ['kcid:journal', 'kcid:vault-key', 'kcid:copy:1', 'kcid:copy:3', 'kcid:commit', 'kcid:delete:2', 'kcid:cleaned'];
    it.each(points)('kill -9 at %s: every credential readable from exactly one place, and the next command finishes', async (point) => {
      const v = await legacyVault();
      const killed = await v.cli(['store', 'wikijs', 'url', 'https://wiki.example.test'], { env: { MCP_TOKENS_FAILPOINT: point } });
      expect(killed.signal).toBe('SIGKILL');
      await expectExactlyOne(v);
      expect(await loadJson(v.cli, 'wikijs')).toBe(3); // the store never happened; this load finishes the move
      await expectMigrated(v);
    });
  });
});
