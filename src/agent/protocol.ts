/**
 * The agent protocol, version 1: one JSON object per line each way, at most MAX_LINE bytes.
 *
 *   request  {"v":1,"id":n,"op":"hello","token":"<hex>"}   must come first on a connection
 *            {"v":1,"id":n,"op":"status"}
 *            {"v":1,"id":n,"op":"seal","ad":"<b64>","plaintext":"<b64>"}
 *            {"v":1,"id":n,"op":"open","ad":"<b64>","text":"<sealed blob>","what":"<path>"}
 *            {"v":1,"id":n,"op":"lock"}
 *   reply    {"v":1,"id":n,"ok":true,...}  or  {"v":1,"id":n,"ok":false,"code":"…","message":"…"}
 *
 * hello and status answer with AgentStatus. There is no request that returns the data key or a
 * passphrase. The associated data of seal/open must be a well-formed mcp-tokens AD for an entry,
 * a backup, a file backup or an access-log record (crypto/format.ts, audit/log.ts); anything else, such as the vault-key AD, is
 * refused, so the agent cannot be used to unwrap or forge what the passphrase protects.
 */
import { parseEntryName } from '../names.js';

export const PROTOCOL_VERSION = 1;
/** A value is at most 16 KiB; file backups (config files) are bigger: 1 MiB bounds both. */
export const MAX_LINE = 1024 * 1024;

export type Op = 'hello' | 'status' | 'seal' | 'open' | 'lock';

export interface AgentStatus {
  /** The vault directory the agent serves. */
  vault: string;
  pid: number;
  /** ISO times; until = absolute lock time (null: none); idleMs = idle timeout (null: none). */
  since: string;
  until: string | null;
  idleMs: number | null;
  keyId: string;
  /** SHA-256 of the vault.json the key was unlocked from. */
  config: string;
}

export interface Request {
  v: number;
  id: number;
  op: Op;
  [field: string]: unknown;
}

export interface Reply {
  v: number;
  id: number;
  ok: boolean;
  code?: string;
  message?: string;
  [field: string]: unknown;
}

export function encode(msg: object): string {
  return `${JSON.stringify(msg)}\n`;
}

/**
 * Split a stream into lines of at most MAX_LINE bytes; calls onLine for each, onTooLong once if a
 * line exceeds the limit (the caller then drops the connection).
 */
export function lineReader(onLine: (line: string) => void, onTooLong: () => void): (chunk: Buffer) => void {
  let pending: Buffer[] = [];
  let size = 0;
  return (chunk) => {
    let start = 0;
    for (let nl = chunk.indexOf(0x0a); nl >= 0; nl = chunk.indexOf(0x0a, start)) {
      pending.push(chunk.subarray(start, nl));
      const line = Buffer.concat(pending).toString('utf8');
      pending = [];
      size = 0;
      start = nl + 1;
      if (line.length > MAX_LINE) return onTooLong();
      onLine(line);
    }
    const rest = chunk.subarray(start);
    size += rest.length;
    if (size > MAX_LINE) return onTooLong();
    if (rest.length > 0) pending.push(rest);
  };
}

const te = new TextEncoder();
const td = new TextDecoder('utf-8', { fatal: true });
const ENTRY = te.encode('mcp-tokens/v1');
const BACKUP = te.encode('mcp-tokens/v1/backup');
const FILE = te.encode('mcp-tokens/v1/file');
const FILE_LABEL = /^[A-Za-z0-9.-]{1,100}$/;
const LOG = te.encode('mcp-tokens/v1/log');

/** What an AD binds a blob to ("entry github_token", …), or undefined when the agent must refuse it. */
export function describeAd(ad: Uint8Array): string | undefined {
  const entry = afterPrefix(ad, BACKUP) ?? afterPrefix(ad, ENTRY);
  if (entry) {
    const kind = entry.prefix === BACKUP ? 'backup' : 'entry';
    const parts = readParts(entry.rest, 2);
    if (!parts) return undefined;
    const parsed = parseEntryName(`${parts[0]}_${parts[1]}`);
    return parsed && parsed.service === parts[0] ? `${kind} ${parsed.name}` : undefined;
  }
  const file = afterPrefix(ad, FILE);
  if (file) {
    const parts = readParts(file.rest, 1);
    return parts && FILE_LABEL.test(parts[0]!) ? `file ${parts[0]}` : undefined;
  }
  // The access log's records and tail marker (audit/log.ts): no credential, only names read.
  const log = afterPrefix(ad, LOG);
  if (log) {
    const parts = readParts(log.rest, 3);
    if (parts?.[0] === 'record' && /^(-|[0-9a-f]{32})$/.test(parts[1]!) && (parts[2] === 'on' || parts[2] === 'off')) return 'log record';
    if (parts?.[0] === 'tail' && parts[1] === '' && parts[2] === '') return 'log tail';
  }
  return undefined;
}

/**
 * ad after prefix, when ad starts with it and the next byte begins a length (u32be of a short
 * name starts with 0): "mcp-tokens/v1" never matches "mcp-tokens/v1/backup…".
 */
function afterPrefix(ad: Uint8Array, prefix: Uint8Array): { prefix: Uint8Array; rest: Uint8Array } | undefined {
  if (ad.length < prefix.length + 4) return undefined;
  for (let i = 0; i < prefix.length; i++) if (ad[i] !== prefix[i]) return undefined;
  if (ad[prefix.length] !== 0) return undefined;
  return { prefix, rest: ad.subarray(prefix.length) };
}

/** Exactly n length-prefixed UTF-8 strings, nothing after them. */
function readParts(bytes: Uint8Array, n: number): string[] | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: string[] = [];
  let off = 0;
  for (let i = 0; i < n; i++) {
    if (off + 4 > bytes.length) return undefined;
    const len = view.getUint32(off, false);
    off += 4;
    if (len > 200 || off + len > bytes.length) return undefined;
    try {
      out.push(td.decode(bytes.subarray(off, off + len)));
    } catch {
      return undefined;
    }
    off += len;
  }
  return off === bytes.length ? out : undefined;
}
