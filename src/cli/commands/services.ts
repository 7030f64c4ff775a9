import { Command } from 'commander';
import { VaultError } from '../../errors.js';
import { globals, vaultDir } from '../context.js';
import { data, info, json, table } from '../output.js';

export const services = new Command('services')
  .description('list the services (built-in and from services.json), their keys and variables; add or remove your own')
  .option('--json', 'machine-readable output')
  .addHelpText(
    'after',
    `
Instances: every service takes a second (third…) set of values as service@instance, with the
type's fields, checks and variable names:
  mcp-tokens store github@work token
  mcp-tokens run github@work -- npx -y @modelcontextprotocol/server-github

--env NAME=service[@instance].key on run and load exports a field under the name a server reads:
  mcp-tokens run hass --env API_ACCESS_TOKEN=hass.token -- uvx mcp-proxy http://localhost:8123/mcp_server/sse

Services of your own live in services.json in the vault directory (0600), edited with:
  mcp-tokens services add openai --field api-key:OPENAI_API_KEY --title OpenAI
  mcp-tokens services remove openai
A field is key[:ENV][:plain][:optional] (secret and required unless told). Patterns and a live
check (method, URL, headers as templates like "Authorization": "Bearer {api-key}", accepted and
rejected statuses) are written in the file itself; see docs/services.md.`,
  )
  .action(async function (this: Command, opts: { json?: boolean }) {
    const { BUILTIN_SERVICES, userServices } = await import('../../services/index.js');
    const all = [...BUILTIN_SERVICES, ...userServices()];
    const rows = all.flatMap((s) =>
      s.fields.map((f) => ({
        service: s.name,
        title: s.title,
        builtin: s.builtin,
        key: f.key,
        env: f.env ?? null,
        secret: f.secret,
        required: f.required,
        check: s.verify !== undefined,
        description: f.description,
      })),
    );
    if (opts.json) return json(rows);
    data(
      table(
        ['SERVICE', 'KEY', 'ENV', 'SECRET', 'REQUIRED', 'FROM', 'DESCRIPTION'],
        rows.map((r) => [r.service, r.key, r.env ?? '-', r.secret ? 'yes' : 'no', r.required ? 'yes' : 'no', r.builtin ? 'built-in' : 'services.json', r.description]),
      ) +
        '\nInstances: github@work has github\'s keys and variables (mcp-tokens store github@work token).' +
        '\nAny other lower-case name is a service of your own: every key is secret, exported as SERVICE_KEY;' +
        '\ndefine it with mcp-tokens services add <name> --field key[:ENV][:plain] to choose names and checks.\n',
    );
  });

services
  .command('add')
  .description('define a service of your own in services.json')
  .argument('<name>', "the service name (a-z, 0-9, '-')")
  .option('--field <key[:ENV][:plain][:optional]>', 'a field (repeatable): its key, variable name, not secret, not required', (v: string, p: string[]) => [...p, v], [] as string[])
  .option('--title <title>', 'a display name')
  .action(async function (this: Command, name: string, opts: { field: string[]; title?: string }) {
    if (opts.field.length === 0) {
      throw new VaultError('USAGE', 'services add needs at least one --field', { hint: `e.g. mcp-tokens services add ${name} --field api-key:MY_API_KEY` });
    }
    const { addUserService } = await import('../../services/user.js');
    const def = { name, ...(opts.title !== undefined ? { title: opts.title } : {}), fields: opts.field.map(parseField) };
    const path = await addUserService(vaultDir(globals(this)), def);
    info(`Defined ${name} in ${path}: ${def.fields.map((f) => f.key).join(', ')}. Store values with: mcp-tokens store ${name} ${def.fields[0]!.key}`);
  });

services
  .command('remove')
  .description('remove a service of your own from services.json (stored values are kept)')
  .argument('<name>')
  .action(async function (this: Command, name: string) {
    const { removeUserService } = await import('../../services/user.js');
    const path = await removeUserService(vaultDir(globals(this)), name);
    info(`Removed ${name} from ${path}. Its stored values are kept (mcp-tokens delete ${name} removes them).`);
  });

/** `api-key:OPENAI_API_KEY:plain` → { key, env, secret: false }. */
function parseField(spec: string): { key: string; env?: string; secret?: boolean; required?: boolean } {
  const [key = '', ...rest] = spec.split(':');
  const out: { key: string; env?: string; secret?: boolean; required?: boolean } = { key };
  for (const part of rest) {
    if (part === 'plain') out.secret = false;
    else if (part === 'optional') out.required = false;
    else if (part !== '' && out.env === undefined) out.env = part;
    else throw new VaultError('USAGE', `--field ${JSON.stringify(spec.slice(0, 80))}: unexpected ${JSON.stringify(part.slice(0, 40))}`, { hint: 'use --field key[:ENV][:plain][:optional], e.g. --field api-key:OPENAI_API_KEY' });
  }
  return out;
}
