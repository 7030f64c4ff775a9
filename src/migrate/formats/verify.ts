/**
 * The check every format's edit passes before its result is used: parsed again by the same real
 * parser, the new text must hold exactly the data of the old with the ops applied — nothing more
 * removed, nothing reinterpreted (a string turned into a number, a key moved to another table).
 */
import { VaultError } from '../../errors.js';
import type { ConfigFormat, DataPath, EditOp } from './types.js';

export function applyToData(data: unknown, ops: readonly EditOp[]): unknown {
  const out = structuredClone(data);
  for (const op of ops) {
    const parent = walk(out, op.path.slice(0, -1));
    const key = op.path.at(-1)!;
    if (parent === null || typeof parent !== 'object') throw new Error(`no ${op.path.slice(0, -1).join('.')} to edit`);
    if ('remove' in op) {
      if (Array.isArray(parent) && typeof key === 'number') parent.splice(key, 1);
      else delete (parent as Record<string, unknown>)[String(key)];
    } else {
      (parent as Record<string | number, unknown>)[key] = typeof op.value === 'string' ? op.value : [...op.value];
    }
  }
  return out;
}

function walk(data: unknown, path: DataPath): unknown {
  let at = data;
  for (const p of path) {
    if (at === null || typeof at !== 'object') return undefined;
    at = (at as Record<string | number, unknown>)[p];
  }
  return at;
}

export function sameData(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a instanceof Date || b instanceof Date) return String(a) === String(b);
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) {
    return typeof a === 'number' && typeof b === 'number' ? Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b)) : typeof a === 'bigint' && typeof b === 'bigint' ? a === b : false;
  }
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && sameData((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/** Run `format.edit` and check its result; a throw (VaultError FAILED) leaves the file as it is. */
export function editChecked(format: ConfigFormat, text: string, ops: readonly EditOp[], scope: DataPath): string {
  const before = format.parse(text);
  if (!before.ok) throw new VaultError('FAILED', `not valid ${format.label}: ${before.reason}`);
  const out = format.edit(text, ops, scope);
  const after = format.parse(out);
  if (!after.ok || !sameData(after.value, applyToData(before.value, ops))) {
    throw new VaultError('FAILED', `the ${format.label} edit did not give the data intended (${after.ok ? 'other values would change' : after.reason}); the file was not changed`);
  }
  return out;
}
