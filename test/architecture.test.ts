/**
 * The map of src/ at the top of CONTRIBUTING.md, enforced: what each folder may import, and no
 * import circle between modules (type-only and lazy `import()` included: a circle of types is
 * still two modules that cannot be read apart). Read from the import lines of src/**\/*.ts.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, normalize, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = join(dirname(fileURLToPath(import.meta.url)), '..', 'src');

/**
 * Per folder (or root module), what it may import besides itself: a folder, or one module
 * (`vault/fsutil`) where only that one may be used. Keep in step with CONTRIBUTING.md.
 */
const MAY_IMPORT: Record<string, readonly string[]> = {
  errors: [],
  names: ['errors'],
  'credential-shape': [],
  'path-lookup': [],
  'user-dirs': [],
  crypto: ['errors'],
  // The access log: sealed records, written with the vault's file rules.
  audit: ['errors', 'names', 'path-lookup', 'crypto', 'vault/fsutil', 'vault/failpoint'],
  // The file backend keeps its files by the vault's file rules.
  backends: ['errors', 'names', 'user-dirs', 'crypto', 'vault/fsutil', 'vault/legacy'],
  // The vault refuses a store over a link (links/links) and is migrate's target (its types).
  vault: ['errors', 'names', 'crypto', 'backends', 'services', 'links/links', 'migrate/types', 'audit/log'],
  // A service's live check is loaded when it runs (verify/*); a name reserved by the vault is refused.
  services: ['errors', 'names', 'launch/env-names', 'verify', 'vault/reserved', 'vault/fsutil', 'vault/lock', 'vault/failpoint'],
  verify: ['errors', 'services'],
  links: ['errors', 'names', 'path-lookup', 'services', 'launch', 'vault'],
  launch: ['errors', 'names', 'user-dirs', 'credential-shape', 'services'],
  bundle: ['errors', 'names', 'launch', 'services', 'vault'],
  agent: ['errors', 'names', 'user-dirs', 'crypto', 'vault', 'audit'],
  migrate: ['errors', 'names', 'user-dirs', 'credential-shape', 'crypto', 'launch', 'services', 'vault', 'agent'],
  cli: ['errors', 'names', 'user-dirs', 'path-lookup', 'credential-shape', 'crypto', 'backends', 'vault', 'services', 'verify', 'links', 'launch', 'bundle', 'agent', 'migrate', 'audit'],
  index: ['errors', 'vault', 'backends', 'services', 'launch', 'cli'],
};

interface Edge {
  from: string;
  to: string;
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = join(dir, d.name);
    return d.isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Module ids (`vault/fsutil`, `errors`) of every relative import of a file: static, re-export or import(). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/^\s*(?:import|export)\s[^;]*?\sfrom\s+'(\.[^']+)'|^\s*import\s+'(\.[^']+)'|\bimport\(\s*'(\.[^']+)'\s*\)/gm)].map((m) => m[1] ?? m[2] ?? m[3]!);
  return specs.map((s) => moduleId(normalize(join(dirname(file), s.replace(/\.js$/, '.ts')))));
}

function moduleId(path: string): string {
  return relative(SRC, path).replace(/\.ts$/, '').split(sep).join('/');
}

function unitOf(id: string): string {
  return id.includes('/') ? id.slice(0, id.indexOf('/')) : id;
}

function allowed(from: string, to: string): boolean {
  const a = unitOf(from);
  const b = unitOf(to);
  if (a === b) return true;
  return (MAY_IMPORT[a] ?? []).some((rule) => rule === b || rule === to);
}

/** Strongly connected components of more than one module (Tarjan). */
function circles(graph: Map<string, string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  let next = 0;
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const c: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        c.push(w);
      } while (w !== v);
      if (c.length > 1) out.push(c.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return out;
}

describe('the map of src/', () => {
  const files = sources(SRC);
  const graph = new Map(files.map((f) => [moduleId(f), importsOf(f)]));

  it('reads the import lines it checks (the parser is not blind)', () => {
    expect(graph.size).toBeGreaterThan(100);
    expect(graph.get('vault/vault')).toContain('vault/state');
    expect(graph.get('services/github')).toContain('verify/github'); // a lazy import()
    expect(graph.get('cli/mask')).toContain('credential-shape'); // an import of a root module
  });

  it('every folder imports only what CONTRIBUTING.md says it may', () => {
    for (const unit of new Set([...graph.keys()].map(unitOf))) expect(MAY_IMPORT, `${unit} is missing from MAY_IMPORT`).toHaveProperty([unit]);
    const refused: Edge[] = [];
    for (const [from, tos] of graph) for (const to of tos) if (!allowed(from, to)) refused.push({ from, to });
    expect(refused).toEqual([]);
  });

  it('no import circle between modules', () => {
    expect(circles(graph)).toEqual([]);
  });

  it('the checks catch what they are for', () => {
    expect(allowed('crypto/seal', 'vault/vault')).toBe(false);
    expect(allowed('backends/file', 'vault/vault')).toBe(false);
    expect(allowed('backends/file', 'vault/fsutil')).toBe(true);
    expect(circles(new Map([['a', ['b']], ['b', ['c']], ['c', ['a']], ['d', ['a']]]))).toEqual([['a', 'b', 'c']]);
  });
});
