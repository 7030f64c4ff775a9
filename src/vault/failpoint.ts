/**
 * Test hooks, read from the environment of the process they affect (and of no other): tests set
 * them on the one child they want to crash or hold, so a race can be reproduced step by step
 * instead of by sleep-luck. Unset, each is one environment lookup.
 *
 *  - MCP_TOKENS_FAILPOINT=<step>: the process kills itself (SIGKILL) at that step. Steps: those of
 *    a backend move (src/vault/move.ts), and for every atomic file write (fsutil writeAtomic)
 *    `write:<name>` (the temp file is whole and fsync'ed, the target not yet replaced) and
 *    `wrote:<name>` (replaced, the lock still held), e.g. write:services.json,
 *    wrote:mcp-tokens_links, write:metadata.json; `manifest:opening`, `manifest:opened` (the
 *    rollback manifest about to be / just rewritten open, before a transaction's first change to an
 *    entry or metadata.json) and `manifest:closing` (the transaction's work done, the closed
 *    manifest sealed, not yet written: src/vault/manifest.ts); `log:appended` (an access-log record written,
 *    its tail marker not yet replaced: src/audit/log.ts).
 *  - MCP_TOKENS_PAUSE=<step>:<path>: at that step the process creates <path> (holding its pid)
 *    and waits until <path> is removed (at most 120 s, then it goes on; only the first time the
 *    process reaches that step), so a test can run another
 *    command in the window. Steps: `after-open` (any command: the vault opened and unlocked,
 *    nothing read from it yet); `before-lock` (vault opened and unlocked, or for services.json
 *    and the metadata logs the command's work done, lock not yet taken); `before-read` (load, run,
 *    list, export, verify and doctor's checks: vault opened and unlocked, the rollback manifest read,
 *    nothing else read yet — so a keychain read is not begun ahead then, cli/prewarm.ts);
 *    `after-read` (the same readers: everything read, the manifest not yet read again);
 *    `before-write` (migrate: a
 *    file to rewrite read, checked and backed up, not yet checked again and replaced).
 */
import * as fs from 'node:fs';

export function failpoint(step: string): void {
  if (process.env['MCP_TOKENS_FAILPOINT'] === step) process.kill(process.pid, 'SIGKILL');
}

/** Steps already paused at: a command with several transactions (migrate) pauses at the first only. */
const paused = new Set<string>();

export async function pausePoint(step: string): Promise<void> {
  const spec = process.env['MCP_TOKENS_PAUSE'];
  if (!spec || !spec.startsWith(`${step}:`) || paused.has(step)) return;
  paused.add(step);
  const path = spec.slice(step.length + 1);
  fs.writeFileSync(path, `${process.pid}\n`, { mode: 0o600 });
  const deadline = Date.now() + 120_000;
  while (fs.existsSync(path) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}
