/** The env vars of one or more services, as `load` prints them and `run` injects them. */
import type { Command } from 'commander';
import { VaultError, isVaultError } from '../errors.js';
import { buildEnv, mergeEnvs } from '../launch/env.js';
import { serviceSpec } from '../services/index.js';
import { globals, openVault, vaultDir } from './context.js';

export async function collectEnv(cmd: Command, services: 'all' | readonly string[], warn: (m: string) => void): Promise<Array<[string, string]>> {
  const names = services === 'all' ? undefined : services.map((s) => serviceSpec(s).name);
  const { Vault, noVaultHint } = await import('../vault/vault.js');
  const dir = vaultDir(globals(cmd));
  if (!Vault.exists(dir)) {
    if (Vault.legacyFiles(dir).length > 0) throw new VaultError('NOT_FOUND', 'No encrypted vault yet', { hint: noVaultHint(dir) });
    if (names) buildEnv(serviceSpec(names[0]!), {}); // throws the seed's "Please run: …"
    throw nothingStored();
  }
  const vault = await openVault(cmd);
  try {
    const parts: Array<{ service: string; env: Record<string, string> }> = [];
    for (const service of names ?? (await vault.services())) {
      const { spec, values } = await vault.loadService(service);
      try {
        parts.push({ service, env: buildEnv(spec, values) });
      } catch (e) {
        if (names || !isVaultError(e, 'NOT_FOUND')) throw e;
        warn(`${e.message}: skipped. ${e.hint ?? ''}`.trim());
      }
    }
    if (parts.length === 0) throw nothingStored();
    return Object.entries(mergeEnvs(parts));
  } finally {
    vault.close();
  }
}

function nothingStored(): VaultError {
  return new VaultError('NOT_FOUND', 'No credentials stored', {
    hint: 'Please run: mcp-tokens store <service> <key>   # asks for the value without echo (see: mcp-tokens services)',
  });
}
