/**
 * Last line of defence for verify reports: every string in a report is scrubbed of the stored
 * secret values before it leaves the core. The checks never put a token in a message, but they do
 * quote servers (a status reason, a GraphQL error), and a server can echo what it was sent — on
 * purpose split by control or zero-width characters, only in part, in another case, or encoded
 * (base64, base64url, hex, percent-encoding).
 */
import type { ServiceSpec } from '../services/types.js';

export const REDACTED = '[redacted]';
// Shorter strings would also match ordinary words; no real credential is this short.
const MIN_SECRET_LENGTH = 6;

/** The strings to scrub for a service: secret values, plus the UUID part of `…=uuid` tokens. */
export function secretsOf(spec: ServiceSpec, values: Readonly<Record<string, string>>): string[] {
  const out = new Set<string>();
  for (const [key, value] of Object.entries(values)) {
    const field = spec.fields.find((f) => f.key === key);
    if (field && !field.secret) continue; // unknown keys are treated as secret
    for (const part of secretParts(value)) out.add(part);
  }
  return [...out];
}

/**
 * Characters a server can slip into an echoed token without changing what a reader sees or copies:
 * controls (`\u0001`, `\n`, ESC…), format characters (zero-width space and joiners, bidi marks,
 * soft hyphen: Unicode category Cf), line/paragraph separators and whitespace. Matching ignores
 * them, so `ghp_ab\u0001cd…` or `ghp_ab\u200bcd…` is found as `ghp_abcd…`.
 */
const IGNORABLE_RE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\s]/u;
/** Removed from what is printed even outside a redaction: invisible, and able to hide text. */
const FORMAT_RE = /\p{Cf}/gu;
/** An echo of this many consecutive characters of a secret is redacted even if the rest is not there. */
export const MIN_ECHO_RUN = 12;

/**
 * A function that redacts the given secrets in a string: every occurrence of a secret, and every
 * run of MIN_ECHO_RUN or more consecutive characters of one, found with the ignorable characters
 * above taken out (so they cannot split a token into pieces that each escape the match). Each
 * redacted stretch of the original (ignorable characters inside it included) becomes `replacement`;
 * format characters are removed everywhere. Controls outside a redaction are left for the caller
 * to flatten (safeText), which keeps a multi-line hint of our own intact.
 */
export function scrubber(secrets: readonly string[], replacement = REDACTED, publicText: readonly string[] = []): (text: string) => string {
  const plain = secrets.map(stripIgnorable);
  const list = [...new Set([...plain, ...plain.flatMap(encodedForms)].map(fold))].filter((s) => s.length >= MIN_SECRET_LENGTH);
  const windows = new Set<string>();
  for (const s of list) for (let i = 0; i + MIN_ECHO_RUN <= s.length; i++) windows.add(s.slice(i, i + MIN_ECHO_RUN));
  // A run that is also part of a public text (a token's fixed prefix in a format example) tells
  // nothing about the secret: left visible, so "expected PVEAPIToken=user@realm!…" stays readable.
  const open = publicText.map(fold);
  for (const w of [...windows]) if (open.some((t) => t.includes(w))) windows.delete(w);
  const short = list.filter((s) => s.length < MIN_ECHO_RUN);
  return (text) => {
    if (list.length === 0) return text.replace(FORMAT_RE, '');
    // The visible characters, and where each sits in `text`.
    const at: number[] = [];
    let visible = '';
    for (let i = 0; i < text.length; ) {
      const ch = String.fromCodePoint(text.codePointAt(i)!);
      if (!IGNORABLE_RE.test(ch)) {
        for (let k = 0; k < ch.length; k++) at.push(i + k);
        visible += fold(ch);
      }
      i += ch.length;
    }
    const hit = new Uint8Array(visible.length);
    const mark = (from: number, len: number): void => void hit.fill(1, from, from + len);
    for (let i = 0; i + MIN_ECHO_RUN <= visible.length; i++) if (windows.has(visible.slice(i, i + MIN_ECHO_RUN))) mark(i, MIN_ECHO_RUN);
    for (const s of short) for (let i = visible.indexOf(s); i >= 0; i = visible.indexOf(s, i + 1)) mark(i, s.length);
    if (!hit.includes(1)) return text.replace(FORMAT_RE, '');
    // Rebuild: a marked visible character starts or continues a redaction that swallows every
    // character of `text` up to the last marked one of that stretch.
    let out = '';
    let pos = 0;
    for (let v = 0; v < visible.length; v++) {
      if (!hit[v]) continue;
      let end = v;
      while (end + 1 < visible.length && hit[end + 1]) end++;
      out += text.slice(pos, at[v]).replace(FORMAT_RE, '') + replacement;
      pos = at[end]! + 1;
      v = end;
    }
    return out + text.slice(pos).replace(FORMAT_RE, '');
  };
}

/**
 * Case folded, one character at a time and only where that keeps its length (so positions in the
 * folded text are positions in the original): a server that echoes `GHP_ABC…` or `ghp_abc…` for
 * `ghp_AbC…` is caught. Secrets are folded the same way; a 12-character window stays far too
 * specific to hit ordinary text.
 */
function fold(s: string): string {
  let out = '';
  for (const ch of s) {
    const lower = ch.toLowerCase();
    out += lower.length === ch.length ? lower : ch;
  }
  return out;
}

/**
 * The forms a server most plausibly echoes a token in besides its own: base64 and base64url (a
 * `Basic` header is base64 of `user:token`, so the token's bytes can sit at any offset modulo 3 —
 * each alignment is kept, minus the characters that also depend on neighbouring bytes), hex
 * (a debugging dump) and percent-encoding.
 */
function encodedForms(secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8');
  const out: string[] = [];
  for (const shift of [0, 1, 2]) {
    const b64 = Buffer.concat([Buffer.alloc(shift), bytes]).toString('base64');
    const core = b64.slice(shift === 0 ? 0 : 4, Math.floor((shift + bytes.length) / 3) * 4);
    out.push(core, core.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  out.push(bytes.toString('hex'));
  const encoded = encodeURIComponent(secret);
  if (encoded !== secret) out.push(encoded);
  return out;
}

function stripIgnorable(s: string): string {
  return [...s].filter((ch) => !IGNORABLE_RE.test(ch)).join('');
}

/** A secret value and, for `…=uuid` tokens (Proxmox), the UUID alone: it is the secret part. */
export function secretParts(value: string): string[] {
  const tail = value.slice(value.lastIndexOf('=') + 1);
  return tail === value ? [value] : [value, tail];
}

export function redactReport<T>(value: T, secrets: readonly string[]): T {
  return walk(value, scrubber(secrets)) as T;
}

function walk(value: unknown, scrub: (text: string) => string): unknown {
  if (typeof value === 'string') return scrub(value);
  if (Array.isArray(value)) return value.map((v) => walk(v, scrub));
  if (typeof value === 'object' && value !== null && !(value instanceof Date)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v, scrub)]));
  }
  return value;
}
