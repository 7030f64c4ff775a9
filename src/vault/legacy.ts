/**
 * The old shell script's plaintext token files, `{dir}/{service}_{key}`, where a file vault keeps
 * its sealed entries. `store` and `delete` replace such a file (its value backed up, encrypted,
 * first) instead of refusing; migrate moves them all. Reading one here never makes it a credential
 * that is used: its value only goes into a backup.
 */
import * as fs from 'node:fs';
import { looksSealed } from '../crypto/format.js';

const MAX_BYTES = 64 * 1024;
const { O_RDONLY, O_NOFOLLOW, O_NONBLOCK } = fs.constants;

/**
 * The value of a legacy plaintext file at path (trimmed, BOM removed), whatever its mode — a
 * loose mode is the reason to move it, not to refuse it. Undefined when absent, a link, not a
 * regular file, not the user's, too large, empty or a sealed entry.
 */
export function readLegacyPlain(path: string): string | undefined {
  let fd: number;
  try {
    fd = fs.openSync(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    const st = fs.fstatSync(fd);
    const me = typeof process.getuid === 'function' ? process.getuid() : undefined;
    if (!st.isFile() || st.size > MAX_BYTES || (me !== undefined && st.uid !== me)) return undefined;
    const text = fs.readFileSync(fd).toString('utf8');
    if (looksSealed(text)) return undefined;
    const value = text.replace(/^\uFEFF/, '').trim();
    return value === '' ? undefined : value;
  } catch {
    return undefined;
  } finally {
    fs.closeSync(fd);
  }
}
