/**
 * `--env NAME=service[@instance].key` (on run and load): export one stored field under the name a
 * server reads, e.g. `--env API_ACCESS_TOKEN=hass.token` for Home Assistant's mcp-proxy.
 */
import { VaultError } from '../errors.js';
import { checkName, checkServiceRef } from '../names.js';
import { checkExportName } from './env-names.js';

export interface EnvMapping {
  /** The variable to set: `API_ACCESS_TOKEN`. */
  name: string;
  /** The service reference: `hass`, `github@work`. */
  service: string;
  key: string;
}

const SHAPE = 'NAME=service.key or NAME=service@instance.key, e.g. --env GITHUB_TOKEN=github@work.token';

/** Parse one `--env` argument; a malformed one is a usage error (exit 2) naming the expected shape. */
export function parseEnvMapping(arg: string): EnvMapping {
  const eq = arg.indexOf('=');
  const dot = arg.lastIndexOf('.');
  if (eq <= 0 || dot < eq + 2 || dot === arg.length - 1) {
    const shown = JSON.stringify(arg.length > 80 ? `${arg.slice(0, 80)}…` : arg).replace(/[\u0000-\u001f\u007f]/g, '?');
    throw new VaultError('USAGE', `--env ${shown} is not a reference to a stored field`, { hint: `use ${SHAPE}` });
  }
  const name = checkExportName(arg.slice(0, eq), '--env');
  const service = checkServiceRef(arg.slice(eq + 1, dot));
  const key = checkName('key', arg.slice(dot + 1));
  return { name, service, key };
}

/** Parse every `--env`; the same variable named twice is refused rather than letting one win. */
export function parseEnvMappings(args: readonly string[]): EnvMapping[] {
  const out: EnvMapping[] = [];
  for (const arg of args) {
    const m = parseEnvMapping(arg);
    const prev = out.find((o) => o.name === m.name);
    if (prev) {
      throw new VaultError('USAGE', `--env sets ${m.name} twice (${prev.service}.${prev.key} and ${m.service}.${m.key})`, {
        hint: 'give each variable one --env',
      });
    }
    out.push(m);
  }
  return out;
}
