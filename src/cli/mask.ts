/**
 * Arguments that look like credentials are never echoed back. A token pasted in the wrong place
 * (`store github ghp_…`, `mcp-tokens ghp_…`, `--format ghp_…`) would otherwise be quoted whole by
 * "Invalid key name", "unknown command", "did you mean"… and land in the terminal's scrollback,
 * a CI log or a bug report. output.ts runs every stderr message and all of commander's output
 * through the function built here, so no message can bypass it.
 *
 * The rule (looksLikeCredential, src/credential-shape.ts) is deliberately narrow on ordinary words:
 * service and key names, paths, URLs, host:port, commands and option names stay visible, so errors
 * stay useful. Kept free of heavy imports: it runs on every start-up.
 */
import { looksLikeCredential } from '../credential-shape.js';
import { scrubber } from '../verify/redact.js';

export { looksLikeCredential };

export const HIDDEN = '[hidden: looks like a token]';

/**
 * Format examples our own hints print (services/*.ts): a credential argument that shares a fixed
 * prefix with one (`PVEAPIToken=…`) must not hide that part of the example. Only runs that occur
 * in these texts are spared; every other run of the argument is still hidden.
 */
const FORMAT_EXAMPLES: readonly string[] = [
  'PVEAPIToken=user@realm!tokenid=xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx',
  "'PVEAPIToken=user@realm!token=uuid'",
  'a fine-grained github_pat_… token',
];

/** The parts of one argument to test: itself, without leading dashes, and the value of `--opt=value`. */
function partsOf(arg: string): string[] {
  const bare = arg.replace(/^-+/, '');
  const eq = bare.indexOf('=');
  return eq > 0 && !/^PVEAPIToken$/i.test(bare.slice(0, eq)) ? [arg, bare, bare.slice(eq + 1)] : [arg, bare];
}

/** The arguments (or the value part of `--opt=value`) that look like credentials. */
export function credentialArgs(args: readonly string[]): string[] {
  const out = new Set<string>();
  for (const arg of args) for (const p of partsOf(arg)) if (looksLikeCredential(p)) out.add(p);
  return [...out];
}

/**
 * A function that hides, in any text, every argument that looks like a credential: whole, JSON-
 * quoted, cut short, or split by control characters (any 12+ character run of one is hidden).
 */
export function argumentMasker(args: readonly string[]): (text: string) => string {
  const secrets = credentialArgs(args);
  if (secrets.length === 0) return (text) => text;
  return scrubber(secrets, HIDDEN, FORMAT_EXAMPLES);
}
