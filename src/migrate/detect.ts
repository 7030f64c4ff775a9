/**
 * Recognising a secret that is not one of the built-in services' variables, so that migrate can
 * at least say where it is. By name (a variable or flag whose words include TOKEN, KEY, SECRET,
 * PASSWORD…) and by shape (a GitHub token, a JWT, a Proxmox API token, `Bearer …`…). Only used
 * to report: nothing found here alone is stored or removed.
 */

/** Words that make a variable or flag name a secret's name. */
const SECRET_WORDS = new Set([
  'TOKEN', 'TOKENS', 'KEY', 'APIKEY', 'SECRET', 'SECRETS', 'PASSWORD', 'PASSWD', 'PASS', 'PWD', 'PAT',
  'AUTH', 'AUTHORIZATION', 'CREDENTIAL', 'CREDENTIALS', 'CREDS', 'BEARER', 'COOKIE', 'SESSION',
]);

/** A last word that makes the name a pointer or an attribute of a secret, not the secret. */
const NOT_SECRET_TAIL = new Set([
  'NAME', 'ID', 'USER', 'USERNAME', 'URL', 'URI', 'HOST', 'PORT', 'PATH', 'FILE', 'DIR', 'TYPE',
  'HEADER', 'ENABLED', 'DISABLED', 'MODE', 'SOCK', 'EXPIRY', 'EXPIRES', 'TTL', 'REALM', 'METHOD',
]);

function words(name: string): string[] {
  // camelCase too: apiKey, authToken
  return name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase().split(/[^A-Z0-9]+/).filter(Boolean);
}

/** `GITHUB_TOKEN`, `OPENAI_API_KEY`, `--api-key`, `apiKey` — but not `TOKEN_FILE`, `SSH_AUTH_SOCK`. */
export function isSecretName(name: string): boolean {
  const w = words(name);
  if (w.length === 0 || NOT_SECRET_TAIL.has(w.at(-1)!)) return false;
  return w.some((x) => SECRET_WORDS.has(x));
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const SHAPES: { name: string; re: RegExp }[] = [
  { name: 'a GitHub token', re: /\bgh[pousr]_[A-Za-z0-9]{36}\b/ },
  { name: 'a GitHub fine-grained token', re: /\bgithub_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59}\b/ },
  { name: 'a JWT', re: /\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{10,}/ },
  { name: 'a Proxmox API token', re: /PVEAPIToken=\S+/ },
  { name: 'a bearer token', re: /\bBearer\s+[A-Za-z0-9._~+/=-]{8,}/i },
  { name: 'a basic-auth credential', re: /\bBasic\s+[A-Za-z0-9+/]{12,}={0,2}/ },
  { name: 'a GitLab token', re: /\bglpat-[A-Za-z0-9_-]{20,}/ },
  { name: 'a Slack token', re: /\bxox[abpr]-[A-Za-z0-9-]{10,}/ },
  { name: 'an API key', re: /\bsk-[A-Za-z0-9_-]{20,}/ },
  { name: 'an AWS access key', re: /\bAKIA[0-9A-Z]{16}\b/ },
];

/** What kind of secret a value looks like, whatever it is called; undefined if none. */
export function secretShape(value: string): string | undefined {
  return SHAPES.find((s) => s.re.test(value))?.name;
}

/** A value that is only a reference, a flag or a switch, never a credential itself. */
function inert(value: string): boolean {
  const v = value.trim();
  return (
    v.length < 8 ||
    /^\$\{[^}]*\}$|^\$[A-Za-z_][A-Za-z0-9_]*$|^\$\(/.test(v) || // ${input:x}, ${env:X}, $VAR, $(cmd)
    /^(true|false|yes|no|on|off|null|none)$/i.test(v) ||
    /^[0-9.]+$/.test(v) ||
    /^(https?:\/\/|\/|~\/|\.\/)\S*$/.test(v) && secretShape(v) === undefined
  );
}

/**
 * Why `value` (under `name`, when it has one) looks like a secret, or undefined. A UUID counts
 * only under a TOKEN/SECRET name: UUIDs are everywhere, and a Proxmox token's secret is one.
 */
export function looksSecret(name: string | undefined, value: string): string | undefined {
  const shape = secretShape(value);
  if (shape) return shape;
  if (name === undefined || inert(value)) return undefined;
  const w = words(name);
  if (UUID.test(value.trim()) && w.some((x) => x.startsWith('TOKEN') || x.startsWith('SECRET'))) return 'a UUID under a token name';
  return isSecretName(name) ? `a value named ${name}` : undefined;
}
