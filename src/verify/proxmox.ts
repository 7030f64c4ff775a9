/**
 * Proxmox VE: `GET https://{host}/api2/json/version` with `Authorization: PVEAPIToken=USER@REALM!TOKENID=UUID`
 * (the admin guide: "set the HTTP header Authorization to the displayed value"; the stored token is
 * exactly that value). Port 8006 unless the host carries one. Then `/api2/json/access/permissions`:
 * a token created with privilege separation and no role answers `{"data":{}}` there, which is valid
 * but useless to an MCP server — worth a warning.
 *
 * Proxmox installs a self-signed certificate: the `fingerprint` (pin) or `ca` fields decide trust.
 */
import { failureOutcome, isRecord, rejectedOutcome, safeText, tokenScrub, unexpectedOutcome, USER_AGENT } from './common.js';
import { request, type HttpResult, type TlsTrust } from './http.js';
import type { VerifyContext, VerifyOutcome } from './types.js';

export const PROXMOX_PORT = 8006;

/** `pve`, `pve:8443`, `10.0.0.2`, `::1`, `[::1]:8443` → `https://…:port`. */
export function proxmoxBaseUrl(host: string): string {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(host);
  if (bracketed) return `https://[${bracketed[1]}]:${bracketed[2] ?? PROXMOX_PORT}`;
  if ((host.match(/:/g) ?? []).length > 1) return `https://[${host}]:${PROXMOX_PORT}`; // bare IPv6
  const [name, port] = host.split(':');
  return `https://${name}:${port ?? PROXMOX_PORT}`;
}

/** `PVEAPIToken=root@pam!mcp=uuid` → `root@pam!mcp` (the non-secret token id), or undefined. */
export function proxmoxTokenId(token: string): string | undefined {
  return /^PVEAPIToken=([^=!]+![^=]+)=/.exec(token)?.[1];
}

export async function verifyProxmox(values: Readonly<Record<string, string>>, ctx: VerifyContext): Promise<VerifyOutcome> {
  const token = values['token'] ?? '';
  const base = proxmoxBaseUrl(values['host'] ?? '');
  const scrub = tokenScrub(token);
  const tls: TlsTrust = { fingerprint: values['fingerprint'], caFile: values['ca'] };
  const get = (path: string) =>
    request({
      method: 'GET',
      url: `${base}/api2/json/${path}`,
      headers: { authorization: token, accept: 'application/json', 'user-agent': USER_AGENT },
      tls,
      timeoutMs: ctx.timeoutMs,
      signal: ctx.signal,
    });

  const tokenId = proxmoxTokenId(token);
  const warnings: string[] = [];
  const user = values['user'];
  if (tokenId && user && tokenId.split('!')[0] !== user) {
    warnings.push(`the token belongs to ${tokenId.split('!')[0]} but the stored user is ${user}`);
  }

  const version = await get('version');
  if (!version.ok) return failureOutcome(version, warnings);
  warnings.unshift(...version.warnings);
  const res = version.response;
  if (res.status === 401) return rejectedOutcome('Proxmox', res, 'the token is unknown, revoked, expired or mistyped', warnings, scrub);
  if (res.status === 403) return rejectedOutcome('Proxmox', res, 'the token may not read the version', warnings, scrub);
  if (res.status !== 200) return unexpectedOutcome(`Proxmox answered HTTP ${res.status} for /api2/json/version; is ${base} a Proxmox VE host?`, warnings);
  const data = isRecord(res.json) ? res.json['data'] : undefined;
  const ver = isRecord(data) && typeof data['version'] === 'string' ? safeText(data['version'], scrub, 40) : undefined;
  if (!ver) return unexpectedOutcome(`${base} answered 200 but not with a Proxmox VE version`, warnings);

  const privileges = countPrivileges(await get('access/permissions'), warnings);
  const parts = [`Proxmox VE ${ver}`];
  if (tokenId) parts.push(`token ${tokenId}`);
  if (privileges !== null) parts.push(`${privileges} privileges`);
  return {
    status: 'ok',
    message: parts.join(' · '),
    details: { version: ver, tokenId: tokenId ?? null, privileges },
    warnings,
  };
}

/** Number of (path, privilege) grants, or null when unknown; adds the warnings it finds. */
function countPrivileges(result: HttpResult, warnings: string[]): number | null {
  if (!result.ok || result.response.status !== 200) {
    warnings.push('could not read the token permissions (/access/permissions)');
    return null;
  }
  const data = isRecord(result.response.json) ? result.response.json['data'] : undefined;
  if (!isRecord(data)) {
    warnings.push('the permissions answer is not understood');
    return null;
  }
  let count = 0;
  for (const privs of Object.values(data)) {
    if (isRecord(privs)) count += Object.values(privs).filter((v) => v === 1 || v === true).length;
  }
  if (count === 0) {
    warnings.push(
      'the token has no privileges: with privilege separation it needs its own role (Datacenter → Permissions → Add → API Token Permission)',
    );
  }
  return count;
}
