/**
 * The command rewritten MCP entries start: `mcp-tokens` when a client will find it on its PATH,
 * else the absolute path of this CLI (run as `npx mcp-tokens migrate`, nothing named mcp-tokens
 * is on the PATH and an entry saying "mcp-tokens" could never start). The PATH checked is this
 * process's: a client started from a desktop launcher may have a shorter one, which the warning
 * says.
 */
import { realpathSync } from 'node:fs';
import { findOnPath, isExecutableFile } from '../path-lookup.js';

export interface RunCommandChoice {
  command: string;
  /** Why it is not the plain name, for a warning; undefined when it is. */
  warning?: string;
}


/** Whether `name` is found in the directories of `path` (with Windows' extensions there). */
export function onPath(name: string, path: string | undefined, platform: NodeJS.Platform): boolean {
  const exts = platform === 'win32' ? ['.cmd', '.exe', '.bat', ''] : [''];
  return findOnPath(name, path, exts) !== undefined;
}

export function chooseRunCommand(o: { given: string; explicit: boolean; path: string | undefined; platform: NodeJS.Platform; script: string | undefined }): RunCommandChoice {
  if (o.explicit || o.given !== 'mcp-tokens' || onPath('mcp-tokens', o.path, o.platform)) return { command: o.given };
  // On Windows a .js file is not a command: only an installed mcp-tokens.cmd is.
  if (o.platform === 'win32' || o.script === undefined) {
    return { command: o.given, warning: "mcp-tokens is not on this PATH: the rewritten entries start 'mcp-tokens', which will not start until it is installed (npm install -g . in the mcp-tokens clone), or re-run with --run-command <absolute path of mcp-tokens>" };
  }
  let script: string;
  try {
    script = realpathSync(o.script);
  } catch {
    script = o.script;
  }
  if (!isExecutableFile(script)) {
    return { command: o.given, warning: `mcp-tokens is not on this PATH and ${script} is not executable: the rewritten entries start 'mcp-tokens'; install it (npm install -g . in the mcp-tokens clone) or re-run with --run-command <absolute path>` };
  }
  const cache = /[\\/]_npx[\\/]/.test(script) ? " It lies in npx's cache, which npm may clear: install mcp-tokens from its clone (npm install -g . there) and re-run 'mcp-tokens migrate --run-command mcp-tokens' for a lasting command." : '';
  return { command: script, warning: `mcp-tokens is not on this PATH, so the rewritten entries start it by its absolute path, ${script}.${cache} (Clients started from a desktop launcher may have a shorter PATH than this shell; --run-command sets the command.)` };
}
