import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { VaultError } from '../../errors.js';
import { openVault } from '../context.js';
import { count as thousands, data, info, json, progress, warn } from '../output.js';

export const importCmd = new Command('import')
  .description('store the credentials of a bundle sealed to this vault (validated; replaced values backed up)')
  .argument('[file]', "the bundle (binary or armored age); '-' or a pipe reads stdin")
  .option('--identity <file>', 'open the bundle with this age identity file instead of the vault\'s identity')
  .option('--dry-run', 'show what would be added or replaced, store nothing')
  .option('--overwrite', 'replace credentials stored here with another value (each is backed up first)')
  .option('--new-services', 'allow the bundle to create services not built in, not in services.json and not stored here')
  .option('--verbose', 'name every credential imported, replaced or already stored (a summary counts them)')
  .option('--json', 'print what was imported, replaced and already stored as JSON on stdout')
  .addHelpText(
    'after',
    `
Examples:
  ssh laptop mcp-tokens export github --to "$(mcp-tokens identity)" | mcp-tokens import -
  mcp-tokens import team.age --dry-run

Every value is checked as store checks it; if one is invalid, or would replace a different value
without --overwrite, nothing is stored.

A bundle never decides which variables are set: a service it creates (only with --new-services)
exports only names shaped like a credential (…_TOKEN, …_KEY, …_SECRET, …_PASSWORD); other fields
are stored and not exported, and names such as LD_PRELOAD, NODE_OPTIONS or DOCKER_HOST refuse the
whole bundle. import says which variables each new service exports.`,
  )
  .action(async function (this: Command, file: string | undefined, opts: { identity?: string; dryRun?: boolean; overwrite?: boolean; newServices?: boolean; verbose?: boolean; json?: boolean }) {
    const input = await import('../../bundle/input.js');
    if ((file === undefined || file === '-') && process.stdin.isTTY) {
      throw new VaultError('USAGE', 'no bundle given and stdin is a terminal', { hint: "give the bundle's path, or pipe it in with -" });
    }
    const bytes = file === undefined || file === '-' ? await input.readBundleStream(process.stdin) : input.readBundleFile(file);
    const { parseIdentityFile } = await import('../../bundle/age.js');
    const fromFile = opts.identity === undefined ? undefined : parseIdentityFile(readIdentity(opts.identity), opts.identity);
    const { openBundle, planImport, refuseConflicts, applyImport, planNames, describeNames, refuseNewServices } = await import('../../bundle/import.js');
    const vault = await openVault(this, { create: fromFile !== undefined && !opts.dryRun });
    try {
      let identities = fromFile;
      let hint = 'the age1… that `age-keygen -y` prints for your identity file';
      if (!identities) {
        const { vaultIdentity } = await import('../../bundle/identity.js');
        const id = await vaultIdentity(vault, { create: false });
        identities = [id.identity];
        hint = `${id.recipient} (this vault's: mcp-tokens identity)`;
      }
      const { bundle, warnings } = await openBundle(bytes, identities, hint);
      for (const w of warnings) warn(w);
      const { readLinks, servicesWithLinks } = await import('../../links/resolve.js');
      // A read before the lock: a rekey, passwd or move since the open makes what it reads (a
      // blob under the new key) untrustworthy; the outcome is then the transaction's own refusal.
      let existing: Set<string>;
      try {
        existing = new Set(await servicesWithLinks(vault, await readLinks(vault)));
      } catch (e) {
        if (!vault.changedSinceOpen()) throw e;
        throw (await import('../../vault/transaction.js')).changedWhileWaiting('it was rekeyed or moved since this command opened it');
      }
      const names = planNames(bundle, existing);
      const shown = names.filter((n) => n.isNew || n.withheld.length > 0);
      if (opts.dryRun) {
        const plan = await planImport(vault, bundle);
        data(plan.map((p) => `${p.action === 'replace' && !opts.overwrite ? 'conflict' : p.action} ${p.service} ${p.key}`).join('\n'));
        for (const n of shown) info(describeNames(n));
        if (!opts.overwrite) refuseConflicts(plan);
        if (!opts.newServices) refuseNewServices(names);
        info('Dry run: nothing was stored.');
        return;
      }
      if (!opts.newServices) refuseNewServices(names);
      if (vault.created) info(`Created a ${vault.created.backend} vault in ${vault.dir} (${vault.created.reason}).`);
      const shownProgress = progress('Importing');
      let result: Awaited<ReturnType<typeof applyImport>>;
      try {
        result = await applyImport(vault, bundle, { overwrite: opts.overwrite === true, onProgress: shownProgress.step });
      } finally {
        shownProgress.end();
      }
      for (const w of result.warnings.filter((w) => !warnings.includes(w))) warn(w);
      const of = (a: string) => result.plan.filter((p) => p.action === a);
      const [added, replaced, same] = [of('add'), of('replace'), of('same')];
      if (opts.json) {
        const names = (list: typeof added) => list.map((p) => ({ service: p.service, key: p.key }));
        json({ imported: names(added), replaced: names(replaced), same: names(same), backups: result.backups });
      }
      const verbose = opts.verbose === true;
      summary('Imported', added, '.', verbose);
      summary('Replaced', replaced, '; the previous values are in backups/.', verbose);
      summary('Already stored with the same value:', same, '.', verbose);
      for (const n of shown) info(describeNames(n));
    } finally {
      vault.close();
    }
  });

/** Up to this many credentials are named in a summary line; more are counted (--verbose names them all). */
const NAMED = 5;

/**
 * One line: `Imported github token, hass url.`, or for more than a few `Imported 3,000 credentials
 * of 12 services.` — then, with --verbose, every name on a line of its own.
 */
function summary(what: string, items: readonly { service: string; key: string }[], end: string, verbose: boolean): void {
  if (items.length === 0) return;
  const names = items.map((p) => `${p.service} ${p.key}`);
  if (items.length <= NAMED) {
    info(`${what} ${names.join(', ')}${end}`);
    return;
  }
  const services = new Set(items.map((p) => p.service)).size;
  info(`${what} ${thousands(items.length)} credentials of ${thousands(services)} service${services === 1 ? '' : 's'}${end}`);
  if (verbose) for (const n of names) info(`  ${n}`);
}

function readIdentity(path: string): string {
  try {
    const text = readFileSync(path);
    if (text.length > 64 * 1024) throw new VaultError('INVALID_INPUT', `${path} is too large to be an age identity file`);
    return text.toString('utf8');
  } catch (e) {
    if (e instanceof VaultError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new VaultError(code === 'ENOENT' ? 'NOT_FOUND' : 'IO', `cannot read the identity file ${path} (${code ?? 'error'})`, { cause: e });
  }
}
