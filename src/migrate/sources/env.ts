/**
 * Variables: the process environment, `.env` files given explicitly, and shell rc files. Only the
 * service table's variable names count here — `GITHUB_TOKEN=…` in an rc file belongs to some other
 * tool (gh), and removing it would break that tool.
 */
import { join } from 'node:path';
import { readSource, unreadable, type ReadFile } from '../fsutil.js';
import { looksSecret, secretShape } from '../detect.js';
import { candidate, fieldByEnv, isReference, KNOWN_FIELDS, mask } from '../known.js';
import type { Candidate, Leftover, Refusal } from '../types.js';
import { lines, parseAssignment, type Dialect } from './assign.js';
import { stripBom } from './configs.js';

const MAX_TEXT_BYTES = 4 * 1024 * 1024;

export interface TextScan {
  candidates: Candidate[];
  /** Files read, by path, with the lines that can be removed whole. */
  files: Map<string, { file: ReadFile; removable: Set<number> }>;
  refused: Refusal[];
  left: Leftover[];
}

export function scanEnv(env: Readonly<Record<string, string | undefined>>): Candidate[] {
  const out: Candidate[] = [];
  for (const f of KNOWN_FIELDS) {
    const value = env[f.env];
    if (value === undefined || value.trim() === '' || isReference(value)) continue;
    out.push(candidate({ kind: 'env', source: 'environment variable', envName: f.env, service: f.service, key: f.key }, value));
  }
  return out;
}

/** The rc files the seed's users put `export GITHUB_PERSONAL_ACCESS_TOKEN=…` into. */
export function shellRcPaths(home: string): { path: string; dialect: Dialect }[] {
  return [
    ...['.bashrc', '.bash_profile', '.profile', '.zshrc', '.zprofile', '.zshenv'].map((f) => ({
      path: join(home, f),
      dialect: 'sh' as const,
    })),
    { path: join(home, '.config', 'fish', 'config.fish'), dialect: 'fish' },
  ];
}

export async function scanTextFiles(
  files: readonly { path: string; dialect: Dialect; project?: string }[],
  kind: 'env-file' | 'shell-rc',
  scan: TextScan,
  explicit: boolean,
): Promise<void> {
  for (const { path, dialect, project } of files) {
    if (scan.files.has(path)) continue;
    try {
      await scanTextFile(path, dialect, kind, scan, explicit, project); // adds to `scan` only at its end
    } catch (e) {
      scan.refused.push({ path, reason: unreadable(e), mayHoldSecrets: true });
    }
  }
}

async function scanTextFile(
  path: string,
  dialect: Dialect,
  kind: 'env-file' | 'shell-rc',
  scan: TextScan,
  explicit: boolean,
  project: string | undefined,
): Promise<void> {
  const read = await readSource(path, MAX_TEXT_BYTES);
  if (!read.ok) {
    // A missing rc file is normal; a missing --env-file is worth saying.
    if (!read.absent || explicit) {
      scan.refused.push({ path, reason: read.absent ? 'does not exist' : `${read.reason}: check it by hand for tokens`, mayHoldSecrets: !read.absent, ...(read.step !== undefined ? { step: read.step } : {}) });
    }
    return;
  }
  const removable = new Set<number>();
  const found: Candidate[] = [];
  const left: Leftover[] = [];
  const source = kind === 'env-file' ? '.env file' : 'shell startup file';
  for (const { line, text } of lines(stripBom(read.file.bytes.toString('utf8')))) {
    const commented = /^\s*#+\s*/.exec(text);
    if (commented) {
      // `# GITHUB_PERSONAL_ACCESS_TOKEN=ghp_…`: dead to the shell, still a plaintext token.
      const c = parseAssignment(text.slice(commented[0].length), dialect === 'fish' ? 'fish' : 'dotenv');
      const known = c && fieldByEnv(c.name);
      if (c && ((known && known.secret && known.validate(c.value) === undefined) || secretShape(c.value))) {
        left.push({ path, where: `line ${line} (commented out, ${c.name})`, masked: mask(c.value), reason: 'a commented-out line still holds a credential in plaintext',
          step: `delete line ${line} of ${path} by hand (and rotate the token if it is still valid)` });
      }
      continue;
    }
    const a = parseAssignment(text, dialect);
    const field = a && fieldByEnv(a.name);
    if (a && !field && a.value !== '' && !isReference(a.value)) {
      const why = looksSecret(a.name, a.value);
      if (why) {
        left.push({ path, where: `line ${line} (${a.name})`, masked: mask(a.value), reason: `${why}, not a variable of a built-in service; mcp-tokens cannot hold it`,
          step: kind === 'shell-rc' ? `another program reads ${a.name}: keep it out of ${path} by hand (e.g. read it from your OS keychain there)` : `remove line ${line} by hand once whatever reads ${a.name} gets it another way` });
      }
    }
    if (!a || !field || a.value === '' || isReference(a.value)) continue;
    if (a.wholeLine) removable.add(line);
    found.push(candidate({ kind, source, path, line, envName: a.name, ...(project !== undefined ? { project } : {}), service: field.service, key: field.key }, a.value));
  }
  scan.candidates.push(...found);
  scan.left.push(...left);
  scan.files.set(path, { file: read.file, removable });
}
