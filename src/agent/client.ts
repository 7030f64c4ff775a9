/**
 * The client side of the agent: find the agent of a vault, prove we are its user (the token
 * file), and use it as a KeyHandle. Small on purpose: `run` and `load` load it on their start-up
 * path. Anything odd — no agent, a stale socket, an agent for another vault or an older
 * vault.json, an unsafe path — gives no handle and a notice saying why; the caller then asks for
 * the passphrase as if there were no agent.
 */
import * as net from 'node:net';
import { resolve } from 'node:path';
import { VaultError, isVaultError, type ErrorCode } from '../errors.js';
import type { KeyHandle } from '../crypto/keyhandle.js';
import { agentPathsAll, checkAgentDir, checkSocket, readToken, type AgentPaths } from './paths.js';
import { encode, lineReader, PROTOCOL_VERSION, type AgentStatus, type Op, type Reply } from './protocol.js';

export interface AgentConnection {
  status: AgentStatus;
  request(op: Op, fields?: Record<string, unknown>): Promise<Reply>;
  close(): void;
}

export type Found =
  | { connection: AgentConnection; paths: AgentPaths }
  | { notice?: string; paths?: AgentPaths; unsafe?: VaultError; hung?: VaultError };

/** How long a client waits for an agent to accept and answer hello: a live one takes milliseconds. */
export const HELLO_TIMEOUT_MS = 3_000;
/** How long one seal/open/lock may take before the client gives up on the agent. */
export const REQUEST_TIMEOUT_MS = 10_000;

/**
 * The agent serving vaultDir, if one is up and sound; otherwise why not (no notice: simply none).
 * Every place an agent may serve from is looked at, in order (paths.ts). Connect and hello are
 * bounded (HELLO_TIMEOUT_MS): an agent that accepts but does not answer (stopped with SIGSTOP,
 * hung) gives `hung`, an error saying so, and is not waited for.
 */
export async function findAgent(vaultDir: string, { timeoutMs = HELLO_TIMEOUT_MS }: { timeoutMs?: number } = {}): Promise<Found> {
  const dir = resolve(vaultDir);
  let first: Found | undefined;
  let all: AgentPaths[];
  try {
    all = agentPathsAll(dir);
  } catch (e) {
    if (isVaultError(e)) return { notice: `${e.message} (${e.hint ?? 'check it'})`, unsafe: e };
    throw e;
  }
  for (const paths of all) {
    const found = await findAt(dir, paths, timeoutMs);
    if ('connection' in found || found.unsafe || found.hung) return found;
    if (found.notice && !first) first = found;
  }
  return first ?? (all[0] ? { paths: all[0] } : {});
}

async function findAt(dir: string, paths: AgentPaths, timeoutMs: number): Promise<Found> {
  let token: string | undefined;
  try {
    if (!checkAgentDir(paths.dir, false) || !checkSocket(paths.socket)) return { paths };
    token = readToken(paths.token);
  } catch (e) {
    if (isVaultError(e)) return { notice: `${e.message} (${e.hint ?? 'check it'})`, unsafe: e };
    throw e;
  }
  const stale = `the agent socket ${paths.socket} is stale (no agent answers; killed?)`;
  if (token === undefined) return { notice: stale, paths };
  const deadline = Date.now() + timeoutMs;
  const hung = (): Found => {
    const e = hungError(paths.socket, timeoutMs);
    return { notice: e.message, paths, hung: e };
  };
  const socket = await connect(paths.socket, timeoutMs);
  if (socket === 'timeout') return hung();
  if (!socket) return { notice: stale, paths };
  const connection = wrap(socket, paths.socket);
  let timedOut = false;
  const timer = setTimeout(() => ((timedOut = true), connection.close()), Math.max(1, deadline - Date.now()));
  try {
    const hello = await connection.request('hello', { token });
    const status = hello['status'] as AgentStatus | undefined;
    if (!hello.ok || !status) {
      connection.close();
      return { notice: `the agent at ${paths.socket} refused us (${hello.message ?? 'no reason'})`, paths };
    }
    if (status.vault !== dir) {
      connection.close();
      return { notice: `the agent at ${paths.socket} serves another vault (${status.vault})`, paths };
    }
    connection.status = status;
    return { connection, paths };
  } catch {
    connection.close();
    return timedOut ? hung() : { notice: stale, paths };
  } finally {
    clearTimeout(timer);
  }
}

