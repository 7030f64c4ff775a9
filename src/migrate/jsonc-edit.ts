/**
 * Minimal, style-keeping edits of JSON-with-comments text. jsonc-parser's `modify` is exact for
 * the value it replaces but, without formatting options, pulls the next property up onto the
 * removed one's line, and with them reformats whole lines around the edit. Here an edit touches
 * only the bytes it must: a removed property takes its own line(s) with it, a replaced value is
 * rendered in the style (one line or one item per line) of the value it replaces.
 */
import { applyEdits, parseTree, type Edit, type JSONPath, type Node, type ParseError } from 'jsonc-parser';

/**
 * Deepest nesting allowed. jsonc-parser (and the walks over its tree) recurse once per level, so
 * a file of 200,000 `[` overflows the stack with a RangeError; client configs nest a handful of
 * levels and ~/.claude.json's history a few dozen, so this refuses only what no client writes.
 */
export const MAX_JSON_DEPTH = 256;

/** How deep `[`/`{` nest in JSONC text, strings and comments skipped; stops counting past `limit`. */
export function nestingDepth(text: string, limit = MAX_JSON_DEPTH): number {
  let depth = 0;
  let max = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 0x22 /* " */) {
      for (i++; i < text.length && text.charCodeAt(i) !== 0x22; i++) if (text.charCodeAt(i) === 0x5c) i++;
    } else if (ch === 0x2f /* / */ && text.charCodeAt(i + 1) === 0x2f) {
      const eol = text.indexOf('\n', i);
      i = eol < 0 ? text.length : eol;
    } else if (ch === 0x2f && text.charCodeAt(i + 1) === 0x2a /* * */) {
      const end = text.indexOf('*/', i + 2);
      i = end < 0 ? text.length : end + 1;
    } else if (ch === 0x5b /* [ */ || ch === 0x7b /* { */) {
      if (++depth > max && (max = depth) > limit) return max;
    } else if (ch === 0x5d || ch === 0x7d) {
      depth--;
    }
  }
  return max;
}

export type JsoncParse = { ok: true; root: Node } | { ok: false; reason: string };

/** Parse JSONC within the depth limit; a refusal is a result with a reason, never a throw. */
export function parseJsonc(text: string): JsoncParse {
  if (nestingDepth(text) > MAX_JSON_DEPTH) return { ok: false, reason: `nests deeper than ${MAX_JSON_DEPTH} levels` };
  const errors: ParseError[] = [];
  const root = parseTree(text, errors, { allowTrailingComma: true, disallowComments: false });
  if (!root || errors.length > 0) return { ok: false, reason: 'is not valid JSON (with comments)' };
  return { ok: true, root };
}

/**
 * The node at `path` as JSON.parse (and so every client) sees it: where an object holds a key
 * twice, the last occurrence wins. (jsonc-parser's findNodeAtLocation takes the first.)
 */
export function findLast(root: Node, path: JSONPath): Node | undefined {
  let node: Node | undefined = root;
  for (const segment of path) {
    if (!node) return undefined;
    if (typeof segment === 'string') {
      if (node.type !== 'object') return undefined;
      const prop: Node | undefined = (node.children ?? []).filter((p) => p.children?.[0]?.value === segment).at(-1);
      node = prop?.children?.[1];
    } else {
      if (node.type !== 'array') return undefined;
      node = node.children?.[segment];
    }
  }
  return node;
}

/** The properties of an object node that a later property of the same name overrides. */
export function shadowedProperties(object: Node): Node[] {
  const props = object.type === 'object' ? (object.children ?? []) : [];
  // Linear: ~/.claude.json has objects with thousands of keys.
  const last = new Map<unknown, Node>();
  for (const p of props) last.set(p.children?.[0]?.value, p);
  return props.filter((p) => last.get(p.children?.[0]?.value) !== p);
}

/**
 * Remove what no client ever reads from the server entry at `path`: earlier entries of the same
 * name in its container, and inside it, at any depth, every property a later one of the same name
 * overrides (a duplicated `env`, `args`, or env variable). The last occurrence, the one clients
 * use, stays. One property at a time, re-parsing in between: every edit sees exact offsets.
 */
export function removeShadowed(text: string, path: JSONPath): string {
  let out = text;
  for (let guard = 0; guard < 10_000; guard++) {
    const root = tree(out);
    const container = findLast(root, path.slice(0, -1));
    const name = path.at(-1);
    const earlier = container?.type === 'object' ? shadowedProperties(container).find((p) => p.children?.[0]?.value === name) : undefined;
    const inner = earlier ?? firstShadowedWithin(findLast(root, path));
    if (!inner) return out;
    out = removePropertyNode(out, inner);
  }
  throw new Error('too many duplicate keys to remove');
}

/** Whether `removeShadowed(text, path)` has anything to remove (it re-parses the whole text). */
export function hasShadowed(container: Node, name: string, node: Node): boolean {
  return shadowedProperties(container).some((p) => p.children?.[0]?.value === name) || firstShadowedWithin(node) !== undefined;
}

function firstShadowedWithin(node: Node | undefined): Node | undefined {
  if (!node) return undefined;
  if (node.type === 'object') {
    const own = shadowedProperties(node)[0];
    if (own) return own;
    for (const p of node.children ?? []) {
      const found = firstShadowedWithin(p.children?.[1]);
      if (found) return found;
    }
  } else if (node.type === 'array') {
    for (const c of node.children ?? []) {
      const found = firstShadowedWithin(c);
      if (found) return found;
    }
  }
  return undefined;
}

