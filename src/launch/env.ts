/**
 * The environment a launched MCP server gets: variable names come only from the service table
 * (a stored value can never choose its own name), and every variable that can carry a passphrase
 * is taken out so a child never inherits the means to open the vault.
 */
import { VaultError } from '../errors.js';
import { storeHints } from '../services/index.js';
import { derivedNameProblem, unsafeExportName } from './env-names.js';
import type { FieldSpec, ServiceSpec } from '../services/index.js';

/** Portable environment variable names: what every shell we emit for can assign. */
export const ENV_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

// Same set the vault refuses on store (C0, DEL, C1); checked again here because this is the
// last point before a value reaches a shell's eval or a child's environment.
const CONTROL_RE = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * Every variable mcp-tokens reads a passphrase from: the value itself, a file holding it, a file
 * descriptor to read it from — for the vault's passphrase and for `passwd`'s new one.
 */
export const PASSPHRASE_VARIABLES = [
  'MCP_TOKENS_PASSPHRASE',
  'MCP_TOKENS_PASSPHRASE_FILE',
  'MCP_TOKENS_PASSPHRASE_FD',
  'MCP_TOKENS_NEW_PASSPHRASE',
  'MCP_TOKENS_NEW_PASSPHRASE_FILE',
  'MCP_TOKENS_NEW_PASSPHRASE_FD',
] as const;

// The rule behind the list, so a variant added later (or spelt in lower case, which Windows
// treats as the same variable) is covered too: any MCP_TOKENS_… name that mentions PASSPHRASE.
const PASSPHRASE_VAR_RE = /^MCP_TOKENS_[A-Z0-9_]*PASSPHRASE/i;

/**
 * True for a variable that can carry a passphrase. `run` strips these from a child's environment;
 * `load`, `run` and the library refuse to export one (a user-defined service `mcp-tokens` with a
 * key `passphrase` would otherwise set MCP_TOKENS_PASSPHRASE in the user's shell).
 */
export function isPassphraseVariable(name: string): boolean {
  return PASSPHRASE_VAR_RE.test(name);
}

/** A stored field left out of the environment because its derived name is not one to export. */
export interface Withheld {
  key: string;
  name: string;
  why: string;
}

/**
 * Map a service's stored values (keyed by field key: `token`, `url`…) to its env vars.
 * Fields without an env name (github api, proxmox ca…) are stored but never exported.
 * Throws NOT_FOUND with the seed's wrapper message when a required field is missing, or when a
 * service with no required fields (a user-defined one) has nothing exportable at all.
 * For a user-defined service pass `serviceSpec(name, storedKeys)` so each key has its FieldSpec.
 *
 * A name derived for a service nobody declared (`docker` + `host` → DOCKER_HOST) is exported
 * only when it passes env-names.ts's derivedNameProblem; otherwise the field is withheld and
 * `onWithheld` told. A service with nothing left to export but withheld fields is INVALID_INPUT.
 * A declared name on the refused list (possible only through the library) is INVALID_INPUT too.
 */
export function buildEnv(
  spec: ServiceSpec,
  values: Readonly<Record<string, string>>,
  onWithheld: (w: Withheld) => void = () => {},
  /** Keys an `--env` mapping exports under a name of its own: withheld silently, never an error. */
  covered: (key: string) => boolean = () => false,
): Record<string, string> {
  const missing = spec.fields.filter((f) => f.required && !has(values, f.key));
  const env: Record<string, string> = {};
  const withheld: Withheld[] = [];
  let coveredOnly = false;
  for (const field of spec.fields) {
    if (field.env === undefined || !has(values, field.key)) continue;
    const name = field.env;
    if (isPassphraseVariable(name)) assertEnvPair(name, ''); // throws, naming the passphrase variable
    const why = field.derived ? derivedNameProblem(name) : unsafeExportName(name);
    if (why && !field.derived) {
      throw new VaultError('INVALID_INPUT', `Refusing to export ${name} for ${spec.name}: ${why}`, {
        hint: `export the field under another name: --env MY_NAME=${spec.name}.${field.key}`,
      });
    }
    if (why && covered(field.key)) coveredOnly = true;
    else if (why) withheld.push({ key: field.key, name, why });
    else env[name] = values[field.key]!;
  }
  if (missing.length > 0) throw notStored(spec, missing, spec.fields.filter((f) => f.required));
  if (Object.keys(env).length === 0 && withheld.length > 0 && !coveredOnly) {
    const first = withheld[0]!;
    throw new VaultError('INVALID_INPUT', `Refusing to export ${withheld.map((w) => w.name).join(', ')} for ${spec.name}: ${first.why}`, {
      hint: declareHint(spec.name, first),
    });
  }
  if (Object.keys(env).length === 0 && !coveredOnly) throw notStored(spec, [], []);
  for (const w of withheld) onWithheld(w);
  for (const [name, value] of Object.entries(env)) assertEnvPair(name, value);
  return env;
}

