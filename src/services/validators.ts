/** Validators shared by several services. Each returns an error message or undefined. */
import { X509Certificate } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, readFileSync } from 'node:fs';

export const MAX_VALUE_BYTES = 16 * 1024;

/** Rules every stored value obeys, whatever the service. */
export function checkValueBasics(value: string): string | undefined {
  if (value.length === 0) return 'Empty value';
  if (Buffer.byteLength(value, 'utf8') > MAX_VALUE_BYTES) return `Value too long (more than ${MAX_VALUE_BYTES} bytes)`;
  // C0 controls (NUL, CR, LF, TAB…), DEL and C1 controls; lone surrogates cannot round-trip UTF-8.
  if (/[\u0000-\u001f\u007f-\u009f]/.test(value)) return 'Value contains a control character (newline, NUL, tab…)';
  if (/[\ud800-\udfff]/u.test(value.replace(/[\ud800-\udbff][\udc00-\udfff]/g, ''))) return 'Value is not valid Unicode';
  return undefined;
}

function b64urlJson(part: string): unknown {
  const text = Buffer.from(part, 'base64url').toString('utf8');
  return JSON.parse(text) as unknown;
}

export function isJwt(value: string): boolean {
  const parts = value.split('.');
  if (parts.length !== 3) return false;
  if (!parts.every((p) => /^[A-Za-z0-9_-]+$/.test(p))) return false;
  try {
    const header = b64urlJson(parts[0]!);
    const payload = b64urlJson(parts[1]!);
    return isPlainObject(header) && isPlainObject(payload);
  } catch {
    return false;
  }
}

/** The JWT payload's `exp` (seconds since epoch), read without verifying the signature. */
export function jwtExpiry(value: string): Date | undefined {
  if (!isJwt(value)) return undefined;
  const payload = b64urlJson(value.split('.')[1]!) as Record<string, unknown>;
  const exp = payload['exp'];
  return typeof exp === 'number' && Number.isFinite(exp) ? new Date(exp * 1000) : undefined;
}

function isPlainObject(v: unknown): boolean {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `http(s)://host[:port][/path]`, no userinfo, query or fragment. */
export function isHttpUrl(value: string): boolean {
  if (!/^https?:\/\//i.test(value) || /[\s?#@\\]/.test(value)) return false;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
  if (url.username || url.password || url.search || url.hash) return false;
  const host = url.hostname;
  if (host.startsWith('[')) return true; // IPv6 literal, already parsed by URL
  return isIPv4(host) || isHostname(host);
}

export function isIPv4(s: string): boolean {
  const parts = s.split('.');
  return parts.length === 4 && parts.every((p) => /^(0|[1-9][0-9]{0,2})$/.test(p) && Number(p) <= 255);
}

export function isIPv6(s: string): boolean {
  if (!/^[0-9A-Fa-f:.]+$/.test(s) || !s.includes(':')) return false;
  try {
    return new URL(`http://[${s}]/`).hostname.length > 2;
  } catch {
    return false;
  }
}

/** A DNS name: labels of letters, digits and '-', not starting or ending with '-'. */
export function isHostname(s: string): boolean {
  if (s.length === 0 || s.length > 253) return false;
  const labels = s.replace(/\.$/, '').split('.');
  if (/^[0-9]+$/.test(labels[labels.length - 1] ?? '')) return false; // looks like a broken IPv4
  return labels.every((l) => /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(l));
}

function isPort(s: string): boolean {
  return /^[0-9]{1,5}$/.test(s) && Number(s) >= 1 && Number(s) <= 65535;
}

/** IPv4, IPv6 (bracketed when a port follows) or FQDN, with an optional `:port`. */
export function isHostWithPort(value: string): boolean {
  const bracketed = /^\[([^\]]+)\](?::([0-9]+))?$/.exec(value);
  if (bracketed) return isIPv6(bracketed[1]!) && (bracketed[2] === undefined || isPort(bracketed[2]));
  if (isIPv6(value)) return true;
  const m = /^([^:]+)(?::([^:]*))?$/.exec(value);
  if (!m) return false;
  if (m[2] !== undefined && !isPort(m[2])) return false;
  return isIPv4(m[1]!) || isHostname(m[1]!);
}

export function urlField(env: string | undefined, placeholder: string, description: string) {
  return {
    key: 'url',
    env,
    secret: false,
    required: true,
    placeholder,
    description,
    validate: (v: string) =>
      isHttpUrl(v)
        ? undefined
        : 'Invalid URL format: expected http://host[:port][/path] or https://host[:port][/path], without user, query or fragment',
  } as const;
}

/** A service's JWT token field (Home Assistant long-lived tokens, WikiJS API keys). */
export function jwtTokenField(env: string, title: string, placeholder: string, description: string) {
  return {
    key: 'token',
    env,
    secret: true,
    required: true,
    placeholder,
    description,
    validate: (v: string) =>
      isJwt(v) ? undefined : `Invalid ${title} token format: expected ${description.replace(/ \(a JWT\)$/, '')} (a JWT: three base64url parts separated by dots)`,
  } as const;
}

/** A CA bundle larger than this is not what a Proxmox CA file is (the system bundle is ~220 KiB). */
const MAX_PEM_BYTES = 1024 * 1024;
const PEM_CERT_RE = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/**
 * `path` is a readable file of PEM certificates (one or more, each parsed). O_NONBLOCK: a FIFO
 * there must be refused at once, not wait for a writer; a directory or device is refused by fstat.
 */
export function checkPemCertificateFile(path: string): string | undefined {
  const expected = 'expected a readable PEM certificate file (-----BEGIN CERTIFICATE-----), such as /etc/pve/pve-root-ca.pem copied from the Proxmox host';
  const bad = (problem: string) => `Invalid CA file ${path} (${problem}): ${expected}`;
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return bad(code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : `cannot open it: ${code ?? 'error'}`);
  }
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) return bad('a directory');
    if (!st.isFile()) return bad('not a regular file');
    if (st.size > MAX_PEM_BYTES) return bad('larger than 1 MiB');
    const text = readFileSync(fd, 'latin1');
    const certs = text.match(PEM_CERT_RE) ?? [];
    if (certs.length === 0) return bad('no PEM certificate in it');
    for (const pem of certs) new X509Certificate(pem);
    return undefined;
  } catch (e) {
    return bad(e instanceof Error && /EISDIR|EACCES|EIO/.test(e.message) ? 'cannot read it' : 'a certificate in it does not parse');
  } finally {
    closeSync(fd);
  }
}
