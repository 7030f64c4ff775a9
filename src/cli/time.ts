/** Small date helpers for tables and durations. */
import { VaultError } from '../errors.js';

export function ageDays(iso: string | undefined, now: Date): number | null {
  if (!iso) return null;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? null : Math.max(0, Math.floor((now.getTime() - t) / 86_400_000));
}

export function shortDate(iso: string | null | undefined): string {
  if (!iso) return '-';
  return iso.slice(0, 10);
}

const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** "90d", "12h", "2w" → milliseconds. */
export function parseDuration(text: string): number {
  const m = /^([0-9]{1,6})([smhdw])$/.exec(text.trim());
  if (!m) throw new VaultError('USAGE', `invalid duration '${text}'`, { hint: 'use a number and a unit: 90d, 12h, 2w, 30m' });
  return Number(m[1]) * UNITS[m[2]!]!;
}
