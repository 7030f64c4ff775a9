/**
 * The agent: holds one file vault's data key and seals/opens for clients on a Unix socket
 * (protocol.ts). It never sends the key. It locks — zeroes the key, removes its socket and exits —
 * on `lock`, on its absolute or idle timeout, on SIGTERM/SIGINT/SIGHUP, and as soon as vault.json
 * is not the one it was unlocked from (a passwd, rekey or backend move it did not make): checked
 * by a watch on the vault directory and again before every request, so nothing is ever sealed
 * under a key the vault has dropped. It also locks when its socket or token file goes (as with
 * the runtime directory at logout). No polling: timers and the two watches only.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { basename, join } from 'node:path';
import { VaultError, isVaultError } from '../errors.js';
import { LocalKeyHandle } from '../crypto/keyhandle.js';
import { checkAgentDir, checkSocket, type AgentPaths } from './paths.js';
import { appendRecord } from '../audit/log.js';
import { describeAd, encode, lineReader, PROTOCOL_VERSION, type AgentStatus, type Reply, type Request } from './protocol.js';

export interface AgentOptions {
  vaultDir: string;
  paths: AgentPaths;
  /** The data key; the agent owns it from now on and zeroes it on lock. */
  key: Uint8Array;
  /** SHA-256 (hex) of the vault.json text the key was unwrapped from. */
  config: string;
  timeoutMs: number | null;
  idleMs: number | null;
  /** Called once the agent has locked and cleaned up (the process exits there). */
  onLocked: (reason: string) => void;
}

/** Longest single setTimeout; longer timeouts are chained. */
const MAX_TIMER = 2 ** 31 - 1;

