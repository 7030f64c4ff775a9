/** File backups (migrate's sealed copies of client configs, backups/files/): the sealing write. */
import { fileAd } from '../crypto/format.js';
import { writeExclusive } from './fsutil.js';
import type { Tx } from './transaction.js';

/** In a transaction: seal doc as the file backup `id` in folder, bound to its name; false when the name is taken. */
export async function writeFileBackup(tx: Tx, folder: string, id: string, doc: Uint8Array): Promise<boolean> {
  return writeExclusive(folder, id, await (await tx.key()).seal(doc, fileAd(id)));
}
