import { Command } from 'commander';
import { VaultError } from '../../errors.js';
import { data, warn } from '../output.js';
import { globals, openForRead, vaultDir } from '../context.js';

export const headers = new Command('headers')
  .description("print a remote server's HTTP headers from the vault as JSON (Claude Code's headersHelper)")
  .argument('<service>', 'the service whose fields fill the headers (github, github@work, one of your own…)')
  .option('--header <NAME=TEMPLATE>', "a header; {key} in TEMPLATE is the service's stored field (repeatable)", (v: string, p: string[]) => [...p, v], [] as string[])
  .addHelpText(
    'after',
    `
Examples:
  mcp-tokens headers github --header 'Authorization=Bearer {token}'
  → {"Authorization":"Bearer ghp_…"}

Claude Code runs a remote server's "headersHelper" command through a shell and sends the JSON
object it prints as the server's headers; 'mcp-tokens migrate' writes this command there and
removes the plaintext "headers". Only the JSON is printed, on stdout, with the secrets in it: like
'load', it is meant for a program to read. Names and templates come from the command line, the
values only from the vault: a template must reference a field ({token}) and is refused when it
looks like it holds a credential itself. A field not stored exits 3 with the store command to run.`,
  )
  .action(async function (this: Command, service: string, opts: { header: string[] }) {
    const { parseHeaderTemplates, renderHeaders } = await import('../../launch/headers.js');
    const { serviceSpec } = await import('../../services/index.js');
    const name = serviceSpec(service).name; // a refused service name exits 2 before anything is opened
    const templates = parseHeaderTemplates(opts.header);
    const { Vault } = await import('../../vault/vault.js');
    if (!Vault.exists(vaultDir(globals(this)))) {
      throw new VaultError('NOT_FOUND', `No credentials stored for ${name}`, { hint: `Please run: mcp-tokens store ${name} <key>   # asks for the value without echo` });
    }
    const read: string[] = [];
    const { vault, value } = await openForRead(this, async (vault) => {
      const { readLinks, loadWithLinks } = await import('../../links/resolve.js');
      const { values } = await loadWithLinks(vault, name, await readLinks(vault));
      read.splice(0, read.length, ...Object.keys(values).map((k) => `${name}_${k}`));
      return renderHeaders(name, templates, values);
    });
    try {
      // headers prints secrets as load does: it is in the access log too (issue 29).
      const { logAccess } = await import('../../audit/access.js');
      await logAccess(vault.dir, () => vault.key(), { cmd: 'headers', names: read }, warn);
    } finally {
      vault.close();
    }
    data(JSON.stringify(value));
  });