/** How to export a withheld field anyway: a name the user declares on this machine. */
export function declareHint(service: string, w: Withheld): string {
  if (unsafeExportName(w.name)) return `export it under a name of your choosing: --env MY_NAME=${service}.${w.key}`;
  return `to export it, declare the name on this machine: --env ${w.name}=${service}.${w.key} on load or run, or define the service with all its fields (mcp-tokens services add ${service.replace(/@.*$/s, '')} --field ${w.key}:${w.name} --field …)`;
}

/**
 * Join the env maps of several services (`run github hass -- …`). Two services that would set
 * the same variable (a user-defined `github-personal`/`access-token` against github's token) are
 * refused rather than letting the later one silently win.
 */
export function mergeEnvs(
  parts: ReadonlyArray<{ service: string; env: Readonly<Record<string, string>>; spec?: ServiceSpec }>,
  decided: ReadonlySet<string> = new Set(),
): Record<string, string> {
  const out: Record<string, string> = {};
  const owner = new Map<string, string>();
  for (const { service, env, spec } of parts) {
    for (const [name, value] of Object.entries(env)) {
      const prev = owner.get(name);
      if (decided.has(name)) continue; // an --env mapping sets it
      if (prev !== undefined && prev !== service) {
        const key = spec ? keyOf(spec, name) : '<key>';
        throw new VaultError('INVALID_INPUT', `${prev} and ${service} both set ${name}`, {
          hint: `say which one with --env ${name}=${prev}.${key} (or ${service}.${key}), or launch them separately`,
        });
      }
      owner.set(name, service);
      out[name] = value;
    }
  }
  return out;
}

/** The key of the field a variable comes from (for hints that name a real --env mapping). */
function keyOf(spec: ServiceSpec, name: string): string {
  return spec.fields.find((f) => f.env === name)?.key ?? '<key>';
}

/** A copy of `env` without any variable that can carry a passphrase (see PASSPHRASE_VARIABLES). */
export function scrubEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || isPassphraseVariable(name)) continue;
    out[name] = value;
  }
  return out;
}

/** Refuse a name a shell could misread or a value holding a control character (never echoed). */
export function assertEnvPair(name: string, value: string): void {
  if (!ENV_NAME_RE.test(name)) {
    throw new VaultError('INVALID_INPUT', `Refusing to export an invalid variable name ${JSON.stringify(name.slice(0, 64))}`);
  }
  if (isPassphraseVariable(name)) {
    throw new VaultError('INVALID_INPUT', `Refusing to export ${name}: mcp-tokens reads its passphrase from that variable`, {
      hint: 'rename the service or key (mcp-tokens delete, then store it under another name)',
    });
  }
  if (CONTROL_RE.test(value)) {
    throw new VaultError('INTEGRITY', `The value for ${name} contains a control character; refusing to export it`, {
      hint: 'the vault refuses such values on store: store the credential again',
    });
  }
}

function has(values: Readonly<Record<string, string>>, key: string): boolean {
  return Object.hasOwn(values, key) && values[key] !== undefined && values[key] !== '';
}

/**
 * "No credentials stored for hass" + one "mcp-tokens store …" line per missing field, as the
 * seed's wrapper scripts printed. When only some required fields are missing the message names them.
 */
function notStored(spec: ServiceSpec, missing: readonly FieldSpec[], required: readonly FieldSpec[]): VaultError {
  const partial = missing.length > 0 && missing.length < required.length;
  const message = partial
    ? `No credentials stored for ${spec.name} ${missing.map((f) => f.key).join(', ')}`
    : `No credentials stored for ${spec.name}`;
  const lines = missing.length > 0 ? storeHints(spec, missing) : [`mcp-tokens store ${spec.name} <key>   # asks for the value without echo`];
  const hint = lines.length === 1 ? `Please run: ${lines[0]}` : `Please run:\n${lines.map((l) => `  ${l}`).join('\n')}`;
  return new VaultError('NOT_FOUND', message, { hint });
}
