/** Valid, unique test credentials (canaries): each is unmistakable when grepped for in a file. */
import { createHash } from 'node:crypto';
import { githubChecksum } from '../../src/services/github.js';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

function bytes(seed: string): Buffer {
  return createHash('sha256').update(seed).digest();
}

/** A classic `ghp_` token whose built-in checksum matches. */
export function githubToken(seed: string): string {
  const body = [...bytes(seed)].slice(0, 30).map((b) => BASE62[b % 62]).join('');
  return `ghp_${body}${githubChecksum(body)}`;
}

/** A JWT (header and payload are JSON, base64url), as Home Assistant and WikiJS issue. */
export function jwt(seed: string): string {
  const enc = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
  const sig = bytes(seed).toString('base64url');
  return `${enc({ alg: 'HS256', typ: 'JWT' })}.${enc({ iss: seed, iat: 1700000000 })}.${sig}`;
}

export function proxmoxToken(seed: string): string {
  const h = bytes(seed).toString('hex');
  return `PVEAPIToken=root@pam!mcp=${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

export const CANARIES = {
  GITHUB: githubToken('canary-github'),
  HASS: jwt('canary-hass'),
  PROXMOX: proxmoxToken('canary-proxmox'),
  WIKIJS: jwt('canary-wikijs'),
  OLD_GITHUB: githubToken('canary-old-github'),
  OLD_HASS: jwt('canary-old-hass'),
  STRAY: githubToken('canary-stray'),
} as const;
