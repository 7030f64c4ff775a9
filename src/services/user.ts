/**
 * User services as data: `services.json` in the vault directory (DESIGN.md §11). Read under the
 * rules of every vault file (0600, ours, never through a link), validated with a zod schema, then
 * turned into ServiceSpecs like the built-ins'. Imported only when the file exists, so a vault
 * without one never loads zod.
 *
 * {
 *   "version": 1,
 *   "services": [{
 *     "name": "openai", "title": "OpenAI",
 *     "fields": [{ "key": "api-key", "env": "OPENAI_API_KEY", "pattern": "^sk-[A-Za-z0-9_-]{20,}$",
 *                  "message": "Invalid OpenAI key format", "description": "API key" }],
 *     "check": { "method": "GET", "url": "https://api.openai.com/v1/models",
 *                "headers": { "Authorization": "Bearer {api-key}" }, "accepted": [200], "rejected": [401, 403] }
 *   }]
 * }
 */
import { join } from 'node:path';
import { z } from 'zod';
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

const name = z.string().regex(NAME_RE, "a lower-case letter, then a-z, 0-9 or '-' (at most 32 characters)");
const status = z.number().int().min(100).max(599);

const fieldSchema = z.strictObject({
  key: name,
  env: z.string().optional(),
  secret: z.boolean().default(true),
  required: z.boolean().default(true),
  pattern: z.string().max(1000).optional(),
  message: z.string().max(200).optional(),
  description: z.string().max(200).optional(),
});

const checkSchema = z.strictObject({
  method: z.enum(['GET', 'POST']).default('GET'),
  url: z.string().max(2000),
  headers: z.record(z.string().regex(/^[A-Za-z0-9-]{1,64}$/, 'an HTTP header name'), z.string().max(4000)).default({}),
  accepted: z.array(status).min(1),
  rejected: z.array(status).default([401, 403]),
});

const serviceSchema = z.strictObject({
  name,
  title: z.string().min(1).max(80).optional(),
  fields: z.array(fieldSchema).min(1).max(32),
  check: checkSchema.optional(),
});

export const fileSchema = z.strictObject({
  version: z.literal(1).default(1),
  services: z.array(serviceSchema).max(256),
});

export type UserServicesFile = z.output<typeof fileSchema>;
export type UserServiceDef = UserServicesFile['services'][number];
export type UserCheck = NonNullable<UserServiceDef['check']>;

/** The parsed file, or undefined when there is none; any problem is one INVALID_INPUT error. */
export function readUserServicesFile(dir: string): UserServicesFile | undefined {
  const path = join(dir, USER_SERVICES_FILE);
  const text = readSecureText(path, {
    limit: MAX_USER_SERVICES_BYTES,
    tooBig: () =>
      new VaultError('INVALID_INPUT', `${path} is larger than ${MAX_USER_SERVICES_BYTES / 1024} KiB, far more than any set of service definitions`, {
        hint: 'check that this is the file mcp-tokens services add writes, then shrink or remove it; commands that use no service of your own keep working',
        reason: 'services-json',
      }),
  });
  if (text === undefined) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw invalid(path, '$', `not valid JSON (${(e as Error).message})`);
  }
  return validateUserServices(raw, path);
}

/** Schema, then the rules a schema cannot say: names unique and not built in, patterns compile, templates name real fields. */
export function validateUserServices(raw: unknown, path: string): UserServicesFile {
  const parsed = fileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw invalid(path, jsonPath(issue.path), issue.message);
  }
  const file = parsed.data;
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

/** The template with each `{field}` replaced by its value. */
export function fillTemplate(template: string, values: Readonly<Record<string, string>>): string {
  return template.replace(/\{([^{}]*)\}/g, (_m, key: string) => values[key] ?? '');
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

/** Every user service of the vault in dir as specs (empty when there is no services.json). */
export function loadUserServices(dir: string): ServiceSpec[] {
  return (readUserServicesFile(dir)?.services ?? []).map(userServiceSpec);
}

function jsonPath(path: ReadonlyArray<PropertyKey>): string {
  return path.reduce<string>((acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : `${acc}.${String(p)}`), '$');
}

function invalid(path: string, at: string, what: string): VaultError {
  return new VaultError('INVALID_INPUT', `${path}: ${at}: ${what}`, {
    hint: `fix or remove the file (mcp-tokens services add/remove edit it); commands that use no service of your own keep working`,
    reason: 'services-json',
  });
}

/**
 * Add a service definition (services add): under the vault lock, the file re-read, the result
 * validated as a whole, then written atomically (0600, never through a link). Nothing is written
 * when anything is refused.
 */
export async function addUserService(dir: string, def: z.input<typeof serviceSchema>): Promise<string> {
  const { ensureDir, writeAtomic } = await import('../vault/fsutil.js');
  ensureDir(dir, true);
  const path = join(dir, USER_SERVICES_FILE);
  return underLock(dir, async () => {
    const current = readUserServicesFile(dir) ?? { version: 1 as const, services: [] };
    if (current.services.some((s) => s.name === def.name)) {
      throw new VaultError('INVALID_INPUT', `${def.name} is already defined in ${path}`, { hint: `remove it first: mcp-tokens services remove ${def.name}` });
    }
    const next = validateUserServices({ version: 1, services: [...current.services, def] }, `${path} (after adding ${def.name})`);
    writeAtomic(dir, USER_SERVICES_FILE, `${JSON.stringify(next, null, 2)}\n`);
    return path;
  });
}

/** Remove a definition (services remove); its stored values stay, as a service of your own. */
export async function removeUserService(dir: string, serviceName: string): Promise<string> {
  const { ensureDir, writeAtomic } = await import('../vault/fsutil.js');
  const path = join(dir, USER_SERVICES_FILE);
  const notDefined = () => new VaultError('NOT_FOUND', `${serviceName} is not defined in ${path}`, { hint: 'see the services with: mcp-tokens services' });
  if (!ensureDir(dir, false)) throw notDefined();
  return underLock(dir, async () => {
    const current = readUserServicesFile(dir);
    if (!current || !current.services.some((s) => s.name === serviceName)) throw notDefined();
    const next = { ...current, services: current.services.filter((s) => s.name !== serviceName) };
    writeAtomic(dir, USER_SERVICES_FILE, `${JSON.stringify(next, null, 2)}\n`);
    return path;
  });
}

/**
 * services.json is read, changed and written under the vault lock, never from a copy read before
 * it: two `services add` at once keep both definitions (test/cli/race-writers.test.ts). Temp
 * files of a writer killed mid-write are swept here as by any vault write.
 */
async function underLock<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  const { cleanStaleTemps } = await import('../vault/fsutil.js');
  const { withLock } = await import('../vault/lock.js');
  const { pausePoint } = await import('../vault/failpoint.js');
  await pausePoint('before-lock');
  return withLock(dir, async () => {
    cleanStaleTemps(dir);
    return fn();
  });
}