function tree(text: string): Node {
  const parsed = parseJsonc(text);
  if (!parsed.ok) throw new Error(`not editable: ${parsed.reason}`);
  return parsed.root;
}

function propertyAt(text: string, path: JSONPath): Node | undefined {
  const value = findLast(tree(text), path);
  return value?.parent?.type === 'property' ? value.parent : undefined;
}

/** Index just past the whitespace and comments that follow `from` (newlines included). */
function skipTrivia(text: string, from: number): number {
  let i = from;
  for (;;) {
    while (i < text.length && /\s/.test(text[i]!)) i++;
    if (text.startsWith('//', i)) i = text.indexOf('\n', i) < 0 ? text.length : text.indexOf('\n', i);
    else if (text.startsWith('/*', i)) i = text.indexOf('*/', i) < 0 ? text.length : text.indexOf('*/', i) + 2;
    else return i;
  }
}

const lineStart = (text: string, at: number): number => text.lastIndexOf('\n', at - 1) + 1;
const indentOf = (text: string, at: number): string => /^[ \t]*/.exec(text.slice(lineStart(text, at)))![0];

/** Remove the property at `path` with its comma; a property alone on its line takes the line. */
export function removeProperty(text: string, path: JSONPath): string {
  const prop = propertyAt(text, path);
  return prop ? removePropertyNode(text, prop) : text;
}

/** Remove one property node (of a tree parsed from `text`) with its comma. */
function removePropertyNode(text: string, prop: Node): string {
  if (!prop.parent) return text;
  const siblings = prop.parent.children ?? [];
  const index = siblings.indexOf(prop);
  let start = prop.offset;
  let end = prop.offset + prop.length;
  let prevComma: number | undefined;
  const next = skipTrivia(text, end);
  if (text[next] === ',') {
    end = next + 1;
  } else if (index > 0) {
    // The last property goes: the comma after the one before it must go too.
    const prev = siblings[index - 1]!;
    const comma = skipTrivia(text, prev.offset + prev.length);
    if (text[comma] === ',') prevComma = comma;
  }
  // Alone on its line (a trailing `// comment` about it included): remove the whole line.
  const ls = lineStart(text, start);
  const eol = text.indexOf('\n', end);
  const tail = text.slice(end, eol < 0 ? text.length : eol);
  const edits: Edit[] = [];
  if (/^[ \t]*$/.test(text.slice(ls, start)) && /^[ \t]*(\/\/.*)?\r?$/.test(tail) && eol >= 0) {
    start = ls;
    end = eol + 1;
    if (prevComma !== undefined) edits.push({ offset: prevComma, length: 1, content: '' });
  } else if (prevComma !== undefined) {
    start = prevComma; // `{"a": 1, "b": 2}` → `{"a": 1}`
  } else {
    while (text[end] === ' ' || text[end] === '\t') end++; // `{"a": 1, "b": 2}` → `{"b": 2}`
  }
  edits.push({ offset: start, length: end - start, content: '' });
  return applyEdits(text, edits);
}

/** Replace the value at `path` with `items` (strings), keeping the array style it had. */
export function setStringArray(text: string, path: JSONPath, items: readonly string[]): string {
  const node = findLast(tree(text), path);
  if (!node) return text;
  return applyEdits(text, [{ offset: node.offset, length: node.length, content: renderArray(text, node, items) }]);
}

export function setString(text: string, path: JSONPath, value: string): string {
  const node = findLast(tree(text), path);
  if (!node) return text;
  return applyEdits(text, [{ offset: node.offset, length: node.length, content: JSON.stringify(value) }]);
}

/** Add `"key": items` right after the property at `afterPath`, on its own line in its indent. */
export function insertStringArrayAfter(text: string, afterPath: JSONPath, key: string, items: readonly string[]): string {
  return insertAfter(text, afterPath, key, renderArray(text, undefined, items));
}

/** Add `"key": "value"` right after the property at `afterPath`, as insertStringArrayAfter. */
export function insertStringAfter(text: string, afterPath: JSONPath, key: string, value: string): string {
  return insertAfter(text, afterPath, key, JSON.stringify(value));
}

function insertAfter(text: string, afterPath: JSONPath, key: string, rendered: string): string {
  const prop = propertyAt(text, afterPath);
  if (!prop) return text;
  const end = prop.offset + prop.length;
  const sameLine = prop.parent && (prop.parent.children ?? []).every((c) => !text.slice(prop.parent!.offset, c.offset).includes('\n'));
  const sep = sameLine ? ' ' : `${eolOf(text)}${indentOf(text, prop.offset)}`;
  const content = `,${sep}${JSON.stringify(key)}: ${rendered}`;
  return applyEdits(text, [{ offset: end, length: 0, content }]);
}

function eolOf(text: string): string {
  return text.includes('\r\n') ? '\r\n' : '\n';
}

function renderArray(text: string, original: Node | undefined, items: readonly string[]): string {
  const quoted = items.map((s) => JSON.stringify(s));
  const old = original ? text.slice(original.offset, original.offset + original.length) : '';
  const first = original?.children?.[0];
  if (original?.type === 'array' && old.includes('\n') && first) {
    const eol = eolOf(text);
    const inner = indentOf(text, first.offset);
    const outer = indentOf(text, original.offset + original.length - 1);
    return `[${eol}${quoted.map((q) => inner + q).join(`,${eol}`)}${eol}${outer}]`;
  }
  const tight = original?.type === 'array' && (original.children?.length ?? 0) > 1 && !/,\s/.test(old);
  return `[${quoted.join(tight ? ',' : ', ')}]`;
}
