/**
 * WikiJS 2.x: `POST {url}/graphql` with the API key as Bearer.
 *
 * WikiJS's auth middleware rejects API keys with a GraphQL-shaped error body (HTTP 500 from its
 * error handler): "API is disabled. You must enable it from the Administration Area first." and
 * "API Key is invalid or was revoked.". A key it cannot verify at all (signed by another instance,
 * expired) is not an error there: the request silently runs as the guest user. So the query asks
 * for `users.profile`, which refuses guests ("You must be authenticated to access this resource.",
 * code 1019) and answers for an API key — a valid key is told apart from a guest.
 */
import { failureOutcome, isRecord, joinUrl, rejectedOutcome, safeText, tokenScrub, unexpectedOutcome, USER_AGENT } from './common.js';
import { request } from './http.js';
import type { VerifyContext, VerifyOutcome } from './types.js';

export const WIKIJS_QUERY = '{ users { profile { id } } }';

const KNOWN_ERRORS: ReadonlyArray<{ match: RegExp; message: string }> = [
  { match: /API is disabled/i, message: 'the WikiJS API is disabled: enable it under Administration → API Access' },
  { match: /invalid or was revoked/i, message: 'WikiJS says the API key is invalid or was revoked: create a new key under Administration → API Access' },
  {
    match: /must be authenticated/i,
    message: 'WikiJS treated the key as a guest: it was not signed by this wiki or has expired; create a new key',
  },
];

export async function verifyWikijs(values: Readonly<Record<string, string>>, ctx: VerifyContext): Promise<VerifyOutcome> {
  const url = values['url'] ?? '';
  const scrub = tokenScrub(values['token'] ?? '');
  const result = await request({
    method: 'POST',
    url: joinUrl(url, '/graphql'),
    headers: {
      authorization: `Bearer ${values['token'] ?? ''}`,
      'content-type': 'application/json',
      accept: 'application/json',
      'user-agent': USER_AGENT,
    },
    body: JSON.stringify({ query: WIKIJS_QUERY }),
    timeoutMs: ctx.timeoutMs,
    signal: ctx.signal,
  });
  if (!result.ok) return failureOutcome(result);
  const res = result.response;
  const warnings = [...result.warnings];

  const messages = graphqlErrors(res.json);
  for (const known of KNOWN_ERRORS) {
    if (messages.some((m) => known.match.test(m))) return { status: 'rejected', message: known.message, warnings };
  }
  if (res.status === 401 || res.status === 403) return rejectedOutcome('WikiJS', res, 'the API key is not accepted', warnings, scrub);
  if (messages.length > 0) return unexpectedOutcome(`WikiJS answered with an error: ${safeText(messages[0], scrub)}`, warnings);
  if (res.status !== 200) return unexpectedOutcome(`WikiJS answered HTTP ${res.status} at ${url}/graphql; is the url right?`, warnings);

  const data = isRecord(res.json) ? res.json['data'] : undefined;
  const users = isRecord(data) ? data['users'] : undefined;
  const profile = isRecord(users) ? users['profile'] : undefined;
  if (!isRecord(profile) || profile['id'] === undefined) {
    return unexpectedOutcome(`${url}/graphql did not answer like WikiJS 2.x; is the url right?`, warnings);
  }
  return { status: 'ok', message: 'GraphQL API reachable; the API key is accepted', details: { url: new URL(res.url).origin }, warnings };
}

function graphqlErrors(json: unknown): string[] {
  if (!isRecord(json) || !Array.isArray(json['errors'])) return [];
  return json['errors'].map((e: unknown) => (isRecord(e) && typeof e['message'] === 'string' ? e['message'] : '')).filter(Boolean);
}
