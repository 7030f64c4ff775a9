/**
 * User services as data: `services.json` in the vault directory (DESIGN.md §11). Read under the
 * rules of every vault file (0600, ours, never through a link), validated with a zod schema, then
 * turned into ServiceSpecs like the built-ins' (user-defs.ts). Loaded by `doctor`, `services
 * add/remove` and when the hand-written check every other command uses is not sure the file is
 * valid (user-defs.ts): zod costs ~90 ms to load, and a valid file needs no word from it.
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
import { checkUserServiceRules, invalid, jsonPath, parseUserServicesJson, readUserServicesText, userServiceSpec, USER_SERVICES_FILE, type UserServicesFile } from './user-defs.js';
import type { ServiceSpec } from './types.js';

export { placeholders, userServiceSpec, MAX_USER_SERVICES_BYTES, USER_SERVICES_FILE } from './user-defs.js';
export type { UserCheck, UserServiceDef, UserServicesFile } from './user-defs.js';

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

// The hand-written types (user-defs.ts) are what this schema gives: checked both ways here.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const sameShape: Same<z.output<typeof fileSchema>, UserServicesFile> = true;
void sameShape;

/** The parsed file, or undefined when there is none; any problem is one INVALID_INPUT error. */
export function readUserServicesFile(dir: string): UserServicesFile | undefined {
  const read = readUserServicesText(dir);
  if (!read) return undefined;
  return validateUserServices(parseUserServicesJson(read.text, read.path), read.path);
}

/** Schema, then the rules a schema cannot say (user-defs.ts): names unique and not built in, patterns compile, templates name real fields. */
export function validateUserServices(raw: unknown, path: string): UserServicesFile {
  const parsed = fileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw invalid(path, jsonPath(issue.path), issue.message);
  }
  return checkUserServiceRules(parsed.data, path);
}

/** Every user service of the vault in dir as specs (empty when there is no services.json). */
export function loadUserServices(dir: string): ServiceSpec[] {
  return (readUserServicesFile(dir)?.services ?? []).map(userServiceSpec);
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
