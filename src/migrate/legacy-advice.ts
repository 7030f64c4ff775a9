/**
 * What the plan says about the old script's token files, so that none is a dead end: a file
 * other users could read is migrated and the exposure reported; a file whose value differs from
 * the vault's becomes an encrypted backup (the vault came later, so its value is the newer one);
 * a value that does not validate, or that conflicts with another plaintext value, gets the exact
 * `mcp-tokens store` / `delete` command that resolves it (both replace the file and keep its value
 * as an encrypted backup).
 */
import { knownField } from './known.js';
import type { PlanItem } from './types.js';

const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

export function adviseLegacy(items: PlanItem[], loose: ReadonlyMap<string, number>, vault: ReadonlyMap<string, string | undefined>, overwrite: boolean): void {
  for (const i of items) {
    const c = i.candidate;
    if ((c.kind !== 'legacy-file' && c.kind !== 'legacy-backup') || c.path === undefined) continue;
    const secret = knownField(c.service, c.key)?.secret ?? true;
    const mode = loose.get(c.path);
    if (mode !== undefined) {
      i.warnings.push(
        `${c.path} had mode ${(mode & 0o777).toString(8)}: other users of this machine could read it` +
          (secret ? '; treat this token as exposed and replace it at its issuer' : ''),
      );
    }
    if (c.kind !== 'legacy-file') continue;
    const sk = `${c.service} ${c.key}`;
    if (i.action === 'conflict' && !overwrite && vault.get(`${c.service}/${c.key}`) !== undefined) {
      // Only this file and the vault disagree (another plaintext source would make it a
      // different conflict, whose reason names them): keep the vault's value, keep this one too.
      const others = items.some((o) => o !== i && o.action === 'conflict' && o.candidate.kind !== 'legacy-file' && o.candidate.service === c.service && o.candidate.key === c.key);
      if (!others && !/different plaintext values/.test(i.reason ?? '')) {
        i.action = 'backup';
        i.reason = `differs from the vault's value, which is newer than the old script's file: the vault keeps its value, this one becomes an encrypted backup (bring it back with: mcp-tokens restore ${sk}; or re-run with --overwrite to use it instead)`;
      }
    } else if (i.action === 'conflict') {
      i.reason = `${i.reason ?? 'conflict'}. To keep this file's value: mcp-tokens store ${sk} - < ${quote(c.path)}; to drop it: mcp-tokens delete ${sk} (either keeps it as an encrypted backup); then re-run mcp-tokens migrate`;
    } else if (i.action === 'invalid') {
      const fix = !secret && /^[A-Za-z0-9.-]+(:[0-9]+)?(\/\S*)?$/.test(c.value) && c.key === 'url'
        ? `store it with its scheme: mcp-tokens store ${sk} ${quote(`http://${c.value}`)} (https:// if the server uses TLS)`
        : `store the right value: mcp-tokens store ${sk}`;
      i.reason = `${i.reason ?? 'invalid'}; ${fix} — this replaces the file and keeps its old value as an encrypted backup`;
    }
  }
}
