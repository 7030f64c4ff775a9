/**
 * How to run this very CLI again from generated shell code (shell-init, completion): the node
 * executable and our bin script, both absolute. Code that said `mcp-tokens` would only work when
 * that name is on PATH — not with `npx mcp-tokens` or `node bin/mcp-tokens.js` — and could reach
 * another installation; `direnv hook` embeds its own path for the same reason.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export function cliArgv(): [string, string] {
  const bin = fileURLToPath(new URL('../../bin/mcp-tokens.js', import.meta.url));
  // Run from dist/cli/ the bin is two levels up; anything else (a bundler) falls back to argv[1].
  const script = existsSync(bin) ? bin : resolve(process.argv[1] ?? bin);
  return [process.execPath, script];
}
