/**
 * The keychain backend against a real Secret Service: a private D-Bus session with an unlocked
 * gnome-keyring (test/helpers/keyring-session.ts), never the developer's own keyring.
 * Tests share one daemon, in file order; the locked-collection cases run last.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  deleteVaultKey,
  keychainBackend,
  keychainReader,
  probeKeychain,
  searchAhead,
  readVaultKey,
  writeVaultKey,
} from '../../src/backends/keychain.js';
import { entryName } from '../../src/names.js';
import { existsSync } from 'node:fs';
import {
  requireKeyringOrSkip,
  startKeyringSession,
  type KeyringSession,
} from '../helpers/keyring-session.js';
import { testBackend } from './contract.js';

const RUN = requireKeyringOrSkip();
const GITHUB = entryName('github', 'token');
const HASS_URL = entryName('hass', 'url');

describe.skipIf(!RUN)('keychain backend in a private Secret Service', () => {
  let s: KeyringSession;
  const lookup = (username: string, service = 'mcp-tokens') =>
    s.exec('secret-tool', ['lookup', 'service', service, 'username', username]);
  const store = (username: string, value: string, ...extra: string[]) =>
    s.exec('secret-tool', ['store', '--label=external', 'service', 'mcp-tokens', 'username', username, ...extra], value);

  beforeAll(async () => {
    s = await startKeyringSession();
    // The native module reads these when it first connects, so before any keychain call.
    Object.assign(process.env, s.env);
  });
  // A daemon that went away mid-suite fails the test it happened in, saying which and how.
  afterEach(() => s?.assertAlive());
  afterAll(async () => {
    await s?.stop();
  });

  let run = 0;
  testBackend('keychain', async () => {
    // A service of its own per test: a clean namespace in the shared keyring.
    const backend = keychainBackend({ service: `mcp-tokens-contract-${++run}` });
    return {
      backend,
      cleanup: async () => {
        for (const n of await backend.list()) await backend.delete(n);
      },
    };
  });

  describe('interop with other Secret Service clients', () => {
    const kc = keychainBackend();

    it('stores the raw value where secret-tool finds it', async () => {
      const value = `ghp_${'A1b2'.repeat(9)} 'q' "$(touch x)" 日本 🔑`;
      await kc.set(GITHUB, value);
      expect(await lookup('github/token')).toBe(value);
      expect(await kc.delete(GITHUB)).toBe(true);
      await expect(lookup('github/token')).rejects.toThrow(); // secret-tool exits 1: gone
    });

    it('reads and lists an item secret-tool stored', async () => {
      await store('hass/url', 'http://127.0.0.1:8123');
      expect(await kc.get(HASS_URL)).toBe('http://127.0.0.1:8123');
      expect(await kc.list()).toContain(HASS_URL);
      expect(await kc.delete(HASS_URL)).toBe(true);
    });

    it('lists only {service}/{key} accounts of its own service', async () => {
      await kc.set(GITHUB, 'mine');
      for (const foreign of ['vault-key', 'probe-1-abc', 'github_token', 'a/b/c', 'Upper/case', '/token', 'x/']) {
        await store(foreign, 'not a credential');
      }
      await s.exec('secret-tool', ['store', '--label=other', 'service', 'other-app', 'username', 'hass/token'], 'x');
      expect(await kc.list()).toEqual([GITHUB]);
      await s.exec('secret-tool', ['clear', 'service', 'mcp-tokens']);
      expect(await kc.list()).toEqual([]);
    });

    it('keeps credentials across a keyring daemon restart (on disk, not in kernel memory)', async () => {
      await kc.set(GITHUB, 'survives-restart');
      await s.restart();
      expect(await lookup('github/token')).toBe('survives-restart');
      await s.exec('secret-tool', ['clear', 'service', 'mcp-tokens']);
    });

    it('refuses an ambiguous item (two items match one account) as INTEGRITY', async () => {
      const kc2 = keychainBackend({ service: 'mcp-tokens-dup' });
      await kc2.set(GITHUB, 'first');
      await s.exec('secret-tool', ['store', '--label=dup', 'service', 'mcp-tokens-dup', 'username', 'github/token', 'extra', '1'], 'second');
      const err = await kc2.get(GITHUB).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'INTEGRITY' });
      expect(String((err as Error).message)).not.toMatch(/first|second/);
      await s.exec('secret-tool', ['clear', 'service', 'mcp-tokens-dup']);
    });
  });

  describe('D-Bus connections', () => {
    /** Clients on the session bus now (each holds one unique name), the daemons included. */
    const connections = async () => {
      const out = await s.exec('dbus-send', ['--session', '--print-reply', '--dest=org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus.ListNames']);
      return (out.match(/string ":/g) ?? []).length;
    };

    it('holds one connection per account however many calls it makes (a call each once reached the bus limit at 254)', async () => {
      const kc = keychainBackend({ service: 'mcp-tokens-conns' });
      const names = Array.from({ length: 6 }, (_, i) => entryName(`svc${i}`, 'token'));
      const before = await connections();
      for (let round = 0; round < 50; round++) {
        for (const n of names) {
          await kc.set(n, `value-${round}`);
          expect(await kc.get(n)).toBe(`value-${round}`);
        }
      }
      expect(await kc.list()).toHaveLength(6);
      for (const n of names) expect(await kc.delete(n)).toBe(true);
      // 600 calls; the vault-wide search opens and closes its own connection.
      expect((await connections()) - before).toBeLessThanOrEqual(names.length);
    });

    it('calls on one account at the same time are served one by one, each with its own answer', async () => {
      const kc = keychainBackend({ service: 'mcp-tokens-conns' });
      const writes = Array.from({ length: 12 }, (_, i) => kc.set(GITHUB, `v${i}`));
      await Promise.all(writes);
      const reads = await Promise.all(Array.from({ length: 12 }, () => kc.get(GITHUB)));
      expect(new Set(reads)).toEqual(new Set(['v11'])); // the last write queued is the last applied
      expect(await kc.delete(GITHUB)).toBe(true);
    });

    it('a keyring daemon restarted between calls: the next call opens a new session and works', async () => {
      const kc = keychainBackend({ service: 'mcp-tokens-conns' });
      await kc.set(GITHUB, 'before-restart');
      await s.restart(); // the kept connection's Secret Service session is gone with the old daemon
      expect(await kc.get(GITHUB)).toBe('before-restart');
      await kc.set(GITHUB, 'after-restart');
      expect(await lookup('github/token', 'mcp-tokens-conns')).toBe('after-restart');
      await s.restart();
      expect(await kc.delete(GITHUB)).toBe(true);
      expect(await kc.get(GITHUB)).toBeUndefined();
    });
  });

  describe('probe and vault key', () => {
    it('probeKeychain succeeds and leaves no item behind', async () => {
      expect(await probeKeychain()).toEqual({ ok: true });
      const left = await s.exec('secret-tool', ['search', '--all', 'service', 'mcp-tokens']).catch(() => '');
      expect(left).not.toMatch(/probe/);
    });

    it('writes, reads and deletes the 32-byte vault key as base64', async () => {
      expect(await readVaultKey()).toBeUndefined();
      const key = Uint8Array.from({ length: 32 }, (_, i) => (i * 37 + 11) & 0xff);
      await writeVaultKey(key);
      expect(await readVaultKey()).toEqual(key);
      expect(await lookup('vault-key')).toBe(Buffer.from(key).toString('base64'));
      expect(await keychainBackend().list()).toEqual([]); // the key is not a credential
      expect(await deleteVaultKey()).toBe(true);
      expect(await deleteVaultKey()).toBe(false);
      expect(await readVaultKey()).toBeUndefined();
    });

    it('refuses a malformed vault key and a key of the wrong length', async () => {
      await store('vault-key', 'c2hvcnQ=');
      await expect(readVaultKey()).rejects.toMatchObject({ code: 'INTEGRITY' });
      await deleteVaultKey();
      await expect(writeVaultKey(new Uint8Array(16))).rejects.toThrow(RangeError);
      expect(await readVaultKey()).toBeUndefined();
    });
  });

  describe('reads from one search (keychainReader)', () => {
    const SERVICE = 'mcp-tokens:0123456789abcdef';
    const put = (service: string, username: string, value: string, ...extra: string[]) =>
      s.exec('secret-tool', ['store', '--label=t', 'service', service, 'username', username, ...extra], value);
    const clear = async (...services: string[]) => {
      for (const svc of services) await s.exec('secret-tool', ['clear', 'service', svc]).catch(() => '');
    };
    const errorOf = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as Error & { code?: string; hint?: string });

    it('answers get and list from one search: what changes after it is not seen, absent is absent', async () => {
      const live = keychainBackend({ service: SERVICE });
      await live.set(GITHUB, 'gh-value');
      await live.set(HASS_URL, 'http://127.0.0.1:8123');
      await put(SERVICE, 'mcp-tokens/links', '{"v":1,"links":[]}');
      const reader = keychainReader(live, { service: SERVICE });
      expect(await reader.get(GITHUB)).toBe('gh-value');
      // Changed behind the reader's back: its answers are still the search's, so one search served them.
      await live.set(HASS_URL, 'http://changed.example');
      await live.delete(GITHUB);
      expect(await reader.get(HASS_URL)).toBe('http://127.0.0.1:8123');
      expect(await reader.get(GITHUB)).toBe('gh-value');
      expect(await reader.get(entryName('mcp-tokens', 'links'))).toBe('{"v":1,"links":[]}');
      expect(await reader.get(entryName('wikijs', 'token'))).toBeUndefined();
      expect((await reader.list()).sort()).toEqual([GITHUB, HASS_URL, entryName('mcp-tokens', 'links')].sort());
      reader.drop(); // the next read searches again
      expect(await reader.get(GITHUB)).toBeUndefined();
      expect(await reader.get(HASS_URL)).toBe('http://changed.example');
      await clear(SERVICE);
    });

    it("never picks up another vault's or another program's items, however alike their names", async () => {
      const live = keychainBackend({ service: SERVICE });
      await live.set(GITHUB, 'mine');
      for (const other of ['mcp-tokens', `${SERVICE}0`, SERVICE.slice(0, -1), `${SERVICE} `, 'MCP-TOKENS:0123456789abcdef', 'mcp-tokens:fedcba9876543210']) {
        await put(other, 'github/token', `theirs ${other}`);
        await put(other, 'hass/token', `theirs ${other}`);
      }
      // Same service, but not an account of ours: no username, or a name that is not {service}/{key}.
      await s.exec('secret-tool', ['store', '--label=t', 'service', SERVICE, 'user', 'hass/token'], 'no username attribute');
      for (const foreign of ['vault-key', 'probe-1-abc', 'hass_token', 'a/b/c', 'Hass/token', 'hass/']) await put(SERVICE, foreign, 'not a credential');
      const reader = keychainReader(live, { service: SERVICE });
      expect(await reader.get(GITHUB)).toBe('mine');
      expect(await reader.get(entryName('hass', 'token'))).toBeUndefined();
      expect(await reader.list()).toEqual([GITHUB]);
      await clear(SERVICE, 'mcp-tokens', `${SERVICE}0`, SERVICE.slice(0, -1), `${SERVICE} `, 'MCP-TOKENS:0123456789abcdef', 'mcp-tokens:fedcba9876543210');
    });

    it('an account two items match, and a value that is not text, fail exactly as a lookup of the item does', async () => {
      const live = keychainBackend({ service: SERVICE });
      await live.set(GITHUB, 'first');
      await put(SERVICE, 'github/token', 'second', 'extra', '1');
      await s.exec('sh', ['-c', `printf '\\377\\376bin' | secret-tool store --label=t service '${SERVICE}' username hass/token`]);
      await live.set(HASS_URL, 'http://127.0.0.1:8123');
      const reader = keychainReader(live, { service: SERVICE });
      expect(await reader.get(HASS_URL)).toBe('http://127.0.0.1:8123'); // the rest still reads
      for (const name of [GITHUB, entryName('hass', 'token')]) {
        const mine = await errorOf(reader.get(name));
        const lookup = await errorOf(live.get(name));
        expect(mine).toMatchObject({ code: 'INTEGRITY' });
        expect([mine?.message, mine?.hint]).toEqual([lookup?.message, lookup?.hint]);
        expect(mine?.message).not.toMatch(/first|second|bin/);
      }
      await clear(SERVICE);
    });

    it('a search begun ahead (prewarm) is taken only for the vault.json text it was begun on', async () => {
      const live = keychainBackend({ service: SERVICE });
      await live.set(GITHUB, 'before');
      await searchAhead(SERVICE, '{"v":1,"id":"a"}'); // ended: what follows lands after it
      await live.set(GITHUB, 'after');
      expect(await keychainReader(live, { service: SERVICE }, '{"v":1,"id":"b"}').get(GITHUB)).toBe('after'); // another vault.json: searched afresh
      await searchAhead(SERVICE, '{"v":1,"id":"a"}');
      await live.set(GITHUB, 'later');
      expect(await keychainReader(live, { service: SERVICE }, '{"v":1,"id":"a"}').get(GITHUB)).toBe('after'); // the one begun ahead
      expect(await keychainReader(live, { service: SERVICE }, '{"v":1,"id":"a"}').get(GITHUB)).toBe('later'); // taken once
      await searchAhead(`${SERVICE}0`, '{"v":1,"id":"a"}'); // another service: never used for this one
      expect(await keychainReader(live, { service: SERVICE }, '{"v":1,"id":"a"}').get(GITHUB)).toBe('later');
      await clear(SERVICE);
    });
  });

  describe('locked collection', () => {
    it('get, set, delete and list reject with BACKEND_UNAVAILABLE and change nothing', async () => {
      const kc = keychainBackend();
      await kc.set(GITHUB, 'before-lock');
      const file = join(s.env['XDG_DATA_HOME']!, 'keyrings', 'login.keyring');
      const bytes = readFileSync(file);
      await s.lock();

      const attempts = [() => kc.get(GITHUB), () => kc.set(GITHUB, 'while-locked'), () => kc.set(HASS_URL, 'new'), () => kc.delete(GITHUB), () => kc.list()];
      for (const attempt of attempts) {
        const err = await attempt().then(() => undefined, (e: unknown) => e);
        expect(err).toMatchObject({ code: 'BACKEND_UNAVAILABLE', exitCode: 5 });
        expect((err as { hint?: string }).hint).toMatch(/unlock/);
        expect((err as Error).message).not.toMatch(/before-lock|while-locked/);
      }
      const probe = await probeKeychain();
      expect(probe.ok).toBe(false);
      // One search for a read: a locked keyring is "locked", never "nothing stored", in the lookup's words.
      const reader = keychainReader(kc);
      for (const attempt of [() => reader.get(GITHUB), () => reader.list()]) {
        const err = await attempt().then(() => undefined, (e: unknown) => e);
        expect(err).toMatchObject({ code: 'BACKEND_UNAVAILABLE', exitCode: 5 });
        expect((err as { hint?: string }).hint).toMatch(/unlock/);
      }

      expect(readFileSync(file).equals(bytes)).toBe(true);
      await s.restart(); // unlocks from disk with the login password
      expect(await lookup('github/token')).toBe('before-lock');
      await expect(lookup('hass/url')).rejects.toThrow();
    });
  });
});

