import { VaultError } from './errors.js';

/** Service and key names: lower-case, digits and '-', so '_' can join them unambiguously. */
export const NAME_RE = /^[a-z][a-z0-9-]{0,31}$/;
const ENTRY_RE = /^([a-z][a-z0-9-]{0,31})_([a-z][a-z0-9-]{0,31})$/;

/** `{service}_{key}`, e.g. `github_token`. Only built by entryName() or parseEntryName(). */
export type EntryName = string & { readonly __entry: unique symbol };

export interface EntryParts {
  service: string;
  key: string;
}

export function checkName(kind: 'service' | 'key', name: string): string {
  if (!NAME_RE.test(name)) {
    const shown = JSON.stringify(name.length > 40 ? `${name.slice(0, 40)}…` : name);
    throw new VaultError('INVALID_INPUT', `Invalid ${kind} name ${shown.replace(/[\u0000-\u001f\u007f]/g, '?')}`, {
      hint: `${kind} names start with a lower-case letter and use only a-z, 0-9 and '-' (at most 32 characters)`,
    });
  }
  return name;
}

export function entryName(service: string, key: string): EntryName {
  checkName('service', service);
  checkName('key', key);
  return `${service}_${key}` as EntryName;
}

export function parseEntryName(name: string): (EntryParts & { name: EntryName }) | undefined {
  const m = ENTRY_RE.exec(name);
  if (!m) return undefined;
  return { service: m[1]!, key: m[2]!, name: name as EntryName };
}

export function splitEntryName(name: EntryName): EntryParts {
  const parts = parseEntryName(name);
  if (!parts) throw new Error(`not an entry name: ${name}`);
  return { service: parts.service, key: parts.key };
}
