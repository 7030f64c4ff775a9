/** Reading a bundle with a size cap, checked before anything is decrypted. */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { VaultError } from '../errors.js';

/** Far above any real bundle (values are at most 16 KiB each), far below a memory problem. */
export const MAX_BUNDLE = 1024 * 1024;

function tooBig(): VaultError {
  return new VaultError('INVALID_INPUT', `the bundle is larger than ${MAX_BUNDLE / 1024} KiB, more than any export writes`, {
    hint: 'nothing was imported; check that this is the file mcp-tokens export wrote',
  });
}

export function readBundleFile(path: string): Uint8Array {
  let fd: number;
  try {
    // O_NONBLOCK: a FIFO (or a device) named as the bundle must not wait for a writer; fstat refuses it below.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new VaultError(code === 'ENOENT' ? 'NOT_FOUND' : 'IO', `cannot read ${path} (${code ?? 'error'})`, { hint: 'give the path of the bundle, or - to read stdin', cause: e });
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) {
      throw new VaultError('INVALID_INPUT', `${path} is not a regular file`, {
        hint: 'give the path of the bundle file; to read a pipe or another program\'s output, give - and redirect it to stdin (mcp-tokens import - < pipe)',
      });
    }
    if (st.size > MAX_BUNDLE) throw tooBig();
    const buf = Buffer.alloc(st.size);
    let got = 0;
    while (got < st.size) {
      const n = readSync(fd, buf, got, st.size - got, got);
      if (n === 0) break;
      got += n;
    }
    return buf.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

/** Read a stream, refusing (and stopping) as soon as it passes the cap. */
export async function readBundleStream(stream: NodeJS.ReadableStream): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BUNDLE) {
      (stream as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
      throw tooBig();
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