describe('requireKeyringOrSkip', () => {
  const saved = { PATH: process.env['PATH'], CI: process.env['CI'] };
  const restore = () => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };

  it('skips without the programs, but fails the run under CI=true', () => {
    const empty = mkdtempSync(join(tmpdir(), 'mcp-tokens-nopath-'));
    try {
      process.env['PATH'] = empty;
      delete process.env['CI'];
      const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
      expect(requireKeyringOrSkip()).toBe(false);
      expect(warn).toHaveBeenCalledWith(expect.stringMatching(/^SKIPPED: dbus gnome-keyring libsecret-tools: keychain tests need .*secret-tool/));
      warn.mockRestore();
      process.env['CI'] = 'true';
      expect(() => requireKeyringOrSkip()).toThrow(/CI=true.*gnome-keyring-daemon.*apt-get install/);
    } finally {
      restore();
      rmSync(empty, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!RUN)('keyring session harness', () => {
  it('stop() kills both daemons and removes the temporary home', async () => {
    const session = await startKeyringSession();
    const pids = session.pids();
    expect(pids).toHaveLength(2);
    await session.stop();
    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow(/ESRCH/);
    expect(existsSync(session.root)).toBe(false);
  });

  it('assertAlive() names a daemon that died on its own, not one stopped on purpose', async () => {
    const session = await startKeyringSession();
    try {
      await session.killKeyring(); // on purpose: not a failure
      session.assertAlive();
      await session.restart();
      const [bus, keyring] = session.pids();
      process.kill(keyring!, 'SIGKILL'); // as an outside kill or a crash would
      await vi.waitFor(() => expect(session.assertAlive).toThrow(/gnome-keyring-daemon \(pid \d+\) exited unexpectedly with signal SIGKILL/), { timeout: 10_000 });
      expect(bus).toBeDefined();
      await expect(session.exec('secret-tool', ['lookup', 'a', 'b'])).rejects.toThrow(/keyring session broken: gnome-keyring-daemon/);
    } finally {
      await session.stop();
    }
  });
});
