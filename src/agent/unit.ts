/** `unlock --print-systemd-unit`: a systemd --user service that unlocks the vault at login. */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** systemd unit files treat % and \ specially; our paths are quoted for ExecStart's parser. */
function quote(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/%/g, '%%')}"`;
}

export function systemdUnit(dir: string, timeout: string, idle: string): string {
  const bin = realpathSync(fileURLToPath(new URL('../../bin/mcp-tokens.js', import.meta.url)));
  const cli = `${quote(process.execPath)} ${quote(bin)} --dir ${quote(dir)}`;
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
# start the agent by hand (mcp-tokens unlock) when you need it. See README, "Unlock once".
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
