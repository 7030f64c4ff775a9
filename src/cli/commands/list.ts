import { Command } from 'commander';
import { VaultError } from '../../errors.js';
import { splitServiceRef } from '../../names.js';
import { globals, openForRead, vaultDir } from '../context.js';
import { data, info, json, table, warn } from '../output.js';
import { ageDays, shortDate } from '../time.js';

export const list = new Command('list')
  .description('show stored credentials, secrets masked (first 4 … last 4)')
  .argument('[service]', 'only this service (github@work), or a service and its instances (github)')
  .option('--json', 'machine-readable output')
  .action(async function (this: Command, only: string | undefined, opts: { json?: boolean }) {
    if (only !== undefined) splitServiceRef(only); // a malformed name is refused before anything is read
    const { Vault, noVaultHint } = await import('../../vault/vault.js');
    const dir = vaultDir(globals(this));
    if (!Vault.exists(dir)) {
      const legacy = Vault.legacyFiles(dir);
      if (opts.json) json({ backend: null, dir, entries: [], legacyPlaintext: legacy });
      else if (legacy.length > 0) warn(noVaultHint(dir));
      else info('No credentials stored. Please run: mcp-tokens store <service> <key>   # asks for the value without echo');
      return;
    }
    const { readLinks, showCommand } = await import('../../links/links.js');
    const { fieldSpec, typeSpec } = await import('../../services/index.js');
    const { derivedNameProblem } = await import('../../launch/env-names.js');
    // The variable load and run set: none for a derived name that is not exported (env-names.ts).
    const exported = (service: string, env: string | undefined): string | null =>
      env === undefined || (!typeSpec(service) && derivedNameProblem(env) !== undefined) ? null : env;
    const { vault, value: read } = await openForRead(this, async (v) => ({ entries: await v.list(), links: await readLinks(v) }));
    try {
      const { entries, links } = read;
      const now = new Date();
      const linkRows = links.map((l) => {
        const f = fieldSpec(l.service, l.key);
        const shown = `→ ${showCommand(l.command)}`;
        return { service: l.service, key: l.key, value: shown, link: shown.slice(2), secret: f.secret, env: exported(l.service, f.env), status: 'ok' as const, storedAt: null, ageDays: null, verifiedAt: null, verifyStatus: null, expiresAt: null };
      });
      const stored = entries.map((e) => ({
        service: e.service,
        type: splitServiceRef(e.service).type,
        instance: splitServiceRef(e.service).instance ?? null,
        key: e.key,
        value: e.shown,
        secret: e.secret,
        env: exported(e.service, e.env),
        status: e.status,
        storedAt: e.meta.storedAt ?? null,
        ageDays: ageDays(e.meta.storedAt, now),
        verifiedAt: e.meta.verifiedAt ?? null,
        verifyStatus: e.meta.verifyStatus ?? null,
        expiresAt: e.meta.expiresAt ?? null,
      }));
      const shown = (service: string) => only === undefined || service === only || (!only.includes('@') && splitServiceRef(service).type === only);
      const rows = [...stored, ...linkRows].filter((r) => shown(r.service)).sort((a, b) => a.service.localeCompare(b.service) || a.key.localeCompare(b.key));
      if (only !== undefined && rows.length === 0) {
        const { BUILTIN_SERVICES } = await import('../../services/index.js');
        const { didYouMean } = await import('../suggest.js');
        const present = [...new Set([...stored, ...linkRows].map((r) => r.service))].sort();
        throw new VaultError('NOT_FOUND', `No credentials stored for ${only}`, {
          hint: didYouMean(only, present, BUILTIN_SERVICES.map((s) => s.name)) ?? `stored: ${present.join(', ') || 'nothing'}`,
        });
      }
      if (opts.json) return json({ backend: vault.backendName, dir: vault.dir, entries: rows });
      if (rows.length === 0) return info('No credentials stored. Please run: mcp-tokens store <service> <key>   # asks for the value without echo');
      data(
        table(
          ['SERVICE', 'KEY', 'VALUE', 'STORED', 'AGE', 'VERIFIED', 'EXPIRES'],
          rows.map((r) => [
            r.service,
            r.key,
            r.status === 'ok' ? r.value : `(${r.status})`,
            shortDate(r.storedAt),
            r.ageDays === null ? '-' : `${r.ageDays}d${r.ageDays > 90 ? ' rotation due' : ''}`,
            r.verifiedAt ? `${shortDate(r.verifiedAt)} ${r.verifyStatus ?? ''}`.trim() : '-',
            r.expiresAt ? expiry(r.expiresAt, now) : '-',
          ]),
        ),
      );
      for (const e of entries.filter((e) => e.status !== 'ok' && shown(e.service))) warn(`${e.problem ?? `${e.service} ${e.key} is unreadable`}`);
    } finally {
      vault.close();
    }
  });

function expiry(at: string, now: Date): string {
  const days = Math.floor((Date.parse(at) - now.getTime()) / 86_400_000);
  return days < 0 ? `expired ${shortDate(at)}` : `${days}d left`;
}
