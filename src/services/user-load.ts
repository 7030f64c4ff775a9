/**
 * The vault's user services for a command (cli/user-services.ts): the file read, its shape checked
 * by hand (user-defs.ts) or, when that is not sure, by the schema (user.ts, loaded only then),
 * which words the error; then the rules. full: always the schema (doctor). A module of its own so
 * that user-defs.ts and user.ts do not import each other.
 */
import type { ServiceSpec } from './types.js';
import { checkUserServiceRules, parseUserServicesJson, readUserServicesText, shapeUserServices, userServiceSpec } from './user-defs.js';

export async function loadUserServicesQuick(dir: string, { full = false } = {}): Promise<ServiceSpec[]> {
  const read = readUserServicesText(dir);
  if (!read) return [];
  const raw = parseUserServicesJson(read.text, read.path);
  const shaped = full ? undefined : shapeUserServices(raw);
  const file = shaped ? checkUserServiceRules(shaped, read.path) : (await import('./user.js')).validateUserServices(raw, read.path);
  return file.services.map(userServiceSpec);
}
