import { Command } from 'commander';
import { openVault } from '../context.js';
import { info, warn } from '../output.js';
import { readValue } from '../value-input.js';

export const store = new Command('store')
  .description('store a credential (validated, encrypted; the old value is backed up)')
  .argument('<service>', 'github, hass, proxmox, wikijs, an instance such as github@work, or a name of your own')
  .argument('<key>', 'token, url, host, user… (see: mcp-tokens services)')
  .argument('[value]', "the value; '-' or a pipe reads stdin; omitted on a terminal: asked without echo")
  .addHelpText(
    'after',
    `
Examples:
  mcp-tokens store github token                 # asks without echo
  pbpaste | mcp-tokens store github token -     # from a pipe
  mcp-tokens store hass url http://homeassistant.local:8123
  mcp-tokens store proxmox token                # asks for PVEAPIToken=user@realm!tokenid=UUID

The first store creates the vault: in the OS keychain when one is available, otherwise in
encrypted files (a new passphrase is asked twice, or read from MCP_TOKENS_PASSPHRASE_FILE).`,
  )
  .action(async function (this: Command, service: string, key: string, valueArg: string | undefined) {
    const { checkValue, fieldSpec, typeSpec } = await import('../../services/index.js');
    const field = fieldSpec(service, key); // refuse bad names before asking for anything
    if (!typeSpec(service)) {
      const { derivedNameProblem } = await import('../../launch/env-names.js');
      const why = field.env === undefined ? 'no variable' : derivedNameProblem(field.env);
      const exported = why === undefined ? `exported as ${field.env}` : `not exported: ${why}; use --env NAME=${service}.${key} on load or run, or define it with mcp-tokens services add`;
      // `store githb token`: a near miss of a built-in service is most likely a typo, not a new service
      const { closest } = await import('../suggest.js');
      const { BUILTIN_SERVICES } = await import('../../services/index.js');
      const guess = closest(service.split('@')[0]!, BUILTIN_SERVICES.map((s) => s.name));
      const typo = guess === undefined ? '' : `; did you mean ${guess}${service.includes('@') ? service.slice(service.indexOf('@')) : ''}? (if so: mcp-tokens delete ${service})`;
      info(`note: '${service}' is not a built-in service nor in services.json; storing it as your own (${exported})${typo}`);
    }
    // Only a secret on the command line is a leak; a URL, host or user there is fine.
    if (field.secret && valueArg !== undefined && valueArg !== '-') {
      warn('a value on the command line is kept in your shell history and visible to other users in ps; prefer the prompt, or a pipe with -');
    }
    const value = await readValue(valueArg, `${service} ${key}: `, field.secret);
    const { warnings } = checkValue(service, key, value);
    for (const w of warnings) warn(w);
    const vault = await openVault(this, { create: true });
    try {
      if (vault.created) info(`Created a ${vault.created.backend} vault in ${vault.dir} (${vault.created.reason}).`);
      const result = await vault.store(service, key, value);
      for (const w of result.warnings.filter((w) => !warnings.includes(w))) warn(w);
      if (!result.changed) info(`${service} ${key} already holds this value; nothing changed.`);
      else if (result.created) info(`Stored ${service} ${key}.`);
      else info(`Updated ${service} ${key}; the previous value is in backups/${result.backup}.`);
    } finally {
      vault.close();
    }
  });
