/** Where `store` gets its value: argv, '-' or a pipe (stdin), or a no-echo terminal prompt. */
import { VaultError } from '../errors.js';
import { promptHidden } from './prompt.js';

const MAX_INPUT = 64 * 1024;

export async function readValue(arg: string | undefined, label: string, secret: boolean): Promise<string> {
  if (arg !== undefined && arg !== '-') return arg;
  if (arg === '-' || !process.stdin.isTTY) return readStdin();
  void secret; // every value is asked without echo: a URL can hold a secret path too
  const bytes = await promptHidden(label, {
    noTerminal: () => new VaultError('USAGE', 'no value given and no terminal to ask on', { hint: "pass the value, or pipe it in with '-'" }),
    endOfInput: () => new VaultError('USAGE', 'no value given (end of input)', { hint: 'nothing was stored' }),
  });
  const text = new TextDecoder().decode(bytes);
  bytes.fill(0);
  return text;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_INPUT) throw new VaultError('INVALID_INPUT', 'Value too long (more than 16384 bytes)', { hint: 'nothing was stored' });
    chunks.push(chunk);
  }
  let text = Buffer.concat(chunks).toString('utf8');
  if (text.endsWith('\r\n')) text = text.slice(0, -2);
  else if (text.endsWith('\n')) text = text.slice(0, -1);
  if (text === '') {
    throw new VaultError('INVALID_INPUT', 'Empty value on stdin', { hint: 'nothing was stored; pipe the value in, or run the command on a terminal to be asked for it (no echo)' });
  }
  return text;
}
