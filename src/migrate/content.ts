/**
 * What a file becomes once migrate edits it. Apply writes it; the plan (dry run or not) computes
 * it too, so every check on the result (valid JSON, an rc file that still parses in its shell)
 * happens before anything is written, and the dry run refuses exactly what the real run refuses.
 */
import { spawnSync } from 'node:child_process';
import { constants, promises as fs } from 'node:fs';
import { basename, dirname } from 'node:path';
import { VaultError } from '../errors.js';
import type { Sources } from './decide.js';
import type { ReadFile } from './fsutil.js';
import { rewriteConfig } from './rewrite.js';
import { removeLines } from './sources/assign.js';
import { stripBom } from './sources/configs.js';
import type { FileChange } from './types.js';

export function newContent(change: FileChange, file: Pick<ReadFile, 'bytes'>, sources: Sources): Buffer {
  // A UTF-8 BOM is kept (written back first) but never edited; line endings are kept by the edits.
  const raw = file.bytes.toString('utf8');
  const text = stripBom(raw);
  const bom = raw.length !== text.length ? '\uFEFF' : '';
  if (change.kind === 'shell-rc') {
    const out = removeLines(text, new Set(change.removedLines));
    checkShellSyntax(change.path, out);
    return Buffer.from(bom + out, 'utf8');
  }
  if (change.kind !== 'config') return Buffer.from(bom + removeLines(text, new Set(change.removedLines)), 'utf8');
  const config = sources.configs.get(change.path)!;
  let out: string;
  try {
    out = rewriteConfig(text, config.servers, change.servers, config.format);
  } catch (e) {
    throw new VaultError('FAILED', `rewriting ${change.path} as ${config.format.label}: ${e instanceof Error ? e.message : String(e)}; the file was not changed`);
  }
  if (!config.format.parse(out).ok) throw new VaultError('FAILED', `rewriting ${change.path} would not leave valid ${config.format.label}; the file was not changed`);
  return Buffer.from(bom + out, 'utf8');
}

/**
 * An rc file is edited only when the result still parses in its own shell (`bash -n`, `zsh -n`,
 * `fish -n`): removing an `export` inside `if … fi` must not leave a broken startup file. A shell
 * that is not installed cannot vouch for it, so the file is then left as it is, too.
 */
function checkShellSyntax(path: string, content: string): void {
  const name = basename(path);
  const shell = name.endsWith('.fish') ? 'fish' : name.startsWith('.zsh') || name === '.zprofile' ? 'zsh' : 'bash';
  const env = { PATH: process.env['PATH'] ?? '/usr/bin:/bin' };
  if (spawnSync(shell, ['-c', 'exit 0'], { env, timeout: 60_000 }).error) {
    throw new VaultError('FAILED', `${shell} is not available to check that the edited file still parses; remove the line by hand`);
  }
  // Through `cat |`: Node hands a child a socket as stdin, which fish refuses to read a script from.
  const r = spawnSync('sh', ['-c', 'cat | exec "$0" -n', shell], { input: content, encoding: 'utf8', timeout: 60_000, env });
  if (r.status !== 0) throw new VaultError('FAILED', `removing the line would leave a file ${shell} cannot parse (${shell} -n); remove it by hand`);
}

/**
 * Every check the real run makes on a file before it changes it, made without writing: the edited
 * content (valid JSON, still parses in its shell) and a folder it can write its temp file in.
 * Returns why a file will not be changed, by path.
 */
export async function preflight(files: readonly FileChange[], sources: Sources, snapshots: ReadonlyMap<string, Buffer>): Promise<Map<string, string>> {
  const refused = new Map<string, string>();
  for (const f of files) {
    try {
      // The temp file goes beside the file written: a followed link's target, not the link.
      await fs.access(dirname(f.target ?? f.path), constants.W_OK | constants.X_OK);
      const bytes = snapshots.get(f.path);
      if (f.kind !== 'legacy' && bytes) newContent(f, { bytes }, sources);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      refused.set(f.path, e instanceof VaultError ? e.message : `its folder cannot be written (${typeof code === 'string' ? code : 'error'}); fix the folder's permissions, or remove it by hand`);
    }
  }
  return refused;
}
