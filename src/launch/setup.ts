/**
 * `mcp-tokens setup`: the block that loads credentials into every new shell, where it goes, and
 * what the user should know before choosing it. The file editing itself is in rcfile.ts.
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

export interface SetupNotesOptions {
  shell: SetupShell;
  backend: 'keychain' | 'file' | 'memory' | undefined;
  /** Whether the block already names a passphrase file (renderSetupBlock's passphraseFile). */
  passphraseFileInBlock?: boolean;
  platform?: NodeJS.Platform;
}

/** Paragraphs the CLI prints on stderr when it shows or writes the block. */
export function setupNotes(opts: SetupNotesOptions): string[] {
  const notes = [
    'Auto-loading exports your tokens into the environment of every new shell and of every program ' +
      'started from it. `mcp-tokens run <service> -- <command>` is the narrower choice: it gives the ' +
      'tokens only to the one program that needs them, and it is what MCP client configs should use.',
  ];
  if (opts.backend === 'file' && !opts.passphraseFileInBlock) {
    const exportLine =
      opts.shell === 'fish'
        ? 'set -gx MCP_TOKENS_PASSPHRASE_FILE ~/.config/mcp-tokens/passphrase'
        : 'export MCP_TOKENS_PASSPHRASE_FILE=~/.config/mcp-tokens/passphrase';
    notes.push(
      'This vault is an encrypted file vault, so every new shell would ask for its passphrase. To load ' +
        'without a prompt, keep the passphrase in a file only you can read and name it in ' +
        'MCP_TOKENS_PASSPHRASE_FILE, either with `mcp-tokens setup --passphrase-file PATH` (the block then ' +
        'passes it to `load` alone) or in your start-up file before the block:\n' +
        '  mkdir -p ~/.config/mcp-tokens && install -m 600 /dev/null ~/.config/mcp-tokens/passphrase\n' +
        '  (write the passphrase into that file with an editor, not with echo: shell history keeps it)\n' +
        `  ${exportLine}\n` +
        'Under systemd, a service can receive it as a credential instead (LoadCredentialEncrypted=' +
        'mcp-tokens-passphrase:… in the unit, and MCP_TOKENS_PASSPHRASE_FILE=' +
        '$CREDENTIALS_DIRECTORY/mcp-tokens-passphrase). A passphrase on disk is only as safe as that ' +
        'file: anyone who can read it can open the vault.',
    );
  }
  if (opts.backend === 'keychain') {
    notes.push(
      'The keychain must be unlocked when a shell starts (it is, inside a desktop session); in a shell ' +
        'without one, such as an SSH login, `load` fails with a message and the shell starts without tokens.',
    );
  }
  if (opts.shell === 'bash' && (opts.platform ?? process.platform) === 'darwin') {
    notes.push('On macOS, Terminal starts bash as a login shell, which reads ~/.bash_profile: source ~/.bashrc from there.');
  }
  return notes;
}
