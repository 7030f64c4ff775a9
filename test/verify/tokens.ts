/**
 * Well-formed canary credentials: each passes its service's format check and carries a marker
 * that a leak test can grep for in any output.
 */
import { githubChecksum } from '../../src/services/github.js';

export const CANARY = 'CANARYzq7';

const random30 = `${CANARY}abcdefghijklmnopqrstu`; // 9 + 21 = 30 characters
export const GITHUB_TOKEN = `ghp_${random30}${githubChecksum(random30)}`;

const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');

/** An unsigned-looking JWT with the given payload (verify never checks signatures). */
export function jwt(payload: Record<string, unknown>): string {
  return `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(payload)}.${CANARY}SignatureX9`;
}

const YEAR_2100 = Date.UTC(2100, 0, 1) / 1000;
export const HASS_TOKEN = jwt({ iss: `${CANARY}hass`, iat: 1700000000, exp: YEAR_2100 });
export const WIKIJS_TOKEN = jwt({ api: 1, grp: 1, iat: 1700000000, exp: YEAR_2100, aud: 'urn:wiki.js', iss: 'urn:wiki.js' });

export const PROXMOX_UUID = 'cafe0123-4567-89ab-cdef-0123456789ab';
export const PROXMOX_TOKEN = `PVEAPIToken=mcp@pve!verify=${PROXMOX_UUID}`;
