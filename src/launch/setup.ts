/**
 * `mcp-tokens setup`: the block that loads credentials into every new shell and where it goes.
 * The file editing itself is in rcfile.ts; what the user should know first is in `setup --help`.
 */
import { homedir } from 'node:os';
import { basename, join } from 'node:path';
import { VaultError } from '../errors.js';
import { SERVICE_REF_RE } from '../names.js';
import { fishQuote, shQuote } from './format.js';
import { BLOCK_BEGIN, BLOCK_END } from './rcblock.js';

export { applySetup, undoSetup } from './rcfile.js';
export type { SetupResult } from './rcfile.js';
export { BLOCK_BEGIN, BLOCK_END } from './rcblock.js';

export type SetupShell = 'bash' | 'zsh' | 'fish';
export const SETUP_SHELLS: readonly SetupShell[] = ['bash', 'zsh', 'fish'];

export interface SetupBlockOptions {
  /** How to invoke mcp-tokens; default `mcp-tokens` (an absolute path survives a changed PATH). */
  command?: string;
  /** Services to load; default ['all']. */
  services?: readonly string[];
  /** Passed to the load command only (not exported to the shell): a non-default vault. */
  vaultDir?: string;
  /** Passed to the load command only: a 0600 file holding a file vault's passphrase. */
  passphraseFile?: string;
}

/** The shell named by $SHELL (e.g. /usr/bin/zsh → zsh), if it is one setup supports. */
export function detectShell(shellPath: string | undefined): SetupShell | undefined {
  const name = shellPath ? basename(shellPath) : '';
  return SETUP_SHELLS.find((s) => s === name);
}

/** The start-up file each shell reads for interactive sessions, honouring ZDOTDIR and XDG. */
export function rcPathFor(shell: SetupShell, env: NodeJS.ProcessEnv = process.env, home = homedir()): string {
  switch (shell) {
    case 'bash':
      return join(home, '.bashrc');
    case 'zsh':
      return join(env['ZDOTDIR'] || home, '.zshrc');
    case 'fish':
      return join(env['XDG_CONFIG_HOME'] || join(home, '.config'), 'fish', 'config.fish');
  }
}

/** The marked block for `shell`, ending with a newline. Every interpolated string is quoted. */
export function renderSetupBlock(shell: SetupShell, opts: SetupBlockOptions = {}): string {
  const services = opts.services ?? ['all'];
  for (const s of services) {
    if (s !== 'all' && !SERVICE_REF_RE.test(s)) throw new VaultError('INVALID_INPUT', `Invalid service name ${JSON.stringify(s)}`);
  }
  const quote = shell === 'fish' ? fishQuote : shQuote;
  const cmd = opts.command ?? 'mcp-tokens';
  const qcmd = cmd === 'mcp-tokens' ? cmd : quote(cmd);
  // A one-command environment prefix: the passphrase file and vault dir reach `load` only,
  // they are not exported into the shell (fish understands VAR=value since 3.1).
  const prefix = [
    opts.vaultDir === undefined ? '' : `MCP_TOKENS_DIR=${quote(opts.vaultDir)} `,
    opts.passphraseFile === undefined ? '' : `MCP_TOKENS_PASSPHRASE_FILE=${quote(opts.passphraseFile)} `,
  ].join('');
  const note = '# Loads MCP credentials into every new shell. Remove with: mcp-tokens setup --undo';
  const lines =
    shell === 'fish'
      ? [
          'if status is-interactive; and command -q ' + qcmd,
          ...services.map((s) => `    ${prefix}${qcmd} load --format fish ${s} | source`),
          'end',
        ]
      : [
          `if command -v ${qcmd} >/dev/null 2>&1; then`,
          ...services.map((s) => `  eval "$(${prefix}${qcmd} load ${s})"`),
          'fi',
        ];
  return [BLOCK_BEGIN, note, ...lines, BLOCK_END, ''].join('\n');
}