export async function startAgent(opts: AgentOptions): Promise<AgentStatus> {
  const { paths, vaultDir } = opts;
  // One copy of the key, inside the handle (seals and opens exactly as the file backend does);
  // the bytes we were handed are zeroed at once, the handle's copy on lock.
  let sealer: LocalKeyHandle | undefined = new LocalKeyHandle(opts.key);
  opts.key.fill(0);
  const since = Date.now();
  const until = opts.timeoutMs === null ? null : since + opts.timeoutMs;
  const status: AgentStatus = {
    vault: vaultDir,
    pid: process.pid,
    since: isoTime(since),
    until: until === null ? null : isoTime(until),
    idleMs: opts.idleMs,
    keyId: sealer.id,
    config: opts.config,
  };
  const token = randomBytes(32).toString('hex');
  const connections = new Set<net.Socket>();
  let locked = false;
  let socketIno = -1;

  const lock = (reason: string) => {
    if (locked) return;
    locked = true;
    sealer?.dispose();
    sealer = undefined;
    server.close();
    for (const c of connections) c.destroy();
    removeOurs(paths, socketIno);
    opts.onLocked(reason);
  };

  /** vault.json still the one the key came from? Otherwise lock at once. */
  const configCurrent = (): boolean => {
    if (locked) return false;
    if (hashConfig(vaultDir) === opts.config) return true;
    lock('vault.json changed');
    return false;
  };

  const idle = opts.idleMs === null ? undefined : setTimeout(() => lock('idle timeout'), Math.min(opts.idleMs, MAX_TIMER));
  if (until !== null) armAbsolute(until, () => lock('timeout'));
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(sig, () => lock(sig));

  const handle = (req: Request, authed: boolean): Reply | 'close' => {
    const base = { v: PROTOCOL_VERSION, id: req.id };
    if (!authed && req.op !== 'hello') return { ...base, ok: false, code: 'USAGE', message: 'say hello first' };
    if (!configCurrent()) return { ...base, ok: false, code: 'LOCKED', message: "the vault's vault.json changed since it was unlocked; the agent locked itself" };
    // hello and status are not use: polling `unlock --status` must not keep the agent from its
    // idle lock. Only a seal or an open (crypt, below) counts.
    switch (req.op) {
      case 'hello':
      case 'status':
        return { ...base, ok: true, status };
      case 'lock':
        return 'close';
      default:
        return { ...base, ok: false, code: 'USAGE', message: 'unknown request' };
    }
  };

  const crypt = async (req: Request, opened: Set<string>): Promise<Reply> => {
    const base = { v: PROTOCOL_VERSION, id: req.id };
    const ad = typeof req['ad'] === 'string' ? new Uint8Array(Buffer.from(req['ad'], 'base64')) : undefined;
    if (!ad || describeAd(ad) === undefined) {
      return { ...base, ok: false, code: 'INVALID_INPUT', message: 'refused: the associated data is not an mcp-tokens entry, backup or file label' };
    }
    if (!configCurrent() || !sealer) return { ...base, ok: false, code: 'LOCKED', message: 'the agent is locked' };
    idle?.refresh();
    if (req.op === 'seal') {
      if (typeof req['plaintext'] !== 'string') return { ...base, ok: false, code: 'USAGE', message: 'seal needs plaintext' };
      const pt = Buffer.from(req['plaintext'], 'base64');
      try {
        return { ...base, ok: true, text: await sealer.seal(pt, ad) };
      } finally {
        pt.fill(0);
      }
    }
    const what = typeof req['what'] === 'string' ? req['what'].slice(0, 300) : 'a sealed file';
    if (typeof req['text'] !== 'string') return { ...base, ok: false, code: 'USAGE', message: 'open needs text' };
    try {
      const bytes = await sealer.open(req['text'], ad, what);
      const entry = /^entry (\S+)$/.exec(describeAd(ad) ?? '');
      if (entry) opened.add(entry[1]!);
      const b64 = Buffer.from(bytes).toString('base64');
      bytes.fill(0);
      return { ...base, ok: true, plaintext: b64 };
    } catch (e) {
      if (isVaultError(e)) return { ...base, ok: false, code: e.code, message: e.message };
      return { ...base, ok: false, code: 'FAILED', message: 'the agent could not open it' };
    }
  };

  const server = net.createServer((conn) => {
    connections.add(conn);
    // The access log (issue 29): one record per connection, of the entries opened through it.
    const opened = new Set<string>();
    conn.on('close', () => {
      connections.delete(conn);
      const key = sealer;
      if (opened.size === 0 || !key || locked) return;
      const record = { t: isoTime(Date.now()), cmd: 'agent open', names: [...opened].sort(), client: 'agent socket', pid: process.pid };
      void appendRecord(vaultDir, async () => key, record).catch(() => undefined);
    });
    conn.on('error', () => conn.destroy());
    conn.setTimeout(10 * 60_000, () => conn.destroy());
    let authed = false;
    const reply = (r: Reply) => conn.write(encode(r));
    conn.on(
      'data',
      lineReader(
        (line) => {
          const req = parseRequest(line);
          if (!req) return void conn.end(encode({ v: PROTOCOL_VERSION, id: 0, ok: false, code: 'USAGE', message: 'malformed request' }));
          if (req.op === 'hello') {
            authed = typeof req['token'] === 'string' && sameToken(req['token'], token);
            if (!authed) return void conn.end(encode({ v: PROTOCOL_VERSION, id: req.id, ok: false, code: 'UNSAFE_PERMISSIONS', message: 'refused: wrong agent token' }));
          }
          if (authed && (req.op === 'seal' || req.op === 'open')) {
            void crypt(req, opened).then(reply, () => reply({ v: PROTOCOL_VERSION, id: req.id, ok: false, code: 'FAILED', message: 'internal error' }));
            return;
          }
          const r = handle(req, authed);
          if (r === 'close') {
            conn.end(encode({ v: PROTOCOL_VERSION, id: req.id, ok: true }), () => lock('lock requested'));
            return;
          }
          reply(r);
        },
        () => conn.destroy(),
      ),
    );
  });

  checkAgentDir(paths.dir, true);
  await removeStale(paths);
  await new Promise<void>((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(paths.socket, () => resolvePromise());
  });
  checkSocket(paths.socket); // created 0700 under our umask; refuse to serve if it is not
  socketIno = fs.lstatSync(paths.socket).ino;
  writeToken(paths.token, token);
  try {
    fs.watch(vaultDir, { persistent: false }, (_event, name) => {
      if (name === null || name === 'vault.json') configCurrent();
    }).on('error', () => lock('vault directory gone'));
  } catch {
    lock('vault directory gone');
  }
  // No client can reach an agent whose socket or token file is gone, so it locks. This is also
  // how it ends with the login: the runtime directory (/run/user/<uid>) is removed when the
  // user's last session ends (XDG Base Directory spec; systemd-logind and elogind do it).
  const mine = new Set([basename(paths.socket), basename(paths.token)]);
  try {
    fs.watch(paths.dir, { persistent: false }, (_event, name) => {
      if ((name === null || mine.has(name)) && !reachable(paths, socketIno)) lock('socket removed');
    }).on('error', () => lock('socket directory gone'));
  } catch {
    lock('socket directory gone');
  }
  return status;
}