/** An agent that accepts connections but does not answer: never a reason to "unlock". */
export function hungError(socket: string, ms: number): VaultError {
  return new VaultError('FAILED', `the agent at ${socket} does not answer (gave up after ${Math.round(ms / 100) / 10} s): it is stopped (SIGSTOP, Ctrl-Z) or hung`, {
    hint: "resume it (kill -CONT <pid>) or end it (kill <pid>); its pid: pgrep -u \"$(id -u)\" -f mcp-tokens-agent. Until then commands ask for the passphrase (or read MCP_TOKENS_PASSPHRASE_FILE)",
    reason: 'agent-hung',
  });
}

/** A KeyHandle whose seal/open run in the agent. */
export function agentKeyHandle(connection: AgentConnection): KeyHandle {
  return {
    id: connection.status.keyId,
    async seal(plaintext, ad) {
      const r = check(await connection.request('seal', { ad: b64(ad), plaintext: b64(plaintext) }));
      return String(r['text']);
    },
    async open(text, ad, what) {
      const r = check(await connection.request('open', { ad: b64(ad), text, what }));
      const buf = Buffer.from(String(r['plaintext']), 'base64');
      const out = new Uint8Array(buf);
      buf.fill(0);
      return out;
    },
  };
}

const CODES = new Set<string>(['USAGE', 'INVALID_INPUT', 'NOT_FOUND', 'BAD_PASSPHRASE', 'NO_PASSPHRASE', 'BACKEND_UNAVAILABLE', 'INTEGRITY', 'UNSAFE_PERMISSIONS', 'LOCKED', 'IO', 'FAILED']);

function check(r: Reply): Reply {
  if (r.ok) return r;
  const code = (CODES.has(String(r.code)) ? r.code : 'FAILED') as ErrorCode;
  const hint = code === 'LOCKED' ? 'unlock again (mcp-tokens unlock) or give the passphrase, then run the command again' : undefined;
  throw new VaultError(code, `agent: ${r.message ?? 'request refused'}`, { hint });
}

function b64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

function connect(path: string, timeoutMs: number): Promise<net.Socket | 'timeout' | undefined> {
  return new Promise((resolvePromise) => {
    const s = net.connect(path);
    const timer = setTimeout(() => (s.destroy(), resolvePromise('timeout')), timeoutMs);
    s.once('connect', () => (clearTimeout(timer), resolvePromise(s)));
    s.once('error', () => (clearTimeout(timer), resolvePromise(undefined)));
  });
}

/** Requests matched to replies by id; the socket keeps the process alive only while one is pending. */
function wrap(socket: net.Socket, path: string): AgentConnection & { status: AgentStatus } {
  const pending = new Map<number, { ok: (r: Reply) => void; fail: (e: Error) => void; timer: NodeJS.Timeout }>();
  let next = 1;
  const failAll = (e: Error) => {
    for (const p of pending.values()) (clearTimeout(p.timer), p.fail(e));
    pending.clear();
  };
  const gone = () => failAll(new VaultError('FAILED', 'the agent went away mid-request', { hint: 'run the command again (the passphrase will be asked if the agent is gone)' }));
  socket.on(
    'data',
    lineReader(
      (line) => {
        let r: Reply;
        try {
          r = JSON.parse(line) as Reply;
        } catch {
          return void socket.destroy();
        }
        const p = pending.get(r.id);
        if (!p) return;
        pending.delete(r.id);
        clearTimeout(p.timer);
        if (pending.size === 0) socket.unref();
        p.ok(r);
      },
      () => socket.destroy(),
    ),
  );
  socket.on('error', gone);
  socket.on('close', gone);
  socket.unref();
  return {
    status: undefined as unknown as AgentStatus,
    request(op, fields = {}) {
      const id = next++;
      return new Promise<Reply>((ok, fail) => {
        if (socket.destroyed) return fail(new VaultError('FAILED', 'the agent connection is closed'));
        // A stopped or hung agent: give up on it, saying so, rather than wait for ever.
        const timer = setTimeout(() => {
          pending.delete(id);
          socket.destroy();
          fail(hungError(path, REQUEST_TIMEOUT_MS));
        }, REQUEST_TIMEOUT_MS);
        pending.set(id, { ok, fail, timer });
        socket.ref();
        socket.write(encode({ v: PROTOCOL_VERSION, id, op, ...fields }));
      });
    },
    close() {
      socket.destroy();
    },
  };
}
