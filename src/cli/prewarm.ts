/**
 * A head start. Unlocking a file vault costs Argon2id in a worker thread (crypto/kdf.ts) whose
 * own start-up and libsodium load take tens of milliseconds; a keychain vault's read waits on the
 * Secret Service. Begun before commander and the vault code load, that work runs on another core
 * or thread meanwhile. Only a guess from the raw arguments and vault.json: the vault is opened and
 * checked as usual later; an unused worker is unref'd and goes away with the process, and a
 * keychain search is used only for the very vault.json it was begun on (backends/keychain.ts).
 */
import { closeSync, constants, fstatSync, lstatSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { commandName, optionValue } from './argv.js';
import { vaultDir } from './context.js';
import { agentPathsAll } from '../agent/paths.js';

/** Commands that unlock an existing vault on their way. */
const UNLOCKING = new Set(['load', 'run', 'list', 'store', 'delete', 'restore', 'verify']);
/** Commands that read a vault without writing it (context.ts openForRead): one keychain search. */
const READING = new Set(['load', 'run', 'list', 'verify', 'headers', 'export']);

export function prewarmUnlock(args: readonly string[]): void {
  const name = commandName(args);
  if (name === undefined || !(UNLOCKING.has(name) || READING.has(name)) || asksHelp(args)) return;
  const given = optionValue(args, '--dir');
  const dir = vaultDir(given === undefined ? {} : { dir: given });
  let text: string;
  let config: { backend?: unknown; id?: unknown } | null;
  try {
    text = readGuess(join(dir, 'vault.json'));
    config = JSON.parse(text) as typeof config;
  } catch {
    return; // no vault, or one the real open will report on
  }
  // A test holding this read at after-open or before-read (vault/failpoint.ts) is promised nothing was read yet.
  const pause = process.env['MCP_TOKENS_PAUSE'] ?? '';
  const heldBeforeRead = pause.startsWith('before-read:') || pause.startsWith('after-open:');
  if (config?.backend === 'keychain' && READING.has(name) && !heldBeforeRead && typeof config.id === 'string' && /^[0-9a-f]{16}$/.test(config.id)) {
    const id = config.id;
    void import('../backends/keychain.js')
      .then((kc) => kc.searchAhead(kc.vaultService(id, process.env['MCP_TOKENS_KEYCHAIN_SERVICE'] || kc.KEYCHAIN_SERVICE), text))
      .catch(() => undefined);
    return;
  }
  if (config?.backend !== 'file' || !UNLOCKING.has(name)) return;
  // An unlock agent serves this vault: no Argon2id will run (if it turns out stale, the real
  // open falls back to the passphrase and simply starts without the head start).
  if (agentUp(dir)) return;
  void import('../crypto/kdf.js').then((kdf) => kdf.prewarmKdf()).catch(() => undefined);
}

/** `load --help`: commander prints the help, nothing is read. */
function asksHelp(args: readonly string[]): boolean {
  const end = args.indexOf('--');
  return (end < 0 ? args : args.slice(0, end)).some((a) => a === '--help' || a === '-h');
}

/** Never follow a link or block on a FIFO for a guess: the real open checks everything later. */
function readGuess(path: string): string {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.size > 64 * 1024) throw new Error('not a vault.json');
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}

function agentUp(dir: string): boolean {
  try {
    return agentPathsAll(dir).some((p) => {
      try {
        return lstatSync(p.socket).isSocket();
      } catch {
        return false;
      }
    });
  } catch {
    return false;
  }
}
