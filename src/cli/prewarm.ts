/**
 * A head start for file vaults. Unlocking one costs Argon2id in a worker thread (crypto/kdf.ts)
 * whose own start-up and libsodium load take tens of milliseconds; begun before commander and the
 * vault code load, that work runs on another core meanwhile. Only a guess from the raw arguments
 * and vault.json: the vault is opened and checked as usual later, and an unused worker is
 * unref'd and goes away with the process.
 */
import { closeSync, constants, fstatSync, lstatSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { commandName, optionValue } from './argv.js';
import { vaultDir } from './context.js';
import { agentPathsAll } from '../agent/paths.js';

/** Commands that unlock an existing vault on their way. */
const UNLOCKING = new Set(['load', 'run', 'list', 'store', 'delete', 'restore', 'verify']);

export function prewarmUnlock(args: readonly string[]): void {
  const name = commandName(args);
  if (name === undefined || !UNLOCKING.has(name)) return;
  try {
    const dir = optionValue(args, '--dir');
    const config = JSON.parse(readGuess(join(vaultDir(dir === undefined ? {} : { dir }), 'vault.json'))) as unknown;
    if ((config as { backend?: unknown } | null)?.backend !== 'file') return;
    // An unlock agent serves this vault: no Argon2id will run (if it turns out stale, the real
    // open falls back to the passphrase and simply starts without the head start).
    if (agentUp(vaultDir(dir === undefined ? {} : { dir }))) return;
  } catch {
    return; // no vault, or one the real open will report on
  }
  void import('../crypto/kdf.js').then((kdf) => kdf.prewarmKdf()).catch(() => undefined);
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
