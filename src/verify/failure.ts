/**
 * Turning a network error into one of the verify statuses a user can act on. Node reports DNS,
 * socket and TLS problems as errors with a `code`; the message we build names the host and what
 * to do, never anything from the request (which carried the token).
 */

export type FailureKind = 'unreachable' | 'tls' | 'unexpected';

/** A failed exchange: what kind, and one sentence for the user. */
export interface Failure {
  readonly kind: FailureKind;
  readonly message: string;
}

/** Thrown inside the HTTP layer to carry a classified failure out of callbacks. */
export class HttpFailure extends Error {
  readonly kind: FailureKind;
  constructor(kind: FailureKind, message: string) {
    super(message);
    this.name = 'HttpFailure';
    this.kind = kind;
  }
}

const UNREACHABLE: Record<string, string> = {
  ENOTFOUND: 'cannot resolve the host name',
  EAI_AGAIN: 'cannot resolve the host name (DNS did not answer)',
  ECONNREFUSED: 'connection refused (nothing listens on that port?)',
  ECONNRESET: 'the connection was reset',
  EHOSTUNREACH: 'the host is unreachable',
  ENETUNREACH: 'the network is unreachable',
  ETIMEDOUT: 'the connection timed out',
  EPIPE: 'the connection was closed',
  ECONNABORTED: 'the connection was aborted',
};

// OpenSSL verification codes as Node exposes them on `err.code`.
const TLS_CODES: Record<string, string> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: 'the server certificate is self-signed and not trusted',
  SELF_SIGNED_CERT_IN_CHAIN: 'the certificate chain ends in a self-signed CA that is not trusted',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'the certificate is signed by a CA that is not trusted',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'the certificate is signed by a CA that is not trusted',
  UNABLE_TO_GET_ISSUER_CERT: 'the certificate is signed by a CA that is not trusted',
  CERT_HAS_EXPIRED: 'the server certificate has expired',
  CERT_NOT_YET_VALID: 'the server certificate is not valid yet',
  ERR_TLS_CERT_ALTNAME_INVALID: 'the certificate does not name this host',
  CERT_SIGNATURE_FAILURE: 'the certificate signature is invalid',
  CERT_REVOKED: 'the certificate was revoked',
};

export const TLS_HINT = 'pin its SHA-256 fingerprint or give a CA file (for Proxmox: the fingerprint and ca fields)';

/** Classify anything thrown while talking to `host`. `timedOut`/`cancelled` come from our signals. */
export function classify(e: unknown, host: string, state: { timedOut: boolean; cancelled: boolean; timeoutMs: number }): Failure {
  if (e instanceof HttpFailure) return { kind: e.kind, message: e.message };
  if (state.timedOut) return { kind: 'unreachable', message: `${host}: no answer within ${seconds(state.timeoutMs)}` };
  if (state.cancelled) return { kind: 'unreachable', message: `${host}: the check was cancelled` };
  const code = errorCode(e);
  if (code && UNREACHABLE[code]) return { kind: 'unreachable', message: `${host}: ${UNREACHABLE[code]}` };
  if (code && TLS_CODES[code]) return { kind: 'tls', message: `${host}: ${TLS_CODES[code]}; ${TLS_HINT}` };
  if (code && (/^ERR_(SSL|TLS)_/.test(code) || code === 'EPROTO' || /CERT/.test(code))) {
    return { kind: 'tls', message: `${host}: TLS handshake failed (${code}); is it really an https server?` };
  }
  if (code === 'HPE_INVALID_CONSTANT' || code?.startsWith('HPE_')) {
    return { kind: 'unexpected', message: `${host}: the answer is not valid HTTP (${code})` };
  }
  // Unknown: report the code only. Node's messages for these do not carry request headers,
  // but a code is all the user needs and cannot leak anything.
  return { kind: 'unreachable', message: `${host}: request failed${code ? ` (${code})` : ''}` };
}

function errorCode(e: unknown): string | undefined {
  if (typeof e !== 'object' || e === null) return undefined;
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  // AggregateError from happy-eyeballs connects: the first inner error carries the code.
  const inner = (e as { errors?: unknown }).errors;
  return Array.isArray(inner) ? errorCode(inner[0]) : undefined;
}

export function seconds(ms: number): string {
  const s = ms / 1000;
  return `${Number.isInteger(s) ? s : s.toFixed(1)} s`;
}
