// Build step: render the top-level --help once, into dist/cli/help.txt, so `mcp-tokens --help`
// with stdout not on a terminal prints it without loading every command module. The text is
// exactly what commander prints at its default width of 80 columns.
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const out = fileURLToPath(new URL('../dist/cli/help.txt', import.meta.url));
rmSync(out, { force: true }); // render from commander, not from a previous help.txt
const env = { ...process.env };
delete env.COLUMNS;
const r = spawnSync(process.execPath, [fileURLToPath(new URL('../bin/mcp-tokens.js', import.meta.url)), '--help'], { env, encoding: 'utf8' });
if (r.status !== 0 || !r.stdout.includes('Usage: mcp-tokens')) {
  process.stderr.write(`render-help: could not render --help:\n${r.stderr}`);
  process.exit(1);
}
writeFileSync(out, r.stdout);
