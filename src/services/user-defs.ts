/**
 * services.json without zod: the types of a validated file, the rules a schema cannot say, the
 * specs made from it, and a hand-written check of the schema for the hot path. Every command
 * reads the file before it runs (cli/user-services.ts); zod (services/user.ts) costs ~90 ms to
 * load, so a file this check accepts skips it. The check accepts only what the schema accepts and
 * gives the very same result (test/services/user-defs.test.ts compares them); on anything else it
 * answers "not sure", and the schema itself decides and words the error. `doctor`, `services add`
 * and `services remove` always use the schema.
 */
import { join } from 'node:path';
import { VaultError } from '../errors.js';
import { NAME_RE } from '../names.js';
import { unsafeExportName } from '../launch/env-names.js';
import { readSecureText } from '../vault/fsutil.js';
import { isReservedService } from '../vault/reserved.js';
import { checkUrlProblem } from './check-url.js';
import { MATCH_BUDGET_MS, matchPattern, patternProblem } from './pattern.js';
import { BUILTIN_SERVICES, customEnvName } from './index.js';
import type { FieldSpec, ServiceSpec } from './types.js';

export const USER_SERVICES_FILE = 'services.json';
/** 256 services of 32 fields each fit in far less; a larger file is refused before it is read. */
export const MAX_USER_SERVICES_BYTES = 1024 * 1024;

/** A field as the schema gives it: defaults filled in. */
export interface UserFieldDef {
  key: string;
  env?: string | undefined;
  secret: boolean;
  required: boolean;
  pattern?: string | undefined;
  message?: string | undefined;
  description?: string | undefined;
}

export interface UserCheck {
  method: 'GET' | 'POST';
  url: string;
  headers: Record<string, string>;
  accepted: number[];
  rejected: number[];
}

export interface UserServiceDef {
  name: string;
  title?: string | undefined;
  fields: UserFieldDef[];
  check?: UserCheck | undefined;
}

export interface UserServicesFile {
  version: 1;
  services: UserServiceDef[];
}

/** services.json's text (read as every vault file is), or undefined when there is none. */
export function readUserServicesText(dir: string): { path: string; text: string } | undefined {
  const path = join(dir, USER_SERVICES_FILE);
  const text = readSecureText(path, {
    limit: MAX_USER_SERVICES_BYTES,
    tooBig: () =>
      new VaultError('INVALID_INPUT', `${path} is larger than ${MAX_USER_SERVICES_BYTES / 1024} KiB, far more than any set of service definitions`, {
        hint: 'check that this is the file mcp-tokens services add writes, then shrink or remove it; commands that use no service of your own keep working',
        reason: 'services-json',
      }),
  });
  return text === undefined ? undefined : { path, text };
}

export function parseUserServicesJson(text: string, path: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw invalid(path, '$', `not valid JSON (${(e as Error).message})`);
  }
}

