/**
 * No-echo prompts on the controlling terminal (/dev/tty), so stdin stays free for piped values.
 * The terminal is in raw mode only while a line is read, and always back in its own mode
 * (echo on) before anything else happens: on Enter, Ctrl-C, Ctrl-D, SIGINT, SIGTERM or SIGHUP.
 * Ctrl-C is a byte in raw mode, not a signal: it cancels with exit 130, as a shell reports it.
 */
import * as fs from 'node:fs';
import * as tty from 'node:tty';
import { VaultError } from '../errors.js';

export interface PromptErrors {
  /** No terminal to ask on. */
  noTerminal: () => VaultError;
  /** Ctrl-D on an empty line, or the terminal went away: nothing was given. */
  endOfInput: () => VaultError;
}

/** Ctrl-C at a prompt: the command stops there, exit 130 (128 + SIGINT). */
export function cancelled(): VaultError {
  return new VaultError('USAGE', 'cancelled', { hint: 'nothing was changed', reason: 'cancelled', exitCode: 130 });
}

export async function promptHidden(label: string, errors: PromptErrors): Promise<Uint8Array> {
  let fd: number;
  try {
    fd = fs.openSync('/dev/tty', 'r+');
  } catch {
    throw errors.noTerminal();
  }
  const input = new tty.ReadStream(fd);
  const bytes: number[] = [];
  const signals: Array<[NodeJS.Signals, () => void]> = [];
  try {
    input.setRawMode(true);
    fs.writeSync(fd, label);
    await new Promise<void>((resolve, reject) => {
      // Killed while the echo is off: give the terminal back first, then stop as the signal would.
      for (const [sig, n] of [['SIGINT', 2], ['SIGTERM', 15], ['SIGHUP', 1]] as const) {
        const onSignal = () => reject(sig === 'SIGINT' ? cancelled() : new VaultError('USAGE', `stopped by ${sig}`, { hint: 'nothing was changed', exitCode: 128 + n }));
        signals.push([sig, onSignal]);
        process.once(sig, onSignal);
      }
      input.on('data', (chunk: Buffer) => {
        for (const b of chunk) {
          if (b === 0x0d || b === 0x0a) return resolve();
          if (b === 0x03) return reject(cancelled());
          if (b === 0x04 && bytes.length === 0) return reject(errors.endOfInput());
          if (b === 0x7f || b === 0x08) bytes.pop();
          else if (b === 0x15) bytes.splice(0).fill(0); // Ctrl-U: start the line again
          else if (b >= 0x20) bytes.push(b);
        }
      });
      input.on('end', () => reject(errors.endOfInput()));
      input.on('error', () => reject(errors.endOfInput()));
    });
  } catch (e) {
    bytes.fill(0);
    throw e;
  } finally {
    for (const [sig, fn] of signals) process.removeListener(sig, fn);
    try {
      input.setRawMode(false);
      fs.writeSync(fd, '\n');
    } catch {
      // the terminal is gone (hang-up): nothing to restore
    }
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
