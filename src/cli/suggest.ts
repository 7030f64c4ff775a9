/** "did you mean …?" for a mistyped name: the closest candidate within a small edit distance. */

/** Levenshtein distance (insert, delete, substitute), for short names only. */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length]!;
}

/** The candidate closest to `name` if it is near enough to be a typo (at most 2 edits, and less than half the name). */
export function closest(name: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of new Set(candidates)) {
    const d = distance(name, c);
    if (d < bestD) [best, bestD] = [c, d];
  }
  return best !== undefined && bestD > 0 && bestD <= Math.min(2, Math.floor(name.length / 2)) ? best : undefined;
}

/**
 * For a service with nothing stored: "did you mean github? (stored: …)" when the name is a near
 * miss of a stored service or a built-in one (`load githb`, `verify githb`); otherwise undefined.
 */
export function didYouMean(service: string, stored: readonly string[], builtins: readonly string[]): string | undefined {
  const guess = closest(service, [...stored, ...builtins]);
  return guess ? `did you mean ${guess}? (stored: ${stored.join(', ') || 'nothing'})` : undefined;
}

/** The hint for a named service with nothing stored: "did you mean …?" for a near miss, else where to look. */
export async function notStoredHint(service: string, stored: readonly string[]): Promise<string> {
  const { BUILTIN_SERVICES } = await import('../services/index.js');
  return didYouMean(service, stored, BUILTIN_SERVICES.map((s) => s.name)) ?? 'see what is stored with: mcp-tokens list';
}
