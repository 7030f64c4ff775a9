// Run by `prepare` before the build. `npm install -g .` on a fresh clone runs prepare before any
// dependency is installed, and tsc and esbuild are dev dependencies: say what to do instead of
// "tsc: not found".
import { existsSync } from 'node:fs';

const needed = ['../node_modules/typescript/bin/tsc', '../node_modules/esbuild/package.json'];
if (!needed.every((p) => existsSync(new URL(p, import.meta.url)))) {
  process.stderr.write('mcp-tokens: building needs the dev dependencies: run `npm ci` in this clone first, then `npm install -g .` (see README, Install)\n');
  process.exit(1);
}
