/**
 * TOML (Codex's config.toml) through @decimalturn/toml-patch: `patch(text, data)` writes only the
 * differences between the file's data and the new data into the text, keeping comments,
 * whitespace, key order, table layout, inline tables and array style. Chosen over the alternatives
 * on evidence (see the commit that added it): @iarna/toml, smol-toml and toml only parse and
 * stringify (a rewrite loses every comment); toml-eslint-parser gives positions but no edits (we
 * would write the TOML syntax ourselves); @rainbowatcher/toml-edit-js wraps Rust's toml_edit in
 * WebAssembly (a binary module for a handful of edits). toml-patch is dependency-free and tested
 * against toml-test; every edit is then parsed again and checked (verify.ts).
 */
import { parse, patch } from '@decimalturn/toml-patch';
import { parseTOML } from 'toml-eslint-parser';
import { applyToData } from './verify.js';
import type { ConfigFormat, DataPath } from './types.js';

export const tomlFormat: ConfigFormat = {
  id: 'toml',
  label: 'TOML',
  parse(text) {
    try {
      return { ok: true, value: parse(text) as unknown };
    } catch (e) {
      return { ok: false, reason: firstLine(e) };
    }
  },
  edit(text, ops, scope) {
    const data = parse(text) as unknown;
    const out = patch(text, applyToData(data, ops) as Record<string, unknown>);
    // toml-patch lays out anew what it rewrites; whatever it did, every line outside the entry
    // edited must be as it was (found by a second parser's exact positions).
    if (outside(text, scope) !== outside(out, scope)) throw new Error('the TOML edit would change lines outside the entry edited, so the file is not rewritten');
    return out;
  },
};

/**
 * toml-patch's message quotes the offending line of the file, which may hold a token: only its
 * position and its last line (what was expected) are kept.
 */
function firstLine(e: unknown): string {
  const lines = (e instanceof Error ? e.message : String(e)).split('\n').filter((l) => l.trim() !== '');
  const at = /\((\d+), (\d+)\)/.exec(lines[0] ?? '');
  const what = lines.length > 1 ? lines.at(-1)! : 'a syntax error';
  return `${at ? `line ${at[1]}, column ${at[2]}: ` : ''}${what}`.slice(0, 200);
}

const startsWith = (path: readonly (string | number)[], prefix: DataPath): boolean => prefix.every((p, i) => path[i] === p);

type KeyNode = { keys: ({ name?: string; value?: string })[] };
const names = (key: KeyNode): string[] => key.keys.map((k) => k.name ?? k.value ?? '');

/** The file's lines that hold no part of the entry at `scope` (tables and keys under it, or an inline table holding it). */
function outside(text: string, scope: DataPath): string {
  const ast = parseTOML(text);
  const ranges: [number, number][] = [];
  const mine = (path: readonly (string | number)[]): boolean => startsWith(path, scope) || startsWith(scope, path);
  for (const n of ast.body[0]?.body ?? []) {
    if (n.type === 'TOMLKeyValue') {
      if (mine(names(n.key as KeyNode))) ranges.push(n.range);
    } else if (startsWith(n.resolvedKey, scope)) ranges.push(n.range);
    else for (const kv of n.body) if (mine([...n.resolvedKey, ...names(kv.key as KeyNode)])) ranges.push(kv.range);
  }
  const lines = text.split('\n');
  const starts: number[] = [];
  let at = 0;
  for (const l of lines) {
    starts.push(at);
    at += l.length + 1;
  }
  const lineOf = (offset: number): number => {
    let i = 0;
    while (i + 1 < starts.length && starts[i + 1]! <= offset) i++;
    return i;
  };
  const inside = new Set<number>();
  for (const [s, e] of ranges) for (let i = lineOf(s); i <= lineOf(Math.max(s, e - 1)); i++) inside.add(i);
  return lines.filter((_, i) => !inside.has(i)).join('\n');
}
