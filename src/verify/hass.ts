/**
 * Home Assistant: `GET {url}/api/` with the long-lived token as Bearer. A running instance that
 * accepts the token answers 200 `{"message": "API running."}`; a bad token gets 401.
 */
import { failureOutcome, isRecord, joinUrl, rejectedOutcome, tokenScrub, unexpectedOutcome, USER_AGENT } from './common.js';
import { request } from './http.js';
import type { VerifyContext, VerifyOutcome } from './types.js';

export async function verifyHass(values: Readonly<Record<string, string>>, ctx: VerifyContext): Promise<VerifyOutcome> {
  const url = values['url'] ?? '';
  const scrub = tokenScrub(values['token'] ?? '');
  const result = await request({
    method: 'GET',
    url: joinUrl(url, '/api/'),
    headers: { authorization: `Bearer ${values['token'] ?? ''}`, accept: 'application/json', 'user-agent': USER_AGENT },
    timeoutMs: ctx.timeoutMs,
    signal: ctx.signal,
  });
  if (!result.ok) return failureOutcome(result);
  const res = result.response;
  const warnings = [...result.warnings];

  if (res.status === 401) return rejectedOutcome('Home Assistant', res, 'the token is revoked, expired or mistyped', warnings, scrub);
  // Home Assistant's ip_ban answers 403 once an address has failed to log in too often.
  if (res.status === 403) return rejectedOutcome('Home Assistant', res, 'this address may be banned after failed logins (see ip_bans.yaml)', warnings, scrub);
  if (res.status === 404) return unexpectedOutcome(`no Home Assistant API at ${url}/api/ (HTTP 404): check the stored url`, warnings);
  if (res.status !== 200) return unexpectedOutcome(`Home Assistant answered HTTP ${res.status} at ${url}/api/`, warnings);
  if (!isRecord(res.json) || res.json['message'] !== 'API running.') {
    return unexpectedOutcome(`${url}/api/ answered 200 but not with Home Assistant's "API running."; is the url right?`, warnings);
  }
  return { status: 'ok', message: 'API running; the token is accepted', details: { url: new URL(res.url).origin }, warnings };
}
