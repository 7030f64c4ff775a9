/** `export`: the chosen services' stored values, sealed to age recipients. No value leaves unsealed. */
import { VaultError } from '../errors.js';
import type { Vault } from '../vault/vault.js';
import { checkRecipient, seal } from './age.js';
import { serializeBundle, type BundleCredential } from './format.js';

export interface ExportResult {
  /** The age file (binary, or armored text). */
  file: Uint8Array;
  /** `service key` of every credential sealed in it. */
  exported: string[];
  /** Entry names, for the export log in metadata.json. */
  entries: string[];
}

export async function exportBundle(
  vault: Vault,
  services: readonly string[] | 'all',
  recipients: readonly string[],
  opts: { armor: boolean; now: Date },
): Promise<ExportResult> {
  if (recipients.length === 0) {
    throw new VaultError('USAGE', 'export needs at least one --to recipient', { hint: 'mcp-tokens export github --to "$(ssh server mcp-tokens identity)"' });
  }
  recipients.forEach(checkRecipient);
  const listed = await vault.entryNames(); // once: each service's keys are looked up in it
  const names = services === 'all' ? await vault.services(listed) : [...new Set(services)];
  const credentials: BundleCredential[] = [];
  for (const service of names) {
    const { values } = await vault.loadService(service, listed);
    const keys = Object.keys(values).sort();
    if (keys.length === 0 && services !== 'all') {
      throw new VaultError('NOT_FOUND', `No credentials stored for ${service}`, { hint: 'see what is stored with: mcp-tokens list' });
    }
    for (const key of keys) credentials.push({ service, key, value: values[key]! });
  }
  if (credentials.length === 0) {
    throw new VaultError('NOT_FOUND', 'No credentials stored, so there is nothing to export', { hint: 'mcp-tokens store <service> <key>' });
  }
  const plaintext = serializeBundle({ createdAt: opts.now.toISOString(), credentials });
  try {
    const file = await seal(recipients, plaintext, opts.armor);
    return {
      file,
      exported: credentials.map((c) => `${c.service} ${c.key}`),
      entries: credentials.map((c) => `${c.service}_${c.key}`),
    };
  } finally {
    plaintext.fill(0);
  }
}
