import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileBackend } from '../../src/backends/file.js';
import { LocalKeyHandle } from '../../src/crypto/keyhandle.js';
import { testBackend } from './contract.js';

testBackend('file', async () => {
  const root = mkdtempSync(join(tmpdir(), 'mcp-tokens-file-'));
  const dir = join(root, 'vault');
  const { mkdirSync } = await import('node:fs');
  mkdirSync(dir, { mode: 0o700 });
  const dataKey = new Uint8Array(randomBytes(32));
  return { backend: fileBackend({ dir, keys: [new LocalKeyHandle(dataKey)] }), cleanup: async () => rmSync(root, { recursive: true, force: true }) };
});
