/** A bundle written to a new file: created 0600, never over an existing file or through a symlink. */
import { closeSync, constants, fsyncSync, openSync, writeSync } from 'node:fs';
import { VaultError } from '../errors.js';

export function writeNewFile(path: string, bytes: Uint8Array): void {
  let fd: number;
  try {
    fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new VaultError('USAGE', `${path} already exists`, { hint: 'choose a new file name, or remove the old bundle first', cause: e });
    throw new VaultError('IO', `cannot create ${path} (${code ?? 'error'})`, { hint: 'check the directory exists and is writable', cause: e });
  }
  try {
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
