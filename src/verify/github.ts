/**
 * GitHub: `GET {api}/user` with the token as a Bearer credential. The answer names the account;
 * the headers tell the classic token's scopes (X-OAuth-Scopes), its expiry
 * (GitHub-Authentication-Token-Expiration, "2021-10-07 19:07:53 UTC") and the rate limit left.
 */
import { daysBetween, failureOutcome, isRecord, joinUrl, rejectedOutcome, safeText, tokenScrub, unexpectedOutcome, USER_AGENT } from './common.js';
import { request } from './http.js';
import type { VerifyContext, VerifyOutcome } from './types.js';

export const GITHUB_API = 'https://api.github.com';
const EXPIRY_SOON_DAYS = 14;

export async function verifyGithub(values: Readonly<Record<string, string>>, ctx: VerifyContext): Promise<VerifyOutcome> {
  const token = values['token'] ?? '';
  const api = values['api'] ?? GITHUB_API;
  const scrub = tokenScrub(token);
  const result = await request({
    method: 'GET',
    url: joinUrl(api, '/user'),
    headers: {
      authorization: `Bearer ${token}`,
      accept: 'application/vnd.github+json',
      'x-github-api-version': '2022-11-28',
      'user-agent': USER_AGENT,
    },
    timeoutMs: ctx.timeoutMs,
    signal: ctx.signal,
  });
  if (!result.ok) return failureOutcome(result);
  const res = result.response;
  const warnings = [...result.warnings];
  const remaining = intHeader(res.headers['x-ratelimit-remaining']);

  if (res.status === 401) return rejectedOutcome('GitHub', res, 'the token is revoked, expired or mistyped', warnings, scrub);
  if (res.status === 403 && remaining === 0) {
    return unexpectedOutcome('GitHub: the rate limit is used up, so the token could not be checked; try again later', warnings);
  }
  if (res.status === 403) return rejectedOutcome('GitHub', res, 'the token may not read the account (or SSO is not authorised)', warnings, scrub);
  if (res.status !== 200) return unexpectedOutcome(`GitHub answered HTTP ${res.status} for /user; is ${api} a GitHub API?`, warnings);

  const login = isRecord(res.json) && typeof res.json['login'] === 'string' ? safeText(res.json['login'], scrub, 80) : undefined;
  if (!login) return unexpectedOutcome('GitHub: the /user answer has no login; is this a GitHub API?', warnings);

  const scopesHeader = res.headers['x-oauth-scopes'];
  // Fine-grained tokens carry no scopes header: their permissions are not listed by the API.
  const scopes = scopesHeader === undefined ? null : safeText(scopesHeader, scrub, 500).split(',').map((s) => s.trim()).filter(Boolean);
  if (scopes !== null && scopes.length === 0) warnings.push('the token has no scopes: it can only read public data');

  const expiresAt = parseExpiry(res.headers['github-authentication-token-expiration']);
  if (expiresAt) {
    const left = daysBetween(ctx.now ?? new Date(), expiresAt);
    if (left < EXPIRY_SOON_DAYS) warnings.push(`the token expires in ${Math.max(left, 0)} days: create a new one soon`);
  }

  const parts = [`authenticated as ${login}`];
  if (scopes) parts.push(`scopes: ${scopes.length ? scopes.join(', ') : 'none'}`);
  if (expiresAt) parts.push(`expires ${expiresAt.toISOString().slice(0, 10)}`);
  if (remaining !== undefined) parts.push(`rate limit ${remaining} left`);
  return {
    status: 'ok',
    message: parts.join(' · '),
    details: {
      login,
      scopes,
      expiresAt: expiresAt ? expiresAt.toISOString() : null,
      rateLimitRemaining: remaining ?? null,
    },
    warnings,
  };
}

function intHeader(v: string | undefined): number | undefined {
  return v !== undefined && /^\d+$/.test(v.trim()) ? Number(v.trim()) : undefined;
}

/** "2021-10-07 19:07:53 UTC" (also "… +0200") → Date; anything else → undefined. */
export function parseExpiry(v: string | undefined): Date | undefined {
  const m = v === undefined ? null : /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}) (UTC|[+-]\d{4})$/.exec(v.trim());
  if (!m) return undefined;
  const zone = m[3] === 'UTC' ? 'Z' : `${m[3]!.slice(0, 3)}:${m[3]!.slice(3)}`;
  const d = new Date(`${m[1]}T${m[2]}${zone}`);
  return Number.isNaN(d.getTime()) ? undefined : d;
}