/** The rules a schema cannot say: names unique and not built in, patterns compile, templates name real fields. */
export function checkUserServiceRules(file: UserServicesFile, path: string): UserServicesFile {
  const seen = new Set<string>();
  file.services.forEach((s, i) => {
    const at = `$.services[${i}]`;
    if (BUILTIN_SERVICES.some((b) => b.name === s.name)) throw invalid(path, `${at}.name`, `"${s.name}" is a built-in service; choose another name`);
    if (isReservedService(s.name)) throw invalid(path, `${at}.name`, `"${s.name}" is reserved for mcp-tokens itself`);
    if (seen.has(s.name)) throw invalid(path, `${at}.name`, `"${s.name}" is defined twice`);
    seen.add(s.name);
    const keys = new Set<string>();
    const envs = new Set<string>();
    s.fields.forEach((f, j) => {
      const fat = `${at}.fields[${j}]`;
      if (keys.has(f.key)) throw invalid(path, `${fat}.key`, `the key "${f.key}" is defined twice`);
      keys.add(f.key);
      const env = f.env ?? customEnvName(s.name, f.key);
      const why = unsafeExportName(env);
      if (why) throw invalid(path, `${fat}.env`, `refusing the variable name ${JSON.stringify(env)}: ${why}`);
      if (envs.has(env)) throw invalid(path, `${fat}.env`, `${env} is exported by two fields`);
      envs.add(env);
      if (f.pattern !== undefined) {
        try {
          new RegExp(f.pattern, 'u');
        } catch (e) {
          throw invalid(path, `${fat}.pattern`, `not a valid regular expression (${(e as Error).message})`);
        }
        const unsafe = patternProblem(f.pattern);
        if (unsafe) throw invalid(path, `${fat}.pattern`, unsafe);
      }
    });
    if (s.check) {
      const c = s.check;
      const secret = new Set(s.fields.filter((f) => f.secret).map((f) => f.key));
      for (const ref of placeholders(c.url)) {
        if (!keys.has(ref)) throw invalid(path, `${at}.check.url`, `{${ref}} names no field of ${s.name}`);
        if (secret.has(ref)) throw invalid(path, `${at}.check.url`, `{${ref}} is a secret field: a URL ends up in logs; send it in a header`);
      }
      const urlProblem = checkUrlProblem(c.url);
      if (urlProblem) throw invalid(path, `${at}.check.url`, urlProblem);
      for (const [h, v] of Object.entries(c.headers)) {
        if (REFUSED_HEADERS.has(h.toLowerCase())) {
          throw invalid(path, `${at}.check.headers.${h}`, `the ${h} header is set by mcp-tokens from the check URL, or changes where or how a request travels; a check may not declare it`);
        }
        for (const ref of placeholders(v)) if (!keys.has(ref)) throw invalid(path, `${at}.check.headers.${h}`, `{${ref}} names no field of ${s.name}`);
      }
      const both = c.accepted.find((n) => c.rejected.includes(n));
      if (both !== undefined) throw invalid(path, `${at}.check`, `HTTP ${both} is both accepted and rejected`);
    }
  });
  return file;
}


/**
 * Headers a declared check may not set: they name another host than the URL's (a proxy or a
 * virtual host behind the same address would then get the token), or change how the request is
 * framed, forwarded or upgraded on its way (hop-by-hop headers, request smuggling).
 */
const REFUSED_HEADERS = new Set([
  'host',
  'forwarded',
  'x-forwarded-host',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-port',
  'x-forwarded-server',
  'x-forwarded-prefix',
  'x-host',
  'x-original-url',
  'x-rewrite-url',
  'x-original-host',
  'x-http-method-override',
  'x-http-method',
  'x-method-override',
  'via',
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authorization',
  'proxy-authenticate',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'content-length',
  'expect',
]);

/** `{token}` references in a template. */
export function placeholders(template: string): string[] {
  return [...template.matchAll(/\{([^{}]*)\}/g)].map((m) => m[1]!);
}

/** A ServiceSpec for one definition: fields, validators, env names and the declared live check. */
export function userServiceSpec(def: UserServiceDef): ServiceSpec {
  const title = def.title ?? def.name;
  const fields: FieldSpec[] = def.fields.map((f) => {
    const pattern = f.pattern;
    const message = f.message ?? `Invalid ${title} ${f.key} format`;
    return {
      key: f.key,
      env: f.env ?? customEnvName(def.name, f.key),
      secret: f.secret,
      required: f.required,
      placeholder: `<${f.key}>`,
      description: f.description ?? (f.secret ? 'secret' : 'setting'),
      // Matched in a worker with a time budget (services/pattern.ts): a pattern cannot hang us.
      validate: (value: string) => {
        if (pattern === undefined) return undefined;
        const got = matchPattern(pattern, value);
        if (got === 'match') return undefined;
        if (got === 'timeout') return `${message}: matching the pattern ${pattern} took longer than ${MATCH_BUDGET_MS / 1000} s on this value; simplify the pattern in services.json`;
        return `${message}: expected a value matching ${pattern}`;
      },
    };
  });
  const check = def.check;
  return {
    name: def.name,
    title,
    builtin: false,
    fields,
    ...(check ? { verify: (values, ctx) => import('../verify/declared.js').then((m) => m.verifyDeclared(title, def, check, values, ctx)) } : {}),
  };
}

export function jsonPath(path: ReadonlyArray<PropertyKey>): string {
  return path.reduce<string>((acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : `${acc}.${String(p)}`), '$');
}

export function invalid(path: string, at: string, what: string): VaultError {
  return new VaultError('INVALID_INPUT', `${path}: ${at}: ${what}`, {
    hint: `fix or remove the file (mcp-tokens services add/remove edit it); commands that use no service of your own keep working`,
    reason: 'services-json',
  });
}

