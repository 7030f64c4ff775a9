/** Small pieces every service check shares: URL joining, outcomes from HTTP results, safe text. */
import type { HttpResponse, HttpResult } from './http.js';
import { scrubber, secretParts } from './redact.js';
import type { VerifyOutcome } from './types.js';

export const USER_AGENT = 'mcp-tokens-verify';

/** `https://h/base/` + `/api/` → `https://h/base/api/`: the stored URL may or may not end in '/'. */
export function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
}

/** The outcome of a request that never produced a usable HTTP answer. */
export function failureOutcome(result: Extract<HttpResult, { ok: false }>, extraWarnings: readonly string[] = []): VerifyOutcome {
  return { status: result.kind, message: result.message, warnings: [...result.warnings, ...extraWarnings] };
}

/** 401/403: the service saw the token and said no. */
export function rejectedOutcome(title: string, res: HttpResponse, why: string, warnings: readonly string[], scrub: Scrub): VerifyOutcome {
  const reason = safeText(res.statusText, scrub);
  return {
    status: 'rejected',
    message: `${title} rejected the token (HTTP ${res.status}${reason ? ` ${reason}` : ''}): ${why}`,
    warnings,
  };
}

export function unexpectedOutcome(message: string, warnings: readonly string[]): VerifyOutcome {
  return { status: 'unexpected', message, warnings };
}

export type Scrub = (text: string) => string;

/** The scrubber for one token: it and (Proxmox) its UUID part. */
export function tokenScrub(token: string): Scrub {
  return scrubber(secretParts(token));
}

/**
 * Text chosen by the server (a status reason, an error message) reduced to one short printable
 * line, so a hostile or broken server cannot inject terminal escapes or pages of output. The token
 * is scrubbed *before* truncating: a server echoing it must not leave a cut-off prefix behind.
 */
export function safeText(text: unknown, scrub: Scrub, max = 120): string {
  if (typeof text !== 'string') return '';
  // scrub() matches with control and format characters ignored, so it runs on the raw text; its
  // output then loses its controls (to spaces) and format characters (removed).
  const flat = scrub(text).replace(/[\p{Cc}\p{Zl}\p{Zp}]+/gu, ' ').replace(/\p{Cf}/gu, '').replace(/ {2,}/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function daysBetween(from: Date, to: Date): number {
  return Math.floor((to.getTime() - from.getTime()) / 86_400_000);
}
