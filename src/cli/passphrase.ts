/**
 * Where passphrases come from (DESIGN.md §5), first that applies:
 *   --passphrase-fd N / MCP_TOKENS_PASSPHRASE_FD; MCP_TOKENS_PASSPHRASE_FILE (same permission
 *   checks as the vault; systemd $CREDENTIALS_DIRECTORY files pass); MCP_TOKENS_PASSPHRASE (last
 *   resort); a no-echo prompt on the terminal, twice when creating. Never argv.
 * A new passphrase for `passwd` comes from the MCP_TOKENS_NEW_PASSPHRASE{_FD,_FILE,} variants or
 * the prompt. One trailing newline is stripped from fd and file contents.
 */
import * as fs from 'node:fs';
import { VaultError, isVaultError } from '../errors.js';
import { readSecure } from '../vault/fsutil.js';
import type { PassphraseProvider, PassphrasePurpose } from '../vault/vault.js';
import { promptHidden } from './prompt.js';

export interface PassphraseOptions {
  fd?: string | undefined;
  /** Library use: never fall back to a terminal prompt. */
  noPrompt?: boolean | undefined;
}

export function passphraseProvider(opts: PassphraseOptions, env: NodeJS.ProcessEnv = process.env): PassphraseProvider {
  const cache = new Map<string, Uint8Array>();
  return async (purpose: PassphrasePurpose) => {
    const prefix = purpose === 'change' ? 'MCP_TOKENS_NEW_PASSPHRASE' : 'MCP_TOKENS_PASSPHRASE';
    const cached = cache.get(prefix);
    if (cached) return cached.slice();
    const found = fromSources(prefix, purpose === 'change' ? undefined : opts.fd, env);
    if (!found && opts.noPrompt) throw noSource(prefix);
    const got = found ?? (await fromPrompt(purpose, prefix));
    cache.set(prefix, got.slice());
    return got;
  };
}

function fromSources(prefix: string, fdOption: string | undefined, env: NodeJS.ProcessEnv): Uint8Array | undefined {
  const fdText = fdOption ?? env[`${prefix}_FD`];
  if (fdText !== undefined && fdText !== '') {
    if (!/^[0-9]+$/.test(fdText)) throw new VaultError('USAGE', `${prefix}_FD / --passphrase-fd must be a file descriptor number`);
    let buf: Buffer;
    try {
      buf = fs.readFileSync(Number(fdText));
    } catch (e) {
      throw new VaultError('NO_PASSPHRASE', `cannot read the passphrase from file descriptor ${fdText}`, {
        hint: 'open it for reading, e.g. --passphrase-fd 3 3<passphrase-file',
        cause: e,
      });
    }
    return stripNewline(buf);
  }
  const file = env[`${prefix}_FILE`];
  if (file !== undefined && file !== '') {
    const buf = readPassphraseFile(file);
    if (buf === undefined) {
      throw new VaultError('NO_PASSPHRASE', `${prefix}_FILE names ${file}, which does not exist`, { hint: 'create it with mode 0600' });
    }
    return stripNewline(buf);
  }
  const value = env[prefix];
  if (value !== undefined && value !== '') return new TextEncoder().encode(value);
  return undefined;
}

/**
 * The passphrase file, with the vault's own checks (no link, no FIFO/socket/device — opened
 * O_NONBLOCK so one never hangs us —, owned by you, not readable by others). A refusal is a
 * passphrase problem (exit 4), and `doctor --fix` repairs a loose mode.
 */
export function readPassphraseFile(file: string): Buffer | undefined {
  try {
    return readSecure(file);
  } catch (e) {
    if (isVaultError(e, 'UNSAFE_PERMISSIONS')) throw new VaultError('NO_PASSPHRASE', e.message, { hint: e.hint, cause: e });
    throw e;
  }
}

function stripNewline(buf: Buffer): Uint8Array {
  let end = buf.length;
  if (end > 0 && buf[end - 1] === 0x0a) end--;
  if (end > 0 && buf[end - 1] === 0x0d) end--;
  const out = new Uint8Array(buf.subarray(0, end));
  buf.fill(0);
  return out;
}

async function fromPrompt(purpose: PassphrasePurpose, prefix: string): Promise<Uint8Array> {
  const label = purpose === 'unlock' ? 'Vault passphrase: ' : purpose === 'create' ? 'New vault passphrase: ' : 'New passphrase: ';
  const noTerminal = () => noSource(prefix);
  const first = await promptHidden(label, noTerminal);
  if (purpose === 'unlock') return first;
  const again = await promptHidden('Repeat passphrase: ', noTerminal);
  const same = first.length === again.length && first.every((b, i) => b === again[i]);
  again.fill(0);
  if (!same) {
    first.fill(0);
    throw new VaultError('NO_PASSPHRASE', 'the two passphrases differ', { hint: 'nothing was changed; run the command again' });
  }
  if (first.length < 8) {
    first.fill(0);
    throw new VaultError('INVALID_INPUT', 'passphrase too short: use at least 8 characters', { hint: 'nothing was changed' });
  }
  return first;
}

/** No source and no terminal; prefix says which passphrase (passwd's new one has its own variables). */
function noSource(prefix: string): VaultError {
  if (prefix === 'MCP_TOKENS_NEW_PASSPHRASE') {
    return new VaultError('NO_PASSPHRASE', 'the new passphrase is needed and there is no terminal to ask on', {
      hint: 'set MCP_TOKENS_NEW_PASSPHRASE_FILE to a 0600 file holding the new passphrase (or MCP_TOKENS_NEW_PASSPHRASE_FD)',
    });
  }
  return new VaultError('NO_PASSPHRASE', 'the file vault needs a passphrase and there is no terminal to ask on', {
    hint: 'unlock the vault once on a terminal (mcp-tokens unlock), or set MCP_TOKENS_PASSPHRASE_FILE to a 0600 file holding it, or pass --passphrase-fd N',
  });
}
