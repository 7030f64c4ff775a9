/** `unlock --print-systemd-unit`: a systemd --user service that unlocks the vault at login. */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { VaultError } from '../errors.js';

/**
 * A value for the unit: no control character may reach it (a newline would start a directive of
 * its own), so one is refused rather than escaped.
 */
function checked(what: string, s: string): string {
  if (/[\u0000-\u001f\u007f]/.test(s)) {
    throw new VaultError('INVALID_INPUT', `${what} holds a control character (a newline, a tab…), which a systemd unit cannot carry`, {
      hint: `give ${what} without it; nothing was printed`,
    });
  }
  return s;
}

/** ExecStart's parser: \ and " escaped inside double quotes, % (specifiers) and $ (variables) doubled. */
function quote(what: string, s: string): string {
  return `"${checked(what, s).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/%/g, '%%').replace(/\$/g, '$$$$')}"`;
}

/** timeout and idle are durations already checked by the caller (8h, 30m, none). */
export function systemdUnit(dir: string, timeout: string, idle: string): string {
  for (const [what, v] of [['--timeout', timeout], ['--idle', idle]] as const) {
    if (!/^(none|[0-9]{1,7}(ms|s|m|h|d))$/.test(v)) throw new VaultError('USAGE', `invalid ${what} '${checked(what, v)}'`, { hint: 'use a number and a unit (8h, 30m, 90s, 2d) or none' });
  }
  const bin = realpathSync(fileURLToPath(new URL('../../bin/mcp-tokens.js', import.meta.url)));
  const cli = `${quote('the node path', process.execPath)} ${quote('the mcp-tokens path', bin)} --dir ${quote('--dir', dir)}`;
  return `# mcp-tokens agent: unlocks the file vault ${dir} when you log in and locks it when
# your last session ends (the user manager stops it; SIGTERM locks the agent).
# Install:
#   mkdir -p ~/.config/systemd/user
#   mcp-tokens unlock --print-systemd-unit > ~/.config/systemd/user/mcp-tokens-agent.service
#   install -d -m 700 ~/.config/mcp-tokens && install -m 600 /dev/null ~/.config/mcp-tokens/passphrase
#   (then write the passphrase into that file with an editor: not with echo, history keeps it)
#   systemctl --user daemon-reload && systemctl --user enable --now mcp-tokens-agent
# With no terminal at login, the passphrase comes from MCP_TOKENS_PASSPHRASE_FILE below (a 0600
# file outside the vault directory): the agent then saves Argon2id on every command, but the
# file protects the vault no better than before. Without that line, leave the unit disabled and
# start the agent by hand (mcp-tokens unlock) when you need it. See docs/unlock.md.
[Unit]
Description=mcp-tokens agent for ${dir.replace(/%/g, '%%')}

[Service]
Type=forking
Environment=MCP_TOKENS_PASSPHRASE_FILE=%h/.config/mcp-tokens/passphrase
ExecStart=${cli} unlock --timeout ${timeout} --idle ${idle}
ExecStop=${cli} lock

[Install]
WantedBy=default.target
`;
}
