/**
 * The marked block `mcp-tokens setup` keeps in a shell start-up file, as pure text edits.
 *
 * Exact undo is the point: removing the block must give back the file byte for byte, including
 * whether it ended with a newline. So a block appended to a file that lacked a final newline is
 * written after a separating "\n" and itself left without one; on removal, a block at the very
 * end with no newline after it takes that separator away again. A block followed by a newline
 * takes its own newline with it. Every other byte of the file is left as it was.
 */
import { VaultError } from '../errors.js';

export const BLOCK_BEGIN = '# >>> mcp-tokens setup >>>';
export const BLOCK_END = '# <<< mcp-tokens setup <<<';
/**
 * The line a block carries when `setup` created the file for it, so `setup --undo` deletes the file
 * again when the block was all it held — and only then: a file the user had, even an empty one,
 * is never deleted.
 */
export const CREATED_NOTE = '# (mcp-tokens setup created this file; setup --undo deletes it if nothing else is in it)';

interface Found {
  start: number; // offset of the begin marker line
  stop: number; // offset just after the end marker line's text (before its "\n", if any)
}

export type InsertAction = 'added' | 'updated' | 'unchanged';

/** Add `block` to `content`, or replace the block already there. */
export function insertBlock(content: string, block: string, where = 'the file'): { content: string; action: InsertAction } {
  const body = checkBlock(block);
  const found = findBlocks(content, where);
  if (found.length > 1) {
    throw new VaultError('FAILED', `${where} holds ${found.length} mcp-tokens setup blocks`, {
      hint: 'run `mcp-tokens setup --undo` to remove them all, then `mcp-tokens setup` again',
    });
  }
  const existing = found[0];
  if (existing) {
    if (content.slice(existing.start, existing.stop) === body) return { content, action: 'unchanged' };
    return { content: content.slice(0, existing.start) + body + content.slice(existing.stop), action: 'updated' };
  }
  if (content === '') return { content: `${body}\n`, action: 'added' };
  if (content.endsWith('\n')) return { content: `${content}${body}\n`, action: 'added' };
  return { content: `${content}\n${body}`, action: 'added' };
}

/** `block` with the CREATED_NOTE line after its begin marker. */
export function markCreated(block: string): string {
  const nl = block.indexOf('\n');
  return `${block.slice(0, nl + 1)}${CREATED_NOTE}\n${block.slice(nl + 1)}`;
}

/** True when a block in content says setup created the file. */
export function createdBySetup(content: string, where = 'the file'): boolean {
  return findBlocks(content, where).some((b) => hasCreatedNote(content.slice(b.start, b.stop)));
}

function hasCreatedNote(block: string): boolean {
  return block.split('\n').some((l) => l.replace(/\r$/, '') === CREATED_NOTE);
}

/**
 * Remove every mcp-tokens block; `removed` is how many there were, `created` whether one of them
 * said setup created the file.
 */
export function removeBlocks(content: string, where = 'the file'): { content: string; removed: number; created: boolean } {
  const found = findBlocks(content, where);
  const created = found.some((b) => hasCreatedNote(content.slice(b.start, b.stop)));
  let out = content;
  for (const { start, stop } of [...found].reverse()) {
    if (out[stop] === '\n') out = out.slice(0, start) + out.slice(stop + 1);
    else if (start > 0 && out[start - 1] === '\n') out = out.slice(0, start - 1) + out.slice(stop);
    else out = out.slice(0, start) + out.slice(stop);
  }
  return { content: out, removed: found.length, created };
}

/** The block's text without its final newline; it must be exactly one marked block. */
function checkBlock(block: string): string {
  const body = block.endsWith('\n') ? block.slice(0, -1) : block;
  const lines = body.split('\n');
  const markers = lines.filter((l) => l === BLOCK_BEGIN || l === BLOCK_END).length;
  if (lines[0] !== BLOCK_BEGIN || lines[lines.length - 1] !== BLOCK_END || markers !== 2) {
    throw new Error('internal: a setup block must start and end with its marker lines');
  }
  return body;
}

/** Marker lines are matched whole (a trailing "\r" of a CRLF file is tolerated). */
function findBlocks(content: string, where: string): Found[] {
  const found: Found[] = [];
  let open: number | undefined;
  let offset = 0;
  for (const line of content.split('\n')) {
    const text = line.endsWith('\r') ? line.slice(0, -1) : line;
    if (text === BLOCK_BEGIN) {
      if (open !== undefined) throw unbalanced(where);
      open = offset;
    } else if (text === BLOCK_END) {
      if (open === undefined) throw unbalanced(where);
      found.push({ start: open, stop: offset + line.length });
      open = undefined;
    }
    offset += line.length + 1;
  }
  if (open !== undefined) throw unbalanced(where);
  return found;
}

function unbalanced(where: string): VaultError {
  return new VaultError('FAILED', `The mcp-tokens setup block in ${where} is damaged (a marker line is missing)`, {
    hint: `edit ${where} by hand: remove the lines from "${BLOCK_BEGIN}" to "${BLOCK_END}"`,
  });
}
