/**
 * Where passphrases come from (DESIGN.md §5), first that applies:
 *   --passphrase-fd N / MCP_TOKENS_PASSPHRASE_FD; MCP_TOKENS_PASSPHRASE_FILE (same permission
 *   checks as the vault; systemd $CREDENTIALS_DIRECTORY files pass); MCP_TOKENS_PASSPHRASE (last
 *   resort); a no-echo prompt on the terminal, twice when creating. Never argv.
 * A new passphrase for `passwd` comes from the MCP_TOKENS_NEW_PASSPHRASE{_FD,_FILE,} variants or
 * the prompt. One trailing newline is stripped from fd and file contents.
 *
 * Only the terminal gets second chances: three tries in all for a wrong passphrase, and for a new
 * one that is too short (checked before it is repeated) or repeated differently. A file, fd or
 * variable would give the same bytes again, so a refused one fails at once.
 */
import * as fs from 'node:fs';
import { VaultError, isVaultError } from '../errors.js';
import { readSecure } from '../vault/fsutil.js';
import type { PassphraseProvider, PassphrasePurpose } from '../vault/vault.js';
import { printError } from './output.js';
import { hasTerminal, promptHidden, type PromptErrors } from './prompt.js';

export const PROMPT_TRIES = 3;
export const MIN_NEW_PASSPHRASE = 8;

export interface PassphraseOptions {
  fd?: string | undefined;
  /** Library use: never fall back to a terminal prompt. */
  noPrompt?: boolean | undefined;
}

export function passphraseProvider(opts: PassphraseOptions, env: NodeJS.ProcessEnv = process.env): PassphraseProvider {
  const cache = new Map<string, Uint8Array>();
  /** Per variable prefix: how many passphrases the prompt gave (a source's give none, so never a retry). */
  const prompted = new Map<string, number>();
  const prefixOf = (purpose: PassphrasePurpose) => (purpose === 'change' ? 'MCP_TOKENS_NEW_PASSPHRASE' : 'MCP_TOKENS_PASSPHRASE');
  const provide = async (purpose: PassphrasePurpose) => {
    const prefix = prefixOf(purpose);
    const cached = cache.get(prefix);
    if (cached) return cached.slice();
    const found = fromSources(prefix, purpose === 'change' ? undefined : opts.fd, env);
    if (!found && opts.noPrompt) throw noSource(prefix, purpose);
    const got = found ?? (await ask(purpose, prefix));
    cache.set(prefix, got.slice());
    return got;
  };
  const ask = async (purpose: PassphrasePurpose, prefix: string): Promise<Uint8Array> => {
    for (;;) {
      const got = await fromPrompt(purpose, prefix);
      const used = (prompted.get(prefix) ?? 0) + 1;
      prompted.set(prefix, used);
      // Enter alone is a try too; after the last one the vault refuses the empty passphrase (exit 4).
      if (got.length > 0 || purpose !== 'unlock' || used >= PROMPT_TRIES) return got;
      tryAgain('no passphrase typed', PROMPT_TRIES - used);
    }
  };
  const retry = (purpose: PassphrasePurpose): boolean => {
    const prefix = prefixOf(purpose);
    const used = prompted.get(prefix) ?? 0;
    if (purpose !== 'unlock' || used === 0 || used >= PROMPT_TRIES) return false;
    cache.get(prefix)?.fill(0);
    cache.delete(prefix);
    tryAgain('wrong passphrase', PROMPT_TRIES - used);
    return true;
  };
  const check = async (purpose: PassphrasePurpose): Promise<void> => {
    const prefix = prefixOf(purpose);
    if (cache.has(prefix)) return;
    const found = fromSources(prefix, purpose === 'change' ? undefined : opts.fd, env);
    // Kept for the call that follows: an fd can be read only once.
    if (found) return void cache.set(prefix, found);
    if (opts.noPrompt || !hasTerminal()) throw noSource(prefix, purpose);
  };
  return Object.assign(provide, { retry, check });
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
  const errors: PromptErrors = {
    noTerminal: () => noSource(prefix, purpose),
    endOfInput: () => new VaultError('NO_PASSPHRASE', 'no passphrase given (end of input)', { hint: 'nothing was changed' }),
  };
  if (purpose === 'unlock') return promptHidden('Vault passphrase: ', errors);
  const label = purpose === 'create' ? 'New vault passphrase: ' : 'New passphrase: ';
  for (let tries = 1; ; tries++) {
    const left = PROMPT_TRIES - tries;
    const first = await promptHidden(label, errors);
    if (first.length < MIN_NEW_PASSPHRASE) {
      first.fill(0);
      const why = `passphrase too short: use at least ${MIN_NEW_PASSPHRASE} characters`;
      if (left === 0) throw new VaultError('INVALID_INPUT', why, { hint: 'nothing was changed' });
      tryAgain(why, left);
      continue;
    }
    let again: Uint8Array;
    try {
      again = await promptHidden('Repeat passphrase: ', errors);
    } catch (e) {
      first.fill(0);
      throw e;
    }
    const same = first.length === again.length && first.every((b, i) => b === again[i]);
    again.fill(0);
    if (same) return first;
    first.fill(0);
    if (left === 0) throw new VaultError('NO_PASSPHRASE', 'the two passphrases differ', { hint: 'nothing was changed; run the command again' });
    tryAgain('the two passphrases differ', left);
  }
}

function tryAgain(why: string, left: number): void {
  printError(`${why}; try again (${left} ${left === 1 ? 'try' : 'tries'} left)`);
}

/** No source and no terminal; prefix says which passphrase (passwd's new one has its own variables). */
function noSource(prefix: string, purpose: PassphrasePurpose): VaultError {
  if (prefix === 'MCP_TOKENS_NEW_PASSPHRASE') {
    return new VaultError('NO_PASSPHRASE', 'the new passphrase is needed and there is no terminal to ask on', {
      hint: 'set MCP_TOKENS_NEW_PASSPHRASE_FILE to a 0600 file holding the new passphrase (or MCP_TOKENS_NEW_PASSPHRASE_FD)',
    });
  }
  if (purpose === 'create') {
    // There is no vault yet, so nothing to unlock: the new vault's passphrase must come from somewhere.
    return new VaultError('NO_PASSPHRASE', 'a new file vault needs a passphrase and there is no terminal to ask on', {
      hint: 'run the command on a terminal to choose one, or set MCP_TOKENS_PASSPHRASE_FILE to a 0600 file holding it, or pass --passphrase-fd N',
    });
  }
  // Over ssh (`… | ssh server mcp-tokens import -`) there is no terminal on the server's side:
  // say how to unlock it from here.
  const ssh = process.env['SSH_CONNECTION'] ? ' (over ssh: ssh -t <server> mcp-tokens unlock, then run this again)' : '';
  return new VaultError('NO_PASSPHRASE', 'the file vault needs a passphrase and there is no terminal to ask on', {
    hint: `unlock the vault once on a terminal with mcp-tokens unlock${ssh}, or set MCP_TOKENS_PASSPHRASE_FILE to a 0600 file holding it, or pass --passphrase-fd N`,
  });
}