export function hashConfig(vaultDir: string): string | undefined {
  try {
    const fd = fs.openSync(join(vaultDir, 'vault.json'), fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
    try {
      return createHash('sha256').update(fs.readFileSync(fd)).digest('hex');
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return undefined;
  }
}

/**
 * Date#toISOString's text, from the UTC fields only: toISOString (and JSON of a Date) loads the
 * time-zone machinery, ~0.9 MiB that would stay resident for the agent's whole life.
 */
export function isoTime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getUTCFullYear(), 4)}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())}T${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}.${p(d.getUTCMilliseconds(), 3)}Z`;
}

function parseRequest(line: string): Request | undefined {
  try {
    const r = JSON.parse(line) as Partial<Request> | null;
    if (r === null || typeof r !== 'object' || r.v !== PROTOCOL_VERSION || !Number.isSafeInteger(r.id) || typeof r.op !== 'string') return undefined;
    return r as Request;
  } catch {
    return undefined;
  }
}

function sameToken(given: string, token: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

function armAbsolute(at: number, fire: () => void): void {
  const left = at - Date.now();
  if (left <= 0) return fire();
  setTimeout(() => armAbsolute(at, fire), Math.min(left, MAX_TIMER));
}

/** Remove a socket left by a dead agent (nothing answers on it) and its token; a live one is kept. */
async function removeStale(paths: AgentPaths): Promise<void> {
  if (checkSocket(paths.socket)) {
    const alive = await new Promise<boolean>((resolvePromise) => {
      const probe = net.connect(paths.socket, () => (probe.destroy(), resolvePromise(true)));
      probe.on('error', () => resolvePromise(false));
    });
    if (alive) throw new VaultError('USAGE', `an agent already serves ${paths.socket}`, { hint: 'see it with: mcp-tokens unlock --status' });
    fs.rmSync(paths.socket, { force: true });
  }
  fs.rmSync(paths.token, { force: true });
}

function writeToken(path: string, token: string): void {
  const fd = fs.openSync(path, fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_WRONLY | fs.constants.O_NOFOLLOW, 0o600);
  try {
    fs.writeSync(fd, `${token}\n`);
  } finally {
    fs.closeSync(fd);
  }
}

/** Our socket (the same inode we bound) and our token file are both still in place. */
function reachable(paths: AgentPaths, ino: number): boolean {
  try {
    return fs.lstatSync(paths.socket).ino === ino && fs.lstatSync(paths.token).isFile();
  } catch {
    return false;
  }
}

/** Remove our socket and token, unless a newer agent has replaced them meanwhile. */
function removeOurs(paths: AgentPaths, ino: number): void {
  try {
    if (fs.lstatSync(paths.socket).ino !== ino) return;
  } catch {
    /* gone: still remove the token */
  }
  for (const p of [paths.socket, paths.token]) {
    try {
      fs.unlinkSync(p);
    } catch {
      /* already gone */
    }
  }
}
