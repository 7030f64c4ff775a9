/**
 * Links: a credential that lives in a secret manager, stored as the command line that prints it
 * (`pass show mcp/github`). The map of links is one reserved vault entry (vault/reserved.ts), so
 * the command lines are sealed like credentials. Only the command is stored, never its output.
 */
import { statSync } from 'node:fs';
import { basename, isAbsolute, join } from 'node:path';
import { VaultError } from '../errors.js';
import { findOnPath, isExecutableFile } from '../path-lookup.js';
import { entryName } from '../names.js';
import { fieldSpec } from '../services/index.js';
import { LINKS_KEY } from '../vault/reserved.js';

/** What links need of a vault (vault/vault.ts's Vault): the reserved entry and the values stored. */
interface LinkVault {
  get(service: string, key: string): Promise<string | undefined>;
  getReserved(key: string): Promise<string | undefined>;
  updateReserved(
    key: string,
    update: (old: string | undefined, get: (service: string, key: string) => Promise<string | undefined>) => string | Promise<string>,
  ): Promise<string>;
}

export interface Link {
  service: string;
  key: string;
  /**
   * argv: the command and its arguments. `link` records the absolute path it found (a bare name
   * is looked up once, in PATH's absolute directories only); links made before that may hold a
   * bare name, which exec.ts looks up the same way each time.
   */
  command: string[];
}

const MAX_ARGS = 64;
const MAX_ARG = 1024;

/** Every link, sorted by service then key. A damaged map is an integrity error, not "no links". */
export async function readLinks(vault: LinkVault): Promise<Link[]> {
  return parseLinks(await vault.getReserved(LINKS_KEY));
}

function parseLinks(text: string | undefined): Link[] {
  if (text === undefined) return [];
  let doc: { v?: unknown; links?: unknown };
  try {
    doc = JSON.parse(text) as typeof doc;
  } catch (e) {
    throw damaged(e);
  }
  if (doc.v !== 1 || !Array.isArray(doc.links)) throw damaged();
  return (doc.links as unknown[]).map((l) => {
    const r = (typeof l === 'object' && l !== null ? l : {}) as Record<string, unknown>;
    const { service, key, command } = r;
    if (typeof service !== 'string' || typeof key !== 'string' || !Array.isArray(command) || !command.every((c) => typeof c === 'string') || command.length === 0) {
      throw damaged();
    }
    return { service, key, command: command as string[] };
  });
}

/** The link of service/key in the sealed map's text (the reserved entry), if any. */
export function linkIn(text: string | undefined, service: string, key: string): Link | undefined {
  return parseLinks(text).find((l) => l.service === service && l.key === key);
}

/**
 * The refusal of a store (or restore, import) over a linked credential: the link would keep
 * winning at load/run, so the new value would be silently ignored. The mirror of addLink's.
 */
export function linkedError(link: Link): VaultError {
  return new VaultError('USAGE', `${link.service} ${link.key} is linked (→ ${showCommand(link.command)}); a credential is either stored or linked`, {
    hint: `to store a value instead, remove the link first: mcp-tokens unlink ${link.service} ${link.key}; or update it where the link reads it`,
  });
}

/** Add or replace the link of service/key. Refused while a value is stored there. */
export async function addLink(vault: LinkVault, link: Link, env: NodeJS.ProcessEnv = process.env): Promise<{ replaced: boolean }> {
  fieldSpec(link.service, link.key);
  link = { ...link, command: checkCommand(link.command, env) };
  let replaced = false;
  await updateLinks(vault, async (links, get) => {
    // Checked under the lock: a store that landed while this command waited is seen here.
    if ((await get(link.service, link.key)) !== undefined) {
      throw new VaultError('USAGE', `${link.service} ${link.key} holds a stored value`, {
        hint: `a credential is either stored or linked; delete the stored one first: mcp-tokens delete ${link.service} ${link.key}`,
      });
    }
    const others = links.filter((l) => !(l.service === link.service && l.key === link.key));
    replaced = others.length !== links.length;
    return [...others, link];
  });
  return { replaced };
}

export async function removeLink(vault: LinkVault, service: string, key: string): Promise<void> {
  entryName(service, key);
  await updateLinks(vault, (links) => {
    const others = links.filter((l) => !(l.service === service && l.key === key));
    if (others.length === links.length) {
      throw new VaultError('NOT_FOUND', `${service} ${key} is not linked`, { hint: 'see the links with: mcp-tokens list' });
    }
    return others;
  });
}

