/**
 * The live check of a user service, declared in services.json: one request built from templates
 * of the service's fields, judged by its HTTP status. It goes through the same request() as the
 * built-in checks: the token only in the declared headers to the URL's origin (fixed before any
 * field is filled in: services/check-url.ts), no redirect to
 * another origin, system trust, timeouts; server text is scrubbed of every secret field.
 */
import { fillCheckUrl, fillTemplate } from '../services/check-url.js';
import { failureOutcome, rejectedOutcome, safeText, unexpectedOutcome, USER_AGENT } from './common.js';
import { request } from './http.js';
import { scrubber, secretParts } from './redact.js';
import type { VerifyContext, VerifyOutcome } from './types.js';

/** What the check needs of a services.json definition (services/user.ts validates it). */
export interface DeclaredService {
  readonly fields: ReadonlyArray<{ readonly key: string; readonly secret: boolean }>;
}

export interface DeclaredCheck {
  readonly method: 'GET' | 'POST';
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly accepted: readonly number[];
  readonly rejected: readonly number[];
}

export async function verifyDeclared(
  title: string,
  def: DeclaredService,
  check: DeclaredCheck,
  values: Readonly<Record<string, string>>,
  ctx: VerifyContext,
): Promise<VerifyOutcome> {
  const secrets = def.fields.filter((f) => f.secret && values[f.key] !== undefined).flatMap((f) => secretParts(values[f.key]!));
  const scrub = scrubber(secrets);
  // The origin is fixed before a field is filled in; fields go in encoded (services/check-url.ts).
  const filled = fillCheckUrl(check.url, values);
  if ('problem' in filled) return unexpectedOutcome(`the check URL of ${title} cannot be built: ${safeText(filled.problem, scrub)}; check the stored fields`, []);
  const parsed = filled.url;
  const url = parsed.href;
  const headers: Record<string, string> = { 'user-agent': USER_AGENT };
  for (const [h, template] of Object.entries(check.headers)) headers[h.toLowerCase()] = fillTemplate(template, values);
  const result = await request({ method: check.method, url, headers, timeoutMs: ctx.timeoutMs, signal: ctx.signal });
  if (!result.ok) return scrubOutcome(failureOutcome(result), scrub);
  const res = result.response;
  const where = `${parsed.origin}${parsed.pathname}`;
  if (check.accepted.includes(res.status)) {
    return { status: 'ok', message: `${title} accepted the credentials (HTTP ${res.status})`, details: { url: parsed.origin }, warnings: [...result.warnings] };
  }
  if (check.rejected.includes(res.status)) return rejectedOutcome(title, res, `as declared for HTTP ${res.status} in services.json`, result.warnings, scrub);
  return unexpectedOutcome(`${title} answered HTTP ${res.status} at ${safeText(where, scrub)}, which services.json declares neither accepted nor rejected`, result.warnings);
}

function scrubOutcome(o: VerifyOutcome, scrub: (t: string) => string): VerifyOutcome {
  return { ...o, message: scrub(o.message), ...(o.warnings ? { warnings: o.warnings.map(scrub) } : {}) };
}
