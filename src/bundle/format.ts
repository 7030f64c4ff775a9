/**
 * The plaintext of a bundle: one UTF-8 JSON document, sealed as a standard age file. Specified in
 * SECURITY.md ("Bundle format"); any program that writes this JSON and runs `age -r` makes a bundle.
 *
 *   {"format":"mcp-tokens-bundle","v":1,"createdAt":"2026-12-01T09:00:00.000Z",
 *    "credentials":[{"service":"github","key":"token","value":"ghp_…"}, …]}
 *
 * `v` is checked first: another version is refused (exit 2) before anything else is read. Names
 * and values are validated by the importer exactly as `store` validates them.
 */
import { VaultError } from '../errors.js';

export const BUNDLE_FORMAT = 'mcp-tokens-bundle';
export const BUNDLE_VERSION = 1;

export interface BundleCredential {
  service: string;
  key: string;
  value: string;
}

export interface Bundle {
  createdAt: string;
  credentials: BundleCredential[];
}

export function serializeBundle(bundle: Bundle): Uint8Array {
  const doc = { format: BUNDLE_FORMAT, v: BUNDLE_VERSION, createdAt: bundle.createdAt, credentials: bundle.credentials };
  return new TextEncoder().encode(`${JSON.stringify(doc)}\n`);
}

/** Parse a decrypted bundle; refusals name the problem, never a value. */
export function parseBundle(plaintext: Uint8Array): Bundle {
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(plaintext));
  } catch (e) {
    throw invalid('the bundle does not hold a JSON document', e);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw invalid('the bundle does not hold a JSON object');
  const d = doc as Record<string, unknown>;
  if (d['format'] !== BUNDLE_FORMAT) throw invalid(`the bundle is not an ${BUNDLE_FORMAT} document`);
  if (d['v'] !== BUNDLE_VERSION) {
    const v = typeof d['v'] === 'number' || typeof d['v'] === 'string' ? String(d['v']).slice(0, 16) : typeof d['v'];
    throw new VaultError('INVALID_INPUT', `unknown bundle version ${v}`, {
      hint: `this mcp-tokens reads version ${BUNDLE_VERSION}; update mcp-tokens on this machine, or export with the same version`,
    });
  }
  const createdAt = typeof d['createdAt'] === 'string' ? d['createdAt'] : '';
  const list = d['credentials'];
  if (!Array.isArray(list)) throw invalid('the bundle has no credentials list');
  const credentials = list.map((c: unknown, i) => {
    const r = (typeof c === 'object' && c !== null ? c : {}) as Record<string, unknown>;
    const { service, key, value } = r;
    if (typeof service !== 'string' || typeof key !== 'string' || typeof value !== 'string') {
      throw invalid(`credential #${i + 1} of the bundle needs string service, key and value`);
    }
    return { service, key, value };
  });
  const seen = new Set<string>();
  credentials.forEach((c, i) => {
    const id = JSON.stringify([c.service, c.key]);
    if (seen.has(id)) throw invalid(`credential #${i + 1} of the bundle repeats an earlier service and key`);
    seen.add(id);
  });
  return { createdAt, credentials };
}

function invalid(message: string, cause?: unknown): VaultError {
  return new VaultError('INVALID_INPUT', message, { hint: 'nothing was imported; the format is described in SECURITY.md (Bundle format)', cause });
}
