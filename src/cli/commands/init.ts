import { Command, Option } from 'commander';
import { openVault } from '../context.js';
import { info } from '../output.js';

export const init = new Command('init')
  .description('create the vault explicitly (store creates it on demand)')
  .addOption(new Option('--kdf <preset>', 'Argon2id cost for a file vault').choices(['interactive', 'default', 'moderate', 'sensitive']).default('default'))
  .addHelpText(
    'after',
    `
Backends (global --backend, or MCP_TOKENS_BACKEND):
  auto      the OS keychain if one answers, else encrypted files (default)
  keychain  macOS Keychain, Windows Credential Manager, Linux Secret Service
  file      libsodium-encrypted files in ~/.mcp_tokens, unlocked by a passphrase
KDF presets: interactive (ops 2, 64 MiB), default (ops 3, 64 MiB), moderate (ops 3, 256 MiB),
sensitive (ops 4, 1 GiB).`,
  )
  .action(async function (this: Command, opts: { kdf: string }) {
    const { Vault } = await import('../../vault/vault.js');
    const { globals, vaultDir } = await import('../context.js');
    const { VaultError } = await import('../../errors.js');
    const dir = vaultDir(globals(this));
    if (Vault.exists(dir)) throw new VaultError('USAGE', `a vault already exists in ${dir}`, { hint: 'see it with: mcp-tokens doctor' });
    const vault = await openVault(this, { create: true, kdf: opts.kdf });
    try {
      info(`Created a ${vault.backendName} vault in ${vault.dir}${vault.created ? ` (${vault.created.reason})` : ''}.`);
    } finally {
      vault.close();
    }
  });
