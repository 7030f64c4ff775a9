import { Command } from 'commander';
import { isVaultError, VaultError } from '../../errors.js';
import { openForRead } from '../context.js';
import { info, warn } from '../output.js';

const collect = (v: string, all: string[]): string[] => [...all, v];

export const exportCmd = new Command('export')
  .description('seal credentials to age recipients (another machine, a team) as a bundle; prints no value')
  .argument('[services...]', "services to export, or 'all' (the default)")
  .option('--to <recipient>', 'an age1… recipient (repeat for several: a team)', collect, [])
  .option('-o, --output <file>', 'write the bundle to a new file (mode 0600) instead of stdout')
  .option('--armor', 'ASCII armor (PEM-like text) instead of binary age')
  .addHelpText(
    'after',
    `
Examples:
  mcp-tokens export github hass --to "$(ssh server mcp-tokens identity)" | ssh server mcp-tokens import -
  mcp-tokens export all --to age1alice… --to age1bob… -o team.age

The bundle is a standard age file (age -d -i opens it); its plaintext format is in SECURITY.md.
What was exported, to whom and when is recorded in metadata.json.`,
  )
  .action(async function (this: Command, services: string[], opts: { to: string[]; output?: string; armor?: boolean }) {
    const { checkRecipient } = await import('../../bundle/age.js');
    if (opts.to.length === 0) {
      throw new VaultError('USAGE', 'export needs at least one --to recipient', {
        hint: 'mcp-tokens export github --to "$(ssh server mcp-tokens identity)" | ssh server mcp-tokens import -',
      });
    }
    opts.to.forEach(checkRecipient);
    if (opts.output === undefined && !opts.armor && process.stdout.isTTY) {
      throw new VaultError('USAGE', 'refusing to write a binary bundle to a terminal', { hint: 'pipe it, pass -o FILE, or add --armor' });
    }
    const which = services.length === 0 || services.includes('all') ? 'all' : services;
    const { exportBundle } = await import('../../bundle/export.js');
    const now = new Date();
    const { vault, value: result } = await openForRead(this, (v) =>
      exportBundle(v, which, opts.to, { armor: opts.armor === true, now }).catch(async (e: unknown) => {
        // `export githb --to …`: name the near miss as load and verify do
        const missing = isVaultError(e, 'NOT_FOUND') && which !== 'all' ? /^No credentials stored for (\S+)$/.exec(e.message)?.[1] : undefined;
        if (missing === undefined) throw e;
        const { notStoredHint } = await import('../suggest.js');
        throw new VaultError('NOT_FOUND', (e as Error).message, { hint: await notStoredHint(missing, await v.services()) });
      }),
    );
    try {
      const { logAccess } = await import('../../audit/access.js'); // issue 29: the access log
      await logAccess(vault.dir, () => vault.key(), { cmd: 'export', names: result.entries }, warn);
      if (opts.output !== undefined) {
        const { writeNewFile } = await import('../../bundle/output-file.js');
        writeNewFile(opts.output, result.file);
      } else {
        await writeStdout(result.file);
      }
      await vault.recordExport({ at: now.toISOString(), to: [...new Set(opts.to)], entries: result.entries });
      const where = opts.output ?? 'stdout';
      info(`Sealed ${result.exported.join(', ')} to ${opts.to.length} recipient${opts.to.length > 1 ? 's' : ''} (${where}).`);
    } finally {
      vault.close();
    }
  });

function writeStdout(bytes: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    process.stdout.write(bytes, (e) => (e ? reject(new VaultError('IO', `could not write the bundle to stdout (${e.message})`, { cause: e })) : resolve()));
  });
}
