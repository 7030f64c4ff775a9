/** JSON and JSONC (comments, trailing commas): surgical edits by jsonc-parser's offsets (jsonc-edit.ts). */
import { getNodeValue } from 'jsonc-parser';
import { findLast, insertStringAfter, insertStringArrayAfter, parseJsonc, removeProperty, setString, setStringArray } from '../jsonc-edit.js';
import type { ConfigFormat, EditOp } from './types.js';

export const jsonFormat: ConfigFormat = {
  id: 'json',
  label: 'JSON',
  parse(text) {
    const p = parseJsonc(text);
    return p.ok ? { ok: true, value: getNodeValue(p.root) as unknown } : p;
  },
  edit(text, ops: readonly EditOp[]) {
    let out = text;
    for (const op of ops) {
      const path = [...op.path];
      if ('remove' in op) {
        out = removeProperty(out, path);
        continue;
      }
      const p = parseJsonc(out);
      const exists = p.ok && findLast(p.root, path) !== undefined;
      if (typeof op.value === 'string') {
        if (exists) out = setString(out, path, op.value);
        else if (op.after !== undefined) out = insertStringAfter(out, [...path.slice(0, -1), op.after], String(path.at(-1)), op.value);
        else throw new Error(`no ${path.join('.')} to set`);
      } else if (exists) out = setStringArray(out, path, op.value);
      else if (op.after !== undefined) out = insertStringArrayAfter(out, [...path.slice(0, -1), op.after], String(path.at(-1)), op.value);
      else throw new Error(`no ${path.join('.')} to set`);
    }
    return out;
  },
};
