/**
 * `mcp-tokens headers`: HTTP headers of a remote MCP server, from the vault, as the JSON object
 * Claude Code's `headersHelper` reads on stdout. The header names and templates come from the
 * command line (written there by migrate, or by the user); every value comes from the vault, so a
 * template holds `{key}` references and never a secret.
 */
import { VaultError } from '../errors.js';
import { looksLikeCredential } from '../credential-shape.js';

/** A header name printed: a plain HTTP token (letters, digits, `-`), nothing a shell or JSON could misread. */
export const HEADER_NAME = /^[A-Za-z0-9][A-Za-z0-9-]{0,63}$/;

const KEY = /^[a-z][a-z0-9-]{0,31}$/;

/** One `--header NAME=TEMPLATE`: the literal parts and the field keys between them. */
export interface HeaderTemplate {
  name: string;
  /** Literal text and `{ key }` references, in order. */
  parts: ({ text: string } | { key: string })[];
}

/**
 * Parse `NAME=TEMPLATE` options. Refused (exit 2): a name that is not a plain token, the same
 * name twice, a template with no `{key}`, a brace that is not a reference, a control character,
 * and literal text that looks like a credential (a secret in argv is what this command avoids).
 */
export function parseHeaderTemplates(specs: readonly string[]): HeaderTemplate[] {
  if (specs.length === 0) throw usage('mcp-tokens headers needs at least one --header', "e.g. mcp-tokens headers github --header 'Authorization=Bearer {token}'");
  const seen = new Set<string>();
  return specs.map((spec) => {
    const eq = spec.indexOf('=');
    const name = eq > 0 ? spec.slice(0, eq) : '';
    if (!HEADER_NAME.test(name)) {
      throw usage('Invalid header name', "write --header NAME=TEMPLATE, NAME made of letters, digits and '-' (at most 64), e.g. 'Authorization=Bearer {token}'");
    }
    if (seen.has(name.toLowerCase())) throw usage(`Header ${name} given twice`, 'give each header once');
    seen.add(name.toLowerCase());
    const template = spec.slice(eq + 1);
    if (/[\u0000-\u001f\u007f]/.test(template)) throw usage(`The template of ${name} holds a control character`, 'a header value is one line of text');
    const parts: HeaderTemplate['parts'] = [];
    const re = /\{([^{}]*)\}/g;
    let last = 0;
    for (let m = re.exec(template); m; m = re.exec(template)) {
      if (!KEY.test(m[1]!)) throw usage(`Invalid field reference {${m[1]!}} in the template of ${name}`, 'a reference names a field of the service: {token}, {api-key}');
      if (m.index > last) parts.push({ text: template.slice(last, m.index) });
      parts.push({ key: m[1]! });
      last = m.index + m[0].length;
    }
    if (last < template.length) parts.push({ text: template.slice(last) });
    const texts = parts.flatMap((p) => ('text' in p ? [p.text] : []));
    if (texts.some((t) => /[{}]/.test(t))) throw usage(`Unmatched brace in the template of ${name}`, 'write {key} for a field of the service; a template holds no other braces');
    if (!parts.some((p) => 'key' in p)) throw usage(`The template of ${name} takes nothing from the vault`, "reference a field of the service, e.g. 'Bearer {token}'; a header with no secret belongs in the client's \"headers\"");
    if (texts.some((t) => t.split(/\s+/).some((w) => w !== '' && looksLikeCredential(w)))) {
      throw usage(`The template of ${name} looks like it holds a credential`, "store the credential (mcp-tokens store <service> <key>) and write {key} in its place: the command line is readable by other users (ps)");
    }
    return { name, parts };
  });
}

/** The headers, every `{key}` replaced by the stored value; a field not stored is NOT_FOUND (exit 3). */
export function renderHeaders(service: string, templates: readonly HeaderTemplate[], values: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const t of templates) {
    out[t.name] = t.parts
      .map((p) => {
        if ('text' in p) return p.text;
        const v = values[p.key];
        if (v === undefined) {
          throw new VaultError('NOT_FOUND', `No credentials stored for ${service} ${p.key}`, { hint: `Please run: mcp-tokens store ${service} ${p.key}   # asks for the value without echo` });
        }
        return v;
      })
      .join('');
  }
  return out;
}

function usage(message: string, hint: string): VaultError {
  return new VaultError('USAGE', message, { hint });
}
