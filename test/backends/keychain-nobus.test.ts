/**
 * No D-Bus session at all: the keychain must say it is unavailable, never quietly use the
 * kernel keyutils store (lost at reboot). A file of its own because the native module caches
 * its Secret Service connection, failure included, for the life of the process: vitest gives
 * every test file a fresh process, so this one never sees a working bus.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteVaultKey, keychainBackend, probeKeychain, readVaultKey, writeVaultKey } from '../../src/backends/keychain.js';
import { isVaultError } from '../../src/errors.js';
import { entryName } from '../../src/names.js';

const SERVICE = 'mcp-tokens-nobus-test';
const GITHUB = entryName('github', 'token');

describe.skipIf(process.platform !== 'linux')('keychain backend without a D-Bus session', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'mcp-tokens-nobus-'));
    // A socket path that does not exist: what a headless ssh login or a cron job looks like.
    process.env['DBUS_SESSION_BUS_ADDRESS'] = `unix:path=${join(dir, 'no-such-bus')}`;
    process.env['XDG_RUNTIME_DIR'] = dir;
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('probeKeychain reports ok:false with a reason and a hint, and does not throw', async () => {
    const probe = await probeKeychain({ service: SERVICE });
    expect(probe.ok).toBe(false);
    if (probe.ok) return;
    expect(probe.reason).toMatch(/no Secret Service is reachable/);
    expect(probe.hint).toMatch(/--backend file/);
  });

  it.each([
    ['get', () => keychainBackend({ service: SERVICE }).get(GITHUB)],
    ['set', () => keychainBackend({ service: SERVICE }).set(GITHUB, 'canary-nobus-value')],
    ['delete', () => keychainBackend({ service: SERVICE }).delete(GITHUB)],
    ['list', () => keychainBackend({ service: SERVICE }).list()],
    ['readVaultKey', () => readVaultKey({ service: SERVICE })],
    ['writeVaultKey', () => writeVaultKey(new Uint8Array(32), { service: SERVICE })],
    ['deleteVaultKey', () => deleteVaultKey({ service: SERVICE })],
  ])('%s rejects with BACKEND_UNAVAILABLE (exit 5), keeping the cause', async (_op, attempt) => {
    const err: unknown = await (attempt as () => Promise<unknown>)().then(() => undefined, (e: unknown) => e);
    expect(isVaultError(err, 'BACKEND_UNAVAILABLE')).toBe(true);
    if (!isVaultError(err)) return;
    expect(err.exitCode).toBe(5);
    expect(err.message).toMatch(/no Secret Service is reachable/);
    expect(err.message).not.toContain('canary-nobus-value');
    expect(err.hint).toMatch(/dbus-run-session -- bash.*gnome-keyring-daemon --unlock.*mcp-tokens backend file/s);
    expect(err.cause).toBeInstanceOf(Error);
  });

  it('wrote nothing to the kernel keyutils store', async () => {
    // Where keyutils works (many desktops), an unpinned library would have put the value there.
    const { Entry } = await import('@napi-rs/keyring');
    let found: string | null = null;
    try {
      found = new Entry(SERVICE, 'github/token', { linux: { store: 'keyutils' } }).getPassword();
    } catch {
      found = null; // keyutils itself unavailable here (e.g. a container's seccomp profile)
    }
    expect(found).toBeNull();
  });
});
