/**
 * Running a link's command: no shell, stdin closed (/dev/null), a timeout, stdout capped at
 * 64 KiB, the command's stderr passed to ours (never to stdout: `run` must stay stdio-clean),
 * one trailing newline removed. The output is validated as a stored value would be; a failure
 * names the command and its status, never the output.
 */
import { spawn } from 'node:child_process';
import { basename } from 'node:path';
import { VaultError, isVaultError } from '../errors.js';
import { checkValue } from '../services/index.js';
import type { Link } from './links.js';

export const MAX_LINK_OUTPUT = 64 * 1024;
const DEFAULT_TIMEOUT_MS = 30_000;

/** MCP_TOKENS_LINK_TIMEOUT (seconds) overrides the default 30 s. */
export function linkTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const s = Number(env['MCP_TOKENS_LINK_TIMEOUT']);
  return Number.isFinite(s) && s > 0 && s <= 600 ? s * 1000 : DEFAULT_TIMEOUT_MS;
}

/** The value a link's command prints, validated; FAILED (exit 1) otherwise. */
export async function resolveLink(link: Link, { timeoutMs = linkTimeoutMs() } = {}): Promise<string> {
  const name = basename(link.command[0]!);
  const fail = (why: string) =>
    new VaultError('FAILED', `the link for ${link.service} ${link.key} failed: ${name} ${why}`, {
      hint: `run the command yourself to see why (mcp-tokens list shows it), or link again: mcp-tokens link ${link.service} ${link.key} -- …`,
    });
  const out = await runCapped(link.command, timeoutMs, fail);
  let value = out.toString('utf8');
  out.fill(0);
  if (value.endsWith('\r\n')) value = value.slice(0, -2);
  else if (value.endsWith('\n')) value = value.slice(0, -1);
  if (value === '') throw fail('printed nothing');
  try {
    checkValue(link.service, link.key, value);
  } catch (e) {
    if (isVaultError(e)) throw fail(`printed a value that is not valid here (${e.message})`);
    throw e;
  }
  return value;
}

function runCapped(command: readonly string[], timeoutMs: number, fail: (why: string) => VaultError): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('MCP_TOKENS_PASSPHRASE')));
    const child = spawn(command[0]!, command.slice(1), { shell: false, stdio: ['ignore', 'pipe', 'inherit'], env });
    const chunks: Buffer[] = [];
    let size = 0;
    let problem: string | undefined;
    const stop = (why: string) => {
      problem ??= why;
      child.kill('SIGKILL');
    };
    const timer = setTimeout(() => stop(`did not finish within ${Math.round(timeoutMs / 1000)} s`), timeoutMs);
    child.stdout.on('data', (b: Buffer) => {
      size += b.length;
      if (size > MAX_LINK_OUTPUT) stop(`printed more than ${MAX_LINK_OUTPUT / 1024} KiB`);
      else chunks.push(b);
    });
    child.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(fail(`could not be started (${e.code ?? 'error'})`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const out = Buffer.concat(chunks);
      for (const c of chunks) c.fill(0);
      if (problem) return reject(fail(problem));
      if (code !== 0) return reject(fail(signal ? `was killed by ${signal}` : `exited with status ${code}`));
      resolve(out);
    });
  });
}
