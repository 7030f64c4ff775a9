import { Command, Option } from 'commander';
import type { UnlockOptions, UnlockResult } from '../../agent/start.js';
import { VaultError, isVaultError } from '../../errors.js';
import { globals, vaultDir } from '../context.js';
import { data, info, json, warn } from '../output.js';

const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "8h", "30m", "90s", "500ms", "2d"; "none" (or 0) = no limit. */
export function parseAgentDuration(text: string, what: string): number | null {
  if (text === 'none' || text === '0') return null;
  const m = /^([0-9]{1,7})(ms|s|m|h|d)$/.exec(text.trim());
  if (!m || Number(m[1]) === 0) throw new VaultError('USAGE', `invalid ${what} '${text}'`, { hint: 'use a number and a unit (8h, 30m, 90s, 2d) or none' });
  return Number(m[1]) * UNITS[m[2]!]!;
}

function human(ms: number): string {
  for (const [u, n] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1_000]] as const) if (ms % n === 0) return `${ms / n}${u}`;
  return `${ms}ms`;
}

/** Start the agent; a passphrase refused at the terminal is asked again (the prompt's three tries). */
async function startRetrying(opts: UnlockOptions): Promise<UnlockResult> {
  const { unlock: start } = await import('../../agent/start.js');
  for (;;) {
    try {
      return await start(opts);
    } catch (e) {
      if (!isVaultError(e, 'BAD_PASSPHRASE') || opts.passphrase.retry?.('unlock') !== true) throw e;
    }
  }
}

interface UnlockOpts {
  timeout: string;
  idle: string;
  status?: boolean;
  json?: boolean;
  printSystemdUnit?: boolean;
}

export const unlock = new Command('unlock')
  .description('start an agent that holds a file vault\'s key, so commands need no passphrase until it locks')
  .addOption(new Option('--timeout <duration>', 'lock this long after unlocking (none: never)').default('12h'))
  .addOption(new Option('--idle <duration>', 'lock after this long without use: a command opening or sealing through it; --status does not count (none: never)').default('none'))
  .option('--status', 'say whether the vault is unlocked, since when and until when (exit 3 when locked)')
  .option('--json', 'with --status: JSON on stdout')
  .option('--print-systemd-unit', 'print a systemd --user unit that unlocks at login, and exit')
  .addHelpText(
    'after',
    `
The passphrase is read once (prompt, --passphrase-fd, MCP_TOKENS_PASSPHRASE_FILE, ...). The agent
keeps the unwrapped data key in memory and seals/opens entries for commands of the same user over
a Unix socket in a user-only directory; it never hands out the key. It locks (forgets the key and
exits) on 'mcp-tokens lock', after --timeout or --idle, on SIGTERM, and when vault.json changes
(passwd, rekey, backend). Running unlock again while unlocked changes nothing.

Examples:
  mcp-tokens unlock --timeout 8h --idle 1h
  mcp-tokens unlock --status
  mcp-tokens lock`,
  )
  .action(async function (this: Command, opts: UnlockOpts) {
    const dir = vaultDir(globals(this));
    if (opts.printSystemdUnit) {
      const { systemdUnit } = await import('../../agent/unit.js');
      const atLogin = this.getOptionValueSource('timeout') === 'default' ? 'none' : opts.timeout;
      // Checked and rewritten in our own words: nothing the user typed reaches the unit as is.
      const t = parseAgentDuration(atLogin, '--timeout');
      const i = parseAgentDuration(opts.idle, '--idle');
      return data(systemdUnit(dir, t === null ? 'none' : human(t), i === null ? 'none' : human(i)));
    }
    if (opts.status) {
      const { agentStatus } = await import('../../agent/start.js');
      const { status, notice } = await agentStatus(dir);
      if (notice) warn(`${notice}; it was ignored`);
      if (opts.json) json(status ? { unlocked: true, ...status } : { unlocked: false, vault: dir });
      else if (!status) data(`locked    ${dir}`);
      else {
        data(
          [
            `unlocked  ${status.vault}`,
            `since     ${status.since}`,
            `until     ${status.until ?? 'no time limit'}`,
            `idle      ${status.idleMs === null ? 'no idle limit' : `locks after ${human(status.idleMs)} without use`}`,
            `agent     pid ${status.pid}, key ${status.keyId.slice(0, 8)}`,
          ].join('\n'),
        );
      }
      if (!status) process.exitCode = 3;
      return;
    }
    const timeoutMs = parseAgentDuration(opts.timeout, '--timeout');
    const idleMs = parseAgentDuration(opts.idle, '--idle');
    const { passphraseProvider } = await import('../passphrase.js');
    const passphrase = passphraseProvider({ fd: globals(this).passphraseFd });
    const r = await startRetrying({ dir, passphrase, timeoutMs, idleMs });
    if (r.notice) for (const line of r.notice.split('\n')) warn(line);
    if (r.already) {
      info(`Already unlocked (since ${r.status.since}, until ${r.status.until ?? 'locked by hand'}); nothing changed. To change the limits: mcp-tokens lock, then unlock again.`);
    } else {
      info(`Unlocked ${r.status.vault} until ${r.status.until ?? 'locked by hand'}${idleMs === null ? '' : `, or after ${human(idleMs)} idle`}. Lock with: mcp-tokens lock`);
    }
  });
