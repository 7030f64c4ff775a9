/**
 * The URL of a services.json check: where the token goes is fixed before any field is filled in.
 *
 * A template either writes its origin out (`https://api.example.com/v1/{org}`) or opens with the
 * one field that holds the service's base URL (`{url}/api/status`) — the field the user stores as
 * the address of their own server, as with a built-in's `url`. That opening field's value may be
 * a whole URL (scheme, host, port and an optional path prefix; no user name, password, query or
 * fragment). Every other placeholder, and the opening field wherever else it appears, is encoded
 * as one path segment or query/fragment part (encodeURIComponent), so a value such as
 * `@127.0.0.2:18082/steal` stays in the path of the declared host. The filled URL is parsed once
 * more and must have the origin fixed first.
 */

const PLACEHOLDER_RE = /\{([^{}]*)\}/g;
const OPENING_FIELD_RE = /^\{([a-z][a-z0-9-]*)\}/;
const WRITTEN_ORIGIN_RE = /^https?:\/\/[^/?#{}]*/i;

interface Template {
  /** The field holding the base URL, or the origin as written. */
  readonly base: { readonly field: string } | { readonly literal: string };
  /** Path, query and fragment after the base: starts with `/`, `?` or `#`, or is empty. */
  readonly rest: string;
}

/** A header template with each `{field}` replaced by its value, as is (headers are not URLs). */
export function fillTemplate(template: string, values: Readonly<Record<string, string>>): string {
  return template.replace(PLACEHOLDER_RE, (_m, key: string) => values[key] ?? '');
}

/** Why a template cannot fix its origin before substitution, or undefined when it can. */
export function checkUrlProblem(template: string): string | undefined {
  const t = parse(template);
  return typeof t === 'string' ? t : undefined;
}

/** The request URL, or why the stored values cannot make one. Values go in encoded. */
export function fillCheckUrl(template: string, values: Readonly<Record<string, string>>): { url: URL } | { problem: string } {
  const t = parse(template);
  if (typeof t === 'string') return { problem: t };
  let base: string;
  if ('field' in t.base) {
    const field = t.base.field;
    const raw = values[field] ?? '';
    let u: URL;
    try {
      u = new URL(raw);
    } catch {
      return { problem: `{${field}} does not hold an absolute URL` };
    }
    if (u.protocol !== 'https:' && u.protocol !== 'http:') return { problem: `{${field}} is not an http(s) URL (${u.protocol})` };
    if (u.username !== '' || u.password !== '') return { problem: `{${field}} holds a user name or password before its host; store the address alone` };
    if (u.search !== '' || u.hash !== '') return { problem: `{${field}} holds a query or fragment; store the base address alone` };
    base = `${u.origin}${u.pathname.replace(/\/+$/, '')}`;
  } else {
    base = t.base.literal;
  }
  const origin = new URL(base).origin;
  let part: 'path' | 'query' | 'fragment' = 'path';
  let out = '';
  let last = 0;
  for (const m of t.rest.matchAll(PLACEHOLDER_RE)) {
    const literal = t.rest.slice(last, m.index);
    part = advance(part, literal);
    const value = values[m[1]!] ?? '';
    if (part === 'path' && (value === '.' || value === '..')) return { problem: `{${m[1]}} holds ${value}, which is not a path segment` };
    out += literal + encodeURIComponent(value);
    last = m.index + m[0].length;
  }
  out += t.rest.slice(last);
  let url: URL;
  try {
    url = new URL(base + out);
  } catch {
    return { problem: 'the filled-in URL does not parse' };
  }
  // Cannot happen with the rules above; kept so a change to them cannot quietly move the token.
  if (url.origin !== origin || url.username !== '' || url.password !== '') return { problem: `the filled-in URL leaves ${origin}` };
  return { url };
}

function parse(template: string): Template | string {
  const opening = OPENING_FIELD_RE.exec(template);
  if (opening) {
    const rest = template.slice(opening[0].length);
    if (rest !== '' && !/^[/?#]/.test(rest)) {
      return `{${opening[1]}} opens the URL, so it holds the base address; what follows it must start with /, ? or #`;
    }
    return { base: { field: opening[1]! }, rest };
  }
  const written = WRITTEN_ORIGIN_RE.exec(template);
  if (!written) return 'must start with https://, http:// or a {field} holding the base URL';
  const rest = template.slice(written[0].length);
  if (rest !== '' && !/^[/?#]/.test(rest)) {
    return 'write the scheme, host and port out in full, ended by /, ? or #, before any {field}: a field in the host part could send the token elsewhere (or open the URL with the {field} holding the base address)';
  }
  try {
    new URL(written[0]);
  } catch {
    return `${written[0]} is not a valid origin`;
  }
  return { base: { literal: written[0] }, rest };
}

function advance(part: 'path' | 'query' | 'fragment', literal: string): 'path' | 'query' | 'fragment' {
  for (const ch of literal) {
    if (ch === '#') part = 'fragment';
    else if (ch === '?' && part === 'path') part = 'query';
  }
  return part;
}
