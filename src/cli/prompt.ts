/** No-echo prompts on the controlling terminal (/dev/tty), so stdin stays free for piped values. */
import * as fs from 'node:fs';
import * as tty from 'node:tty';
import { VaultError } from '../errors.js';

export async function promptHidden(label: string, noTerminal: () => VaultError): Promise<Uint8Array> {
  let fd: number;
  try {
    fd = fs.openSync('/dev/tty', 'r+');
  } catch {
    throw noTerminal();
  }
  const input = new tty.ReadStream(fd);
  input.setRawMode(true);
  fs.writeSync(fd, label);
  const bytes: number[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      input.on('data', (chunk: Buffer) => {
        for (const b of chunk) {
          if (b === 0x0d || b === 0x0a) return resolve();
          if (b === 0x03 || (b === 0x04 && bytes.length === 0)) {
            return reject(new VaultError('USAGE', 'cancelled', { hint: 'nothing was changed' }));
          }
          if (b === 0x7f || b === 0x08) bytes.pop();
          else if (b >= 0x20) bytes.push(b);
        }
      });
      input.on('error', reject);
    });
  } finally {
    input.setRawMode(false);
    fs.writeSync(fd, '\n');
    input.destroy();
  }
  const out = Uint8Array.from(bytes);
  bytes.fill(0);
  return out;
}

export function hasTerminal(): boolean {
  try {
    fs.closeSync(fs.openSync('/dev/tty', 'r'));
    return true;
  } catch {
    return false;
  }
}
