/**
 * The agent process, started by `mcp-tokens unlock` (agent/start.ts):
 *   node dist/agent/main.js --vault DIR --socket-dir DIR [--timeout MS] [--idle MS]
 * argv holds no secret. The data key (32 bytes) and the SHA-256 of vault.json (64 hex
 * characters) arrive on stdin, which is then closed; the input buffers are zeroed. One line of
 * JSON on stdout says whether it serves ({"ok":true,"status":…}) or why not; then stdout is
 * closed too, and the agent lives on detached (its own session, cwd /, stderr discarded).
 */
import { closeSync, readdirSync, readFileSync } from 'node:fs';
import { isVaultError } from '../errors.js';
import { KEY_BYTES } from '../crypto/format.js';
import { socketFiles } from './paths.js';
import { startAgent } from './server.js';

process.umask(0o077);
process.title = 'mcp-tokens-agent';

/** O_CLOEXEC as /proc/<pid>/fdinfo shows it (Linux: 02000000 octal on every architecture but a few). */
const O_CLOEXEC = 0o2000000;
closeInherited();
process.chdir('/');

/**
 * Close every descriptor above stderr that came from whoever ran `unlock` (a pipe, a log file, a
 * socket of the terminal's): the agent lives for hours and must not keep them open. Node and libuv
 * open all of theirs close-on-exec, so a descriptor without O_CLOEXEC was inherited through exec;
 * /proc/self/fdinfo says which. Where there is no /proc (macOS), nothing is closed here.
 */
function closeInherited(): void {
  let fds: string[];
  try {
    fds = readdirSync('/proc/self/fd');
  } catch {
    return;
  }
  for (const name of fds) {
    const fd = Number(name);
    if (!Number.isInteger(fd) || fd <= 2) continue;
    try {
      const flags = /^flags:\s*([0-7]+)/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'));
      if (flags && (parseInt(flags[1]!, 8) & O_CLOEXEC) === 0) closeSync(fd);
    } catch {
      /* gone meanwhile (the directory listing's own descriptor) */
    }
  }
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i < 0 ? undefined : process.argv[i + 1];
}

function ms(name: string): number | null {
  const v = arg(name);
  return v === undefined || v === 'none' ? null : Number(v);
}

function say(msg: object): void {
  process.stdout.write(`${JSON.stringify(msg)}\n`);
  process.stdout.end();
}

async function readInput(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  const all = Buffer.concat(chunks);
  for (const c of chunks) c.fill(0);
  return all;
}

async function main(): Promise<void> {
  const vaultDir = arg('--vault');
  const socketDir = arg('--socket-dir');
  const name = arg('--name');
  if (!vaultDir?.startsWith('/') || !socketDir?.startsWith('/') || !name || !/^[0-9a-f]{20}$/.test(name)) return say({ ok: false, code: 'USAGE', message: 'the agent is started by mcp-tokens unlock' });
  const input = await readInput();
  if (input.length !== KEY_BYTES + 64) {
    input.fill(0);
    return say({ ok: false, code: 'USAGE', message: 'the agent got no key' });
  }
  const key = new Uint8Array(input.subarray(0, KEY_BYTES));
  const config = input.subarray(KEY_BYTES).toString('latin1');
  input.fill(0);
  try {
    const status = await startAgent({
      vaultDir,
      paths: socketFiles(socketDir, name),
      key,
      config,
      timeoutMs: ms('--timeout'),
      idleMs: ms('--idle'),
      onLocked: () => process.exit(0),
    });
    say({ ok: true, status });
  } catch (e) {
    key.fill(0);
    say(isVaultError(e) ? { ok: false, code: e.code, message: e.message, hint: e.hint } : { ok: false, code: 'FAILED', message: 'the agent could not start' });
    process.exitCode = 1;
    setImmediate(() => process.exit(1));
  }
}

void main();
