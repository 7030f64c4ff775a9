/**
 * YAML (Goose, Continue) through the `yaml` package's Document API: it parses the file and gives
 * the exact byte range of every node; the edits are spliced into the text at those ranges, so
 * every other byte (comments, their alignment, blank lines, quoting, indentation) stays. The
 * package's printer is not used to write the file: it normalises what it does not model (the
 * spaces before a `# comment`, sequence indentation), which would change lines migrate never
 * meant to touch. Each result is parsed again and checked against the intended data (verify.ts).
 */
import { isMap, isPair, isScalar, isSeq, parse as parseYaml, parseDocument, type Document, type Node, type Pair, type YAMLMap } from 'yaml';
import type { ConfigFormat, DataPath, EditOp } from './types.js';

const PARSE = { uniqueKeys: true, prettyErrors: false } as const;

function load(text: string): Document.Parsed {
  return parseDocument(text, PARSE);
}

const lineStart = (text: string, at: number): number => text.lastIndexOf('\n', at - 1) + 1;
const lineEnd = (text: string, at: number): number => {
  const nl = text.indexOf('\n', at);
  return nl < 0 ? text.length : nl + 1;
};
const column = (text: string, at: number): number => at - lineStart(text, at);

/** A string as YAML: plain where it reads back as the same string, else double-quoted (JSON's escapes are YAML's). */
function scalar(value: string): string {
  if (/^([A-Za-z0-9_./]|-[^\s-]|--$)[A-Za-z0-9_./@:+=-]*$/.test(value) && !value.includes(': ')) {
    try {
      const back = parseYaml(`k: ${value}`) as unknown;
      if (back !== null && typeof back === 'object' && (back as Record<string, unknown>)['k'] === value) return value;
    } catch {
      // quoted below
    }
  }
  return JSON.stringify(value);
}

function flowSeq(items: readonly string[]): string {
  return `[${items.map(scalar).join(', ')}]`;
}

/** The pair of `path` in its parent map, with the map. */
function pairAt(doc: Document.Parsed, path: DataPath): { map: YAMLMap; pair: Pair<Node, Node | null> } | undefined {
  const parent = path.length === 1 ? doc.contents : doc.getIn(path.slice(0, -1), true);
  if (!isMap(parent)) return undefined;
  const key = path.at(-1);
  const pair = parent.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === key) as Pair<Node, Node | null> | undefined;
  return pair ? { map: parent as YAMLMap, pair } : undefined;
}

interface Splice {
  start: number;
  end: number;
  text: string;
}

function splice(text: string, s: Splice): string {
  return text.slice(0, s.start) + s.text + text.slice(s.end);
}

function editOne(text: string, op: EditOp): string {
  const doc = load(text);
  const found = pairAt(doc, op.path);
  if ('remove' in op) {
    if (!found) return text;
    const { map, pair } = found;
    if (map.flow) {
      // `{A: x, B: y}`: the map is written again in flow style without the pair.
      const rest = map.items.filter((p) => p !== pair).map((p) => `${scalar(String((p.key as { value: unknown }).value))}: ${JSON.stringify((p.value as Node | null)?.toJSON() ?? null)}`);
      const [s, e] = map.range!;
      return splice(text, { start: s, end: e, text: `{${rest.join(', ')}}` });
    }
    const start = lineStart(text, pair.key.range![0]);
    const valueEnd = pair.value?.range ? pair.value.range[1] : pair.key.range![1];
    // The key's line(s) through the end of its value's last line (its trailing comment included).
    const end = lineEnd(text, Math.max(valueEnd - 1, pair.key.range![1]));
    if (map.items.length === 1) {
      // The last key of a block map: the map's parent key keeps `{}` so the data stays a map.
      const parent = pairAt(doc, op.path.slice(0, -1));
      if (parent?.pair.value === map) {
        const keyEnd = parent.pair.key.range![1];
        const colon = text.indexOf(':', keyEnd);
        return splice(splice(text, { start, end, text: '' }), { start: colon + 1, end: lineEnd(text, colon) - 1, text: ' {}' });
      }
    }
    return splice(text, { start, end, text: '' });
  }
  const value = found?.pair.value;
  if (typeof op.value === 'string') {
    if (!value?.range) throw new Error(`no ${op.path.join('.')} to set`);
    return splice(text, { start: value.range[0], end: value.range[1], text: scalar(op.value) });
  }
  if (value && isSeq(value) && value.range) {
    if (value.flow || value.items.length === 0) return splice(text, { start: value.range[0], end: value.range[1], text: flowSeq(op.value) });
    // A block sequence: the same `- ` lines at the same indent.
    const first = value.items[0] as Node;
    const dash = text.lastIndexOf('-', first.range![0] - 1);
    const indent = ' '.repeat(column(text, dash));
    const eol = text.includes('\r\n') ? '\r\n' : '\n';
    const start = lineStart(text, dash);
    const end = lineEnd(text, value.range[1] - 1);
    return splice(text, { start, end, text: op.value.map((v) => `${indent}- ${scalar(v)}${eol}`).join('') });
  }
  if (value?.range) return splice(text, { start: value.range[0], end: value.range[1], text: flowSeq(op.value) });
  // A missing key: added on its own line after `after`, at that key's indent.
  const anchor = op.after !== undefined ? pairAt(doc, [...op.path.slice(0, -1), op.after]) : undefined;
  if (!anchor || anchor.map.flow) throw new Error(`no ${op.path.join('.')} to set`);
  const at = lineEnd(text, (anchor.pair.value?.range ?? anchor.pair.key.range!)[1] - 1);
  const indent = ' '.repeat(column(text, anchor.pair.key.range![0]));
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  return splice(text, { start: at, end: at, text: `${indent}${scalar(String(op.path.at(-1)))}: ${flowSeq(op.value)}${eol}` });
}

export const yamlFormat: ConfigFormat = {
  id: 'yaml',
  label: 'YAML',
  parse(text) {
    const doc = load(text);
    const err = doc.errors[0];
    // (prettyErrors off: the message never quotes the file's text, which may hold a token.)
    if (err) {
      const at = err.pos[0];
      const line = text.slice(0, at).split('\n').length;
      return { ok: false, reason: `line ${line}, column ${at - lineStart(text, at) + 1}: ${err.message.split('\n')[0]!}` };
    }
    return { ok: true, value: doc.toJS({ maxAliasCount: 100 }) as unknown };
  },
  edit(text, ops) {
    // One op at a time, parsing again in between: every splice sees exact offsets.
    let out = text;
    for (const op of ops) out = editOne(out, op);
    return out;
  },
};