/** The links whose credential also has a stored value (load/run use the link; the value is shadowed). */
export async function shadowedByLinks(vault: LinkVault): Promise<Link[]> {
  const links = await readLinks(vault);
  const stored = await Promise.all(links.map((l) => vault.get(l.service, l.key)));
  return links.filter((_, i) => stored[i] !== undefined);
}

/** The command as a user would type it, for `list` (the command line, never a value). */
export function showCommand(command: readonly string[]): string {
  return command.map((a) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

type Get = (service: string, key: string) => Promise<string | undefined>;

/** Read, change and write the map under one vault lock (the map as it is then, not as read before). */
async function updateLinks(vault: LinkVault, change: (links: Link[], get: Get) => Link[] | Promise<Link[]>): Promise<void> {
  await vault.updateReserved(LINKS_KEY, async (old, get) => {
    const links = await change(parseLinks(old), get);
    links.sort((a, b) => a.service.localeCompare(b.service) || a.key.localeCompare(b.key));
    return JSON.stringify({ v: 1, links });
  });
}

/**
 * The command must be absolute and executable, or a bare name found now in one of PATH's absolute
 * directories; returns the command line with that absolute path in first place. An empty or
 * relative PATH entry (`.`, `bin`) is never searched: it would make the command depend on the
 * folder `load` happens to run in (a repository's own `./pass`).
 */
export function checkCommand(command: readonly string[], env: NodeJS.ProcessEnv): string[] {
  const [cmd] = command;
  if (cmd === undefined || cmd === '') throw new VaultError('USAGE', 'link needs a command after --', { hint: 'mcp-tokens link github token -- pass show mcp/github' });
  if (command.length > MAX_ARGS || command.some((a) => a.length > MAX_ARG || a.includes('\0'))) {
    throw new VaultError('INVALID_INPUT', 'the command line of a link is too long or holds a NUL byte', { hint: `at most ${MAX_ARGS} arguments of ${MAX_ARG} characters` });
  }
  if (isAbsolute(cmd)) {
    if (!isExecutableFile(cmd)) throw new VaultError('INVALID_INPUT', `${cmd} is not an executable file`, { hint: 'give the absolute path of the secret manager\'s CLI, or its name on PATH' });
    return [...command];
  }
  if (cmd.includes('/')) {
    throw new VaultError('INVALID_INPUT', `a link's command must be an absolute path or a name on PATH, not the relative path ${cmd}`, { hint: `use the absolute path of ${cmd}` });
  }
  const found = findOnPath(cmd, env['PATH']);
  if (!found) throw new VaultError('INVALID_INPUT', `${cmd} was not found on PATH`, { hint: `install it, or give its absolute path (only PATH's absolute directories are searched)` });
  return [found, ...command.slice(1)];
}


/**
 * `pass show <entry>`: the entry must exist now ($PASSWORD_STORE_DIR or ~/.password-store,
 * `<entry>.gpg`), looked up as a file: nothing is decrypted or printed. Other secret managers'
 * commands are not run at link time (they may ask for a login or a touch); verify runs them.
 */
export function checkPassEntry(command: readonly string[], env: NodeJS.ProcessEnv): void {
  const [cmd, sub, ...rest] = command;
  if (cmd === undefined || basename(cmd) !== 'pass' || sub !== 'show') return;
  const entries = rest.filter((a) => !a.startsWith('-'));
  if (entries.length !== 1 || rest.length !== 1) return; // options (--clip, --qrcode…): left to pass
  const entry = entries[0]!;
  const home = env['HOME'] ?? '';
  const store = env['PASSWORD_STORE_DIR'] || (home ? join(home, '.password-store') : undefined);
  if (store === undefined || entry.split('/').includes('..')) return;
  let found = false;
  try {
    found = statSync(join(store, `${entry}.gpg`)).isFile();
  } catch {
    found = false;
  }
  if (!found) {
    throw new VaultError('INVALID_INPUT', `pass has no entry ${entry} (no ${join(store, `${entry}.gpg`)})`, {
      hint: `check the name with: pass ls; add it with: pass insert ${entry}`,
    });
  }
}


function damaged(cause?: unknown): VaultError {
  return new VaultError('INTEGRITY', 'the vault\'s list of links is damaged', { hint: 'restore it from backups/ (mcp-tokens backups) or link the credentials again', cause });
}
