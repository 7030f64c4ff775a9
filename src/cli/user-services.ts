/**
 * Before each command: when the vault directory holds a services.json, load it and register its
 * services; a broken file is registered as its error, so commands that need no service of the
 * user's own keep working and the others exit 2 with it. A plainly valid file is checked by hand
 * (services/user-defs.ts); zod runs for `doctor` and whenever that check is not sure.
 */
import { join } from 'node:path';
import { VaultError } from '../errors.js';
import { globals, vaultDir, type CommandLike } from './context.js';
import { lstatOrUndefined } from '../vault/fsutil.js';

export async function registerUserServices(cmd: CommandLike): Promise<void> {
  const dir = vaultDir(globals(cmd));
  try {
    if (!lstatOrUndefined(join(dir, 'services.json'))) return;
  } catch {
    return; // an unreadable directory is reported by the command itself
  }
  const { setUserServices } = await import('../services/index.js');
  try {
    const { loadUserServicesQuick } = await import('../services/user-load.js');
    setUserServices(await loadUserServicesQuick(dir, { full: cmd.name() === 'doctor' }));
  } catch (e) {
    if (!(e instanceof VaultError)) throw e;
    setUserServices(e);
  }
}
