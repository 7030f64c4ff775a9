/**
 * What a credential looks like, judged from the text alone: a known token shape (GitHub, JWT,
 * Proxmox, common API keys) or a long random-looking word. cli/mask.ts hides such arguments in
 * every message; migrate and launch/headers use it to tell secrets from ordinary values. The rule
 * is deliberately narrow on ordinary words: service and key names, paths, URLs, host:port,
 * commands and option names do not match. No imports: it runs on every start-up.
 */

/** Known token shapes: the built-in services' (GitHub, JWT for Home Assistant/Wiki.js, Proxmox) and common others. */
const TOKEN_FORMATS: readonly RegExp[] = [
  /gh[pousr]_[A-Za-z0-9]{16,}/, // GitHub classic, OAuth, user-to-server, server-to-server, refresh
  /github_pat_[A-Za-z0-9_]{20,}/, // GitHub fine-grained
  /eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/, // a JWT: base64url JSON header . payload . signature
  /PVEAPIToken=/i, // Proxmox API token (user@realm!id=uuid)
  /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/i, // a UUID: the secret half of a Proxmox token
  /\b(?:sk|rk|pk)-[A-Za-z0-9_-]{20,}/, // OpenAI/Stripe-style secret keys
  /\bxox[abposr]-[A-Za-z0-9-]{10,}/, // Slack
  /\bglpat-[A-Za-z0-9_-]{20,}/, // GitLab
  /\bAKIA[0-9A-Z]{16}\b/, // AWS access key id
];

/** Bits of Shannon entropy per character. */
function entropy(s: string): number {
  const counts = new Map<string, number>();
  for (const ch of s) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let h = 0;
  for (const n of counts.values()) h -= (n / s.length) * Math.log2(n / s.length);
  return h;
}

/**
 * Long and random-looking: 20+ characters of a token alphabet (letters, digits, `-_.+=~`), with
 * letters and digits mixed, no segment of it (split at `-_.`) a plain word, and high entropy.
 * Paths, URLs and host:port hold `/` or `:` and are never matched here (a token inside a URL is
 * caught by the formats above); `my-long-service-name-2` is words and one number.
 */
function randomLooking(word: string): boolean {
  if (word.length < 20 || !/^[A-Za-z0-9_.+=~-]+$/.test(word)) return false;
  if (!/[0-9]/.test(word) || !/[A-Za-z]/.test(word)) return false;
  const segments = word.split(/[-_.]+/).filter(Boolean);
  // Words and numbers joined by separators (names, versions, dates) are not random.
  if (segments.every((s) => /^[A-Za-z]+$/.test(s) || /^[0-9]+$/.test(s))) return false;
  // Case and class switches inside a segment (aZ9q…) are what random text has and names lack: at
  // least 12 characters must be in segments that are not a plain word (lower, UPPER, Capitalised)
  // or number. (Counting only letter-and-digit segments missed ~1.4% of random base64url keys,
  // whose `-` and `_` cut them into pieces, some of them letters only. The price: a dotted or
  // dashed camelCase name with a number, such as ts.ScriptTarget.ES2022, is hidden too — an
  // error that quotes less is the lesser harm.)
  const unlike = segments.filter((s) => !/^(?:[a-z]+|[A-Z]+|[A-Z][a-z]+|[0-9]+)$/.test(s)).join('');
  if (unlike.length < 12) return false;
  return entropy(word) >= entropyFloor(word);
}

/**
 * How much entropy random text of this shape has at least, nearly always: a hex key cannot pass
 * 4 bits a character and a short string cannot show more distinct characters than it has, so the
 * floor follows the alphabet and the length (chosen so fewer than ~1 in 1,000 random keys of
 * 20+ characters fall below it; test/cli/mask.test.ts samples them).
 */
function entropyFloor(word: string): number {
  if (/^[0-9a-f]+$/i.test(word)) return word.length >= 32 ? 2.9 : 2.7;
  if (word.length >= 32) return 3.5;
  return word.length >= 24 ? 3.7 : 3.4;
}

/** True for a word shaped like a token or key. */
export function looksLikeCredential(word: string): boolean {
  return TOKEN_FORMATS.some((re) => re.test(word)) || randomLooking(word);
}
