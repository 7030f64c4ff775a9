import { Command } from 'commander';
import { data, json, table } from '../output.js';

export const services = new Command('services')
  .description('list the built-in services, their keys and environment variables')
  .option('--json', 'machine-readable output')
  .action(async (opts: { json?: boolean }) => {
    const { BUILTIN_SERVICES } = await import('../../services/index.js');
    const rows = BUILTIN_SERVICES.flatMap((s) =>
      s.fields.map((f) => ({ service: s.name, title: s.title, key: f.key, env: f.env ?? null, secret: f.secret, required: f.required, description: f.description })),
    );
    if (opts.json) return json(rows);
    data(
      table(
        ['SERVICE', 'KEY', 'ENV', 'SECRET', 'REQUIRED', 'DESCRIPTION'],
        rows.map((r) => [r.service, r.key, r.env ?? '-', r.secret ? 'yes' : 'no', r.required ? 'yes' : 'no', r.description]),
      ) + '\nAny other lower-case name is a service of your own: every key is secret, exported as SERVICE_KEY.\n',
    );
  });