/**
 * The schema of services/user.ts, by hand: the file with its defaults filled in, exactly as the
 * schema returns it, or undefined when it is anything but plainly valid (the schema then runs).
 * Stricter never matters (the schema still accepts); looser would — keep the two in step.
 */
export function shapeUserServices(raw: unknown): UserServicesFile | undefined {
  const top = plain(raw, ['version', 'services']);
  if (!top || (top['version'] !== undefined && top['version'] !== 1)) return undefined;
  const list = top['services'];
  if (!Array.isArray(list) || list.length > 256) return undefined;
  const services: UserServiceDef[] = [];
  for (const item of list) {
    const s = shapeService(item);
    if (!s) return undefined;
    services.push(s);
  }
  return { version: 1, services };
}

function shapeService(raw: unknown): UserServiceDef | undefined {
  const o = plain(raw, ['name', 'title', 'fields', 'check']);
  if (!o || !isName(o['name'])) return undefined;
  const title = o['title'];
  if (title !== undefined && !(typeof title === 'string' && title.length >= 1 && title.length <= 80)) return undefined;
  const list = o['fields'];
  if (!Array.isArray(list) || list.length < 1 || list.length > 32) return undefined;
  const fields: UserFieldDef[] = [];
  for (const item of list) {
    const f = shapeField(item);
    if (!f) return undefined;
    fields.push(f);
  }
  let check: UserCheck | undefined;
  if (o['check'] !== undefined) {
    check = shapeCheck(o['check']);
    if (!check) return undefined;
  }
  return { name: o['name'], ...(title !== undefined ? { title } : {}), fields, ...(check ? { check } : {}) };
}

function shapeField(raw: unknown): UserFieldDef | undefined {
  const o = plain(raw, ['key', 'env', 'secret', 'required', 'pattern', 'message', 'description']);
  if (!o || !isName(o['key'])) return undefined;
  const { env, secret = true, required = true, pattern, message, description } = o;
  if (env !== undefined && typeof env !== 'string') return undefined;
  if (typeof secret !== 'boolean' || typeof required !== 'boolean') return undefined;
  if (!optionalText(pattern, 1000) || !optionalText(message, 200) || !optionalText(description, 200)) return undefined;
  return {
    key: o['key'],
    ...(env !== undefined ? { env } : {}),
    secret,
    required,
    ...(pattern !== undefined ? { pattern } : {}),
    ...(message !== undefined ? { message } : {}),
    ...(description !== undefined ? { description } : {}),
  } as UserFieldDef;
}

function shapeCheck(raw: unknown): UserCheck | undefined {
  const o = plain(raw, ['method', 'url', 'headers', 'accepted', 'rejected']);
  if (!o) return undefined;
  const { method = 'GET', url, accepted, rejected = [401, 403] } = o;
  if ((method !== 'GET' && method !== 'POST') || typeof url !== 'string' || url.length > 2000) return undefined;
  let headers: Record<string, string> = {};
  if (o['headers'] !== undefined) {
    const h = plain(o['headers']);
    if (!h) return undefined;
    headers = {};
    for (const [k, v] of Object.entries(h)) {
      if (!/^[A-Za-z0-9-]{1,64}$/.test(k) || typeof v !== 'string' || v.length > 4000) return undefined;
      headers[k] = v;
    }
  }
  if (!statuses(accepted) || accepted.length < 1 || !statuses(rejected)) return undefined;
  return { method, url, headers, accepted: [...accepted], rejected: [...rejected] };
}

/** A plain JSON object with only the allowed keys (all of them allowed when none are given). */
function plain(raw: unknown, allowed?: readonly string[]): Record<string, unknown> | undefined {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw) || Object.getPrototypeOf(raw) !== Object.prototype) return undefined;
  const o = raw as Record<string, unknown>;
  for (const k of Object.keys(o)) if (k === '__proto__' || (allowed && !allowed.includes(k))) return undefined;
  return o;
}

function isName(v: unknown): v is string {
  return typeof v === 'string' && NAME_RE.test(v);
}

function optionalText(v: unknown, max: number): boolean {
  return v === undefined || (typeof v === 'string' && v.length <= max);
}

function statuses(v: unknown): v is number[] {
  return Array.isArray(v) && v.every((n) => typeof n === 'number' && Number.isInteger(n) && n >= 100 && n <= 599);
}
