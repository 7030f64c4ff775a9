import { Command } from 'commander';
import { VaultError } from '../../errors.js';
import { openForRead, globals, vaultDir } from '../context.js';
import { json, useColor, warn } from '../output.js';

export const verify = new Command('verify')
  .description('check formats, then each token live against its service (concurrently)')
  .argument('[service]', "a service, or 'all'", 'all')
  .option('--offline', 'format, age and expiry checks only; no network')
  .option('--json', 'machine-readable report on stdout (for CI)')
  .option('--timeout <seconds>', 'per-service timeout', '10')
  .addHelpText(
    'after',
    `
Checks: GitHub GET {api}/user (login, scopes, expiry, rate limit); Home Assistant GET {url}/api/;
Proxmox GET https://{host}:8006/api2/json/version (+ permissions); WikiJS POST {url}/graphql.
A token is sent only in the Authorization header to its configured origin; redirects to another
origin are not followed with it. Self-signed Proxmox certificates: store a pin with
  mcp-tokens store proxmox fingerprint AA:BB:…   or   mcp-tokens store proxmox ca /path/ca.pem
Exit 1 when any check fails; 3 when a named service has nothing stored.`,
  )
  .action(async function (this: Command, service: string, opts: { offline?: boolean; json?: boolean; timeout: string }) {
    const seconds = Number(opts.timeout);
    if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 300) {
      throw new VaultError('USAGE', `invalid --timeout '${opts.timeout}'`, { hint: 'seconds, between 0 and 300, e.g. --timeout 5' });
    }
    const { Vault } = await import('../../vault/vault.js');
    const { serviceSpec } = await import('../../services/index.js');
    if (service !== 'all') serviceSpec(service);
    if (!Vault.exists(vaultDir(globals(this)))) {
      throw new VaultError('NOT_FOUND', 'No credentials stored', { hint: 'Please run: mcp-tokens store <service> <key>   # asks for the value without echo' });
    }
    const { verifyAll } = await import('../../verify/run.js');
    const { formatVerifyTable } = await import('../../verify/report.js');
    // Read (and checked against a concurrent move or rekey) before anything goes over the network.
    const { vault, value: read } = await openForRead(this, async (vault) => {
      const { readLinks, servicesWithLinks, loadWithLinks } = await import('../../links/resolve.js');
      const links = await readLinks(vault);
      const listed = await vault.entryNames(); // listed once for every service
      const stored = await servicesWithLinks(vault, links, listed);
      const names = service === 'all' ? stored : [service];
      // A service with nothing stored is not "1 ok": there is nothing to check, so say so (exit 3).
      if (service !== 'all' && !stored.includes(service)) {
        const { BUILTIN_SERVICES } = await import('../../services/index.js');
        const { didYouMean } = await import('../suggest.js');
        throw new VaultError('NOT_FOUND', `No credentials stored for ${service}`, {
          hint: didYouMean(service, stored, BUILTIN_SERVICES.map((s) => s.name)) ?? `stored: ${stored.join(', ') || 'nothing'}; see: mcp-tokens list`,
        });
      }
      if (names.length === 0) throw new VaultError('NOT_FOUND', 'No credentials stored', { hint: 'Please run: mcp-tokens store <service> <key>   # asks for the value without echo' });
      const meta = vault.metadata();
      const items = await Promise.all(
        names.map(async (name) => {
          const { spec, values } = await loadWithLinks(vault, name, links, listed);
          const secret = spec.fields.find((f) => f.secret && values[f.key] !== undefined);
          const stored = secret ? meta[`${name}_${secret.key}`]?.storedAt : undefined;
          return { spec, values, storedAt: stored ? new Date(stored) : undefined };
        }),
      );
      return { names, meta, items };
    });
    try {
      const { names, meta, items } = read;
      const { logAccess } = await import('../../audit/access.js'); // issue 29: the access log
      await logAccess(vault.dir, () => vault.key(), { cmd: 'verify', names: items.flatMap((it, i) => Object.keys(it.values).map((k) => `${names[i]}_${k}`)) }, warn);
      // On a terminal: one status line per service, rewritten in place as its check finishes.
      const live = !opts.json && process.stderr.isTTY === true;
      if (live) for (const name of names) process.stderr.write(`  ${name}: checking…\n`);
      const onReport = (r: { service: string; status: string }) => {
        const up = names.length - names.indexOf(r.service);
        process.stderr.write(`\x1b[${up}A\r\x1b[2K  ${r.service}: ${r.status}\x1b[${up}B\r`);
      };
      const reports = await verifyAll(items, { timeoutMs: seconds * 1000, offline: opts.offline === true, ...(live ? { onReport } : {}) });
      if (!opts.offline) {
        const results = reports.flatMap((r, i) =>
          r.live.status === 'skipped'
            ? []
            : Object.keys(items[i]!.values).map((key) => ({ service: r.service, key, status: r.ok ? 'ok' : r.status, at: new Date(r.checkedAt), storedAt: meta[`${r.service}_${key}`]?.storedAt })),
        );
        try {
          await vault.recordVerifications(results);
        } catch (e) {
          warn(`could not record the results in metadata.json (${(e as Error).message})`);
        }
      }
      if (opts.json) json({ ok: reports.every((r) => r.ok), services: reports });
      else process.stderr.write(formatVerifyTable(reports, { color: useColor() }));
      if (reports.some((r) => !r.ok)) process.exitCode = 1;
    } finally {
      vault.close();
    }
  });
