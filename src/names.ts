import { VaultError } from './errors.js';

/** Service, instance and key names: lower-case, digits and '-', so '_' and '@' can join them unambiguously. */
export const NAME_RE = /^[a-z][a-z0-9-]{0,31}$/;
const PART = '[a-z][a-z0-9-]{0,31}';
/** A service reference: `github`, or an instance of that type, `github@work` (DESIGN.md §11). */
export const SERVICE_REF_RE = new RegExp(`^${PART}(?:@${PART})?$`);
const ENTRY_RE = new RegExp(`^(${PART}(?:@${PART})?)_(${PART})$`);

/**
 * `{service}_{key}` or `{service}@{instance}_{key}`, e.g. `github_token`, `github@work_token`.
 * Only built by entryName() or parseEntryName().
 */
export type EntryName = string & { readonly __entry: unique symbol };

export interface EntryParts {
  /** The service reference: `github` or `github@work`. */
  service: string;
  key: string;
}

export interface ServiceRef {
  /** The service type whose fields, validators and env names apply: `github`. */
  type: string;
  /** The instance name, or undefined for the service's default set of values. */
  instance: string | undefined;
}

function shown(name: string): string {
  const s = JSON.stringify(name.length > 40 ? `${name.slice(0, 40)}…` : name);
  return s.replace(/[\u0000-\u001f\u007f]/g, '?');
}

export function checkName(kind: 'service' | 'key' | 'instance', name: string): string {
  if (!NAME_RE.test(name)) {
    throw new VaultError('INVALID_INPUT', `Invalid ${kind} name ${shown(name)}`, {
      hint: `${kind} names start with a lower-case letter and use only a-z, 0-9 and '-' (at most 32 characters)`,
    });
  }
  return name;
}

/** Check `service` or `service@instance`; both parts follow the name rule. */
export function checkServiceRef(ref: string): string {
  if (!SERVICE_REF_RE.test(ref)) {
    // Name the part that is wrong when there is exactly one '@' (or none).
    const parts = ref.split('@');
    if (parts.length <= 2) {
      checkName('service', parts[0]!);
      if (parts[1] !== undefined) checkName('instance', parts[1]);
    }
    throw new VaultError('INVALID_INPUT', `Invalid service name ${shown(ref)}`, {
      hint: "a service is a name (github) or an instance of one (github@work); names start with a lower-case letter and use only a-z, 0-9 and '-'",
    });
  }
  return ref;
}

/** `github@work` → { type: 'github', instance: 'work' }; `github` → { type: 'github' }. */
export function splitServiceRef(ref: string): ServiceRef {
  checkServiceRef(ref);
  const at = ref.indexOf('@');
  return at < 0 ? { type: ref, instance: undefined } : { type: ref.slice(0, at), instance: ref.slice(at + 1) };
}

export function entryName(service: string, key: string): EntryName {
  checkServiceRef(service);
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
