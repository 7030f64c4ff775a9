/**
 * The corpus files read back as their clients read them: TOML by python3's tomllib, YAML by
 * PyYAML (both in one python3 process), JSONC by jsonc-parser with trailing commas (Zed, VS Code,
 * opencode), plain JSON by JSON.parse.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseJsonc, type ParseError } from 'jsonc-parser';
import type { ClientFixture } from './corpus.js';

/** Every fixture's file under `home`, parsed: rel → data. Throws on a file its parser refuses. */
export function parseCorpus(home: string, fixtures: readonly ClientFixture[]): Map<string, unknown> {
  const out = new Map<string, unknown>();
  const py = fixtures.filter((f) => f.format === 'toml' || f.format === 'yaml');
  const script = `
import json, sys, tomllib, yaml
out = {}
for fmt, path in zip(sys.argv[1::2], sys.argv[2::2]):
    with open(path, 'rb') as f:
        out[path] = tomllib.load(f) if fmt == 'toml' else yaml.safe_load(f)
print(json.dumps(out, default=str))
`;
  const parsed = py.length === 0 ? {} : (JSON.parse(execFileSync('python3', ['-c', script, ...py.flatMap((f) => [f.format, join(home, f.rel)])], { encoding: 'utf8' })) as Record<string, unknown>);
  for (const f of fixtures) {
    const path = join(home, f.rel);
    if (f.format === 'toml' || f.format === 'yaml') out.set(f.rel, parsed[path]);
    else out.set(f.rel, parseJsonFile(path, f.format));
  }
  return out;
}

function parseJsonFile(path: string, format: 'json' | 'jsonc'): unknown {
  const text = readFileSync(path, 'utf8');
  if (format === 'json') return JSON.parse(text) as unknown;
  const errors: ParseError[] = [];
  const v = parseJsonc(text, errors, { allowTrailingComma: true }) as unknown;
  if (errors.length > 0) throw new Error(`${path}: not valid JSONC (${JSON.stringify(errors)})`);
  return v;
}

/** The value at a data path. */
export function at(data: unknown, path: readonly (string | number)[]): Record<string, unknown> {
  let v = data;
  for (const p of path) v = (v as Record<string | number, unknown>)[p];
  return v as Record<string, unknown>;
}
