import { VaultError } from '../errors.js';
import { checkName, splitServiceRef } from '../names.js';
import { refuseReserved } from '../vault/reserved.js';
import { github } from './github.js';
import { hass } from './hass.js';
import { proxmox } from './proxmox.js';
import { wikijs } from './wikijs.js';
import { checkValueBasics } from './validators.js';
import type { FieldSpec, ServiceSpec } from './types.js';

export type { FieldSpec, ServiceSpec } from './types.js';

export const BUILTIN_SERVICES: readonly ServiceSpec[] = [github, hass, proxmox, wikijs];

// User services (services.json), registered by the CLI when the file exists; a file that failed
// to load is kept as its error, thrown only when a name that is not built in is looked up.
let userSpecs: ReadonlyMap<string, ServiceSpec> = new Map();
let userError: VaultError | undefined;

export function setUserServices(specs: readonly ServiceSpec[] | VaultError): void {
  if (specs instanceof VaultError) {
    userSpecs = new Map();
    userError = specs;
  } else {
    userSpecs = new Map(specs.map((s) => [s.name, s]));
    userError = undefined;
  }
}

/** The user services defined in services.json (throws when the file is invalid). */
export function userServices(): ServiceSpec[] {
  if (userError) throw userError;
  return [...userSpecs.values()];
}

/** The problem of services.json, if it failed to load. */
export function userServicesError(): VaultError | undefined {
  return userError;
}

/** The spec of a service's type, built-in or from services.json; undefined for a name of your own. */
export function typeSpec(ref: string): ServiceSpec | undefined {
  const builtin = builtinService(ref);
  if (builtin) return builtin;
  if (userError) throw userError;
  return userSpecs.get(splitServiceRef(ref).type);
}

/** The built-in spec of a service type (`github`); an instance (`github@work`) has its type's. */
export function builtinService(name: string): ServiceSpec | undefined {
  const type = name.includes('@') ? splitServiceRef(name).type : name;
  return BUILTIN_SERVICES.find((s) => s.name === type);
}

/** The env var of a user-defined service's key: `my-svc` + `api-key` → `MY_SVC_API_KEY` (instances: their type's). */
export function customEnvName(service: string, key: string): string {
  return `${service.replace(/@.*$/s, '')}_${key}`.toUpperCase().replace(/-/g, '_');
}

function customField(service: string, key: string): FieldSpec {
  return {
    key,
    env: customEnvName(service, key),
    derived: true,
    secret: true,
    required: false,
    placeholder: '<value>',
    description: 'user-defined credential',
    validate: () => undefined,
  };
}

/** A type's spec renamed for one of its instances: same fields, validators, env names and live check. */
function forInstance(spec: ServiceSpec, ref: string, instance: string | undefined): ServiceSpec {
  return instance === undefined ? spec : { ...spec, name: ref, title: `${spec.title} (${instance})` };
}

/**
 * The spec of a service reference (`github`, `github@work`): built-in, or user-defined with the
 * given keys (all secret).
 */
export function serviceSpec(name: string, customKeys: readonly string[] = []): ServiceSpec {
  const { instance } = splitServiceRef(name);
  refuseReserved(name);
  const known = typeSpec(name);
  if (known) return forInstance(known, name, instance);
  return { name, title: name, builtin: false, fields: customKeys.map((k) => customField(name, k)) };
}

/** The field spec for service/key, or a usage error naming the keys a built-in service has. */
export function fieldSpec(service: string, key: string): FieldSpec {
  splitServiceRef(service);
  checkName('key', key);
  refuseReserved(service);
  if (!typeSpec(service)) return customField(service, key);
  const spec = serviceSpec(service);
  const field = spec.fields.find((f) => f.key === key);
  if (!field) {
    throw new VaultError('INVALID_INPUT', `Unknown key '${key}' for ${spec.title}`, {
      hint: `${spec.name} keys: ${spec.fields.map((f) => f.key).join(', ')}`,
    });
  }
  return field;
}

export interface ValueCheck {
  field: FieldSpec;
  warnings: string[];
}

/** Validate a value for service/key; throws INVALID_INPUT (never echoing the value). */
export function checkValue(service: string, key: string, value: string): ValueCheck {
  const field = fieldSpec(service, key);
  const basic = checkValueBasics(value);
  const problem = basic ?? field.validate(value);
  if (problem) {
    const [message, hint] = splitMessage(problem);
    throw new VaultError('INVALID_INPUT', message, { hint });
  }
  const warning = field.warn?.(value);
  return { field, warnings: warning ? [warning] : [] };
}

/** "Invalid X format: expected …" → message "Invalid X format", hint "expected …". */
function splitMessage(problem: string): [string, string | undefined] {
  const i = problem.indexOf(': ');
  return i < 0 ? [problem, undefined] : [problem.slice(0, i), problem.slice(i + 2)];
}

/** Lines a user runs to store what a service is missing (the seed's wrapper messages). */
export function storeHints(spec: ServiceSpec, missing: readonly FieldSpec[]): string[] {
  // A secret never goes on the command line (shell history, ps): the hint shows the prompt form.
  return missing.map((f) =>
    f.secret ? `mcp-tokens store ${spec.name} ${f.key}   # asks for it without echo` : `mcp-tokens store ${spec.name} ${f.key} ${f.placeholder}`,
  );
}
