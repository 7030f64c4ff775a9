import { Command } from 'commander';
import { globals, openForRead, vaultDir } from '../context.js';
import { info, json } from '../output.js';

export const doctor = new Command('doctor')
  .description('check permissions, backend health, stale files and credential ages')
  .option('--fix', 'repair modes (the passphrase file included), stale temp files and stale locks (never links or owners)')
  .option('--json', 'machine-readable output')
  .action(async function (this: Command, opts: { fix?: boolean; json?: boolean }) {
    const { doctor: run } = await import('../../vault/doctor.js');
    const report = await run(vaultDir(globals(this)), {
      fix: opts.fix === true,
      keychainService: process.env['MCP_TOKENS_KEYCHAIN_SERVICE'] || undefined,
      passphraseFile: process.env['MCP_TOKENS_PASSPHRASE_FILE'] || undefined,
    });
    // services.json was loaded (or failed to) before this command ran: report a broken file.
    const broken = (await import('../../services/index.js')).userServicesError();
    if (broken) report.findings.push({ level: 'error', message: `services.json is invalid: ${broken.message}`, ...(broken.hint ? { fix: broken.hint } : {}) });
    // Not when the backend is out of reach: opening it would only fail (or wait on a keychain) again.
    // Nor for a keychain vault made before vault ids: opening it would move its items (a write).
    if (report.sharedKeychainItems) report.findings.push({ level: 'ok', message: 'links not checked against stored values (the vault is not opened until its items have their own service)' });
    else if (report.backend && !report.findings.some((f) => f.unavailable)) {
      report.findings.push(...(await linkFindings(this)));
      if (report.backend === 'file') report.findings.push(...(await rollbackFindings(this)));
    }
    if (opts.json) json(report);
    else {
      info(`vault: ${report.dir}${report.backend ? ` (${report.backend})` : ''}`);
      for (const f of report.findings) {
        const mark = f.fixed ? 'fixed' : f.level;
        info(`  [${mark}] ${f.message}${f.path ? `: ${f.path}` : ''}${f.fix && !f.fixed && f.level !== 'ok' ? `\n          fix: ${f.fix}` : ''}`);
      }
    }
    const errors = report.findings.filter((f) => f.level === 'error' && !f.fixed);
    // The same exit codes as every other command: an unreachable keychain is 5 (DESIGN.md §8).
    if (errors.some((f) => f.unavailable)) process.exitCode = 5;
    else if (errors.some((f) => f.integrity)) process.exitCode = 6;
    else if (errors.length > 0) process.exitCode = 1;
  });

type Finding = import('../../vault/doctor.js').Finding;

/**
 * A credential both stored and linked (left by a version that let store write over a link):
 * load and run use the link, so the stored value is silently ignored. Needs the vault open:
 * tried without a prompt (keychain, agent, passphrase file or fd); a locked vault says so.
 */
async function linkFindings(cmd: Command): Promise<Finding[]> {
  const { shadowedByLinks, showCommand } = await import('../../links/links.js');
  // Read as load reads (no lock): a rekey or move meanwhile makes it read again, not report damage.
  let opened = false;
  try {
    const read = await openForRead(
      cmd,
      (vault) => {
        opened = true;
        return shadowedByLinks(vault);
      },
      { prompt: false },
    );
    read.vault.close();
    return read.value.map((l) => ({
      level: 'error',
      message: `${l.service} ${l.key} is both stored and linked: load and run use the link (${showCommand(l.command)}), the stored value is ignored`,
      fix: `keep one: mcp-tokens unlink ${l.service} ${l.key} (use the stored value), or mcp-tokens delete ${l.service} ${l.key} (use the link; the value is kept as a backup)`,
    }));
  } catch (e) {
    if (!opened) return [{ level: 'ok', message: `links not checked against stored values (${(e as Error).message})` }];
    return [{ level: 'error', message: `links could not be checked: ${(e as Error).message}`, ...(isRollback(e) ? { integrity: true as const } : {}) }];
  }
}

function isRollback(e: unknown): boolean {
  return e instanceof Error && (e as { code?: unknown }).code === 'INTEGRITY' && (e as { reason?: unknown }).reason === 'rollback';
}

/**
 * Rollback detection (vault/manifest.ts): every entry file and metadata.json against the vault's
 * sealed manifest. Needs the key: tried without a prompt, like linkFindings.
 */
async function rollbackFindings(cmd: Command): Promise<Finding[]> {
  const { checkDirectory } = await import('../../vault/manifest.js');
  let opened = false;
  try {
    const read = await openForRead(
      cmd,
      async (vault) => {
        opened = true;
        return checkDirectory(vault.dir, await vault.keys());
      },
      { prompt: false },
    );
    read.vault.close();
    const f = read.value;
    return [{ level: f.level, message: f.message, ...(f.error ? { integrity: true as const, fix: f.error.hint ?? "" } : {}) }];
  } catch (e) {
    if (!opened) return [{ level: 'ok', message: `entries not checked against the vault's manifest (${(e as Error).message})` }];
    return [{ level: 'error', message: (e as Error).message, ...(isRollback(e) ? { integrity: true as const } : {}) }];
  }
}
