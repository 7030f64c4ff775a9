/**
 * Runnable documentation: every fenced block marked with a `<!-- runnable -->` line just before
 * it, in README.md, CONTRIBUTING.md and docs/*.md, runs with `bash -eo pipefail` and must exit 0.
 * One scratch HOME per document (a file vault, the cheap test KDF, a passphrase file in
 * MCP_TOKENS_PASSPHRASE_FILE and MCP_TOKENS_NEW_PASSPHRASE_FILE, a well-formed fake GitHub token
 * in GITHUB_TOKEN, no keychain, no network), its blocks in document order, with an `mcp-tokens`
 * on PATH that runs this repository's CLI. CONTRIBUTING.md says how to mark a block.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO, cliEnv, ensureBuilt, githubClassic, passphraseEnv, shimBin, tempHome } from './helpers/cli.js';

const MARK = '<!-- runnable -->';

/** The runnable blocks of a Markdown text, in order, with the line of the first line of code. */
export function runnableBlocks(text: string): Array<{ line: number; code: string }> {
  const lines = text.split('\n');
  const blocks: Array<{ line: number; code: string }> = [];
  let marked = false;
  for (let i = 0; i < lines.length; i++) {
    const open = /^(`{3,}|~{3,})\s*([\w-]*)/.exec(lines[i]!);
    if (open) {
      // a fence: skip to its end (a mark inside a fence, e.g. in an example, is text)
      const end = lines.findIndex((l, j) => j > i && l.trim().startsWith(open[1]!) && /^[`~]+$/.test(l.trim()));
      if (end < 0) throw new Error(`line ${i + 1}: the fence is never closed`);
      if (marked) {
        if (!['sh', 'bash'].includes(open[2]!)) throw new Error(`line ${i}: ${MARK} must be followed by a \`\`\`sh or \`\`\`bash fence`);
        blocks.push({ line: i + 2, code: lines.slice(i + 1, end).join('\n') });
      }
      marked = false;
      i = end;
    } else if (lines[i]!.trim() === MARK) marked = true;
    else if (marked) throw new Error(`line ${i}: ${MARK} must be followed by a \`\`\`sh or \`\`\`bash fence`);
  }
  return blocks;
}

const DOCS = ['README.md', 'CONTRIBUTING.md', ...readdirSync(join(REPO, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

describe('runnable blocks', () => {
  it('finds marked blocks and refuses a mark on anything but a shell fence', () => {
    expect(runnableBlocks(`a\n${MARK}\n\`\`\`sh\necho 1\n\`\`\`\n\`\`\`sh\nnot marked\n\`\`\`\n${MARK}\n\`\`\`bash\necho 2\necho 3\n\`\`\`\n`)).toEqual([
      { line: 4, code: 'echo 1' },
      { line: 11, code: 'echo 2\necho 3' },
    ]);
    expect(() => runnableBlocks(`${MARK}\n\`\`\`json\n{}\n\`\`\`\n`)).toThrow(/must be followed/);
    expect(() => runnableBlocks(`${MARK}\n\`\`\`sh\necho\n`)).toThrow(/never closed/);
    expect(() => runnableBlocks(`${MARK}\ntext\n\`\`\`sh\necho\n\`\`\`\n`)).toThrow(/must be followed/);
    expect(runnableBlocks(`\`\`\`\`md\n${MARK}\n\`\`\`sh\nexample\n\`\`\`\n\`\`\`\`\n`)).toEqual([]); // a mark inside a fence is text
  });

  it.each(DOCS)('%s: every relative link points at a file of the repository', (doc) => {
    const text = readFileSync(join(REPO, doc), 'utf8');
    for (const m of text.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)) {
      if (/^[a-z]+:/.test(m[1]!)) continue; // https:, mailto:
      expect(existsSync(join(REPO, dirname(doc), m[1]!)), `${doc}: ${m[1]}`).toBe(true);
    }
  });

  it('README.md has runnable blocks (the quick start among them)', () => {
    expect(runnableBlocks(readFileSync(join(REPO, 'README.md'), 'utf8')).length).toBeGreaterThanOrEqual(2);
  });
});

describe.each(DOCS.filter((d) => runnableBlocks(readFileSync(join(REPO, d), 'utf8')).length > 0))('%s', (doc) => {
  beforeAll(() => ensureBuilt());

  it('every runnable block exits 0, in order, in one scratch HOME', () => {
    const home = tempHome('mcpt-docs-');
    const pass = passphraseEnv(home);
    const env = {
      ...cliEnv(home, pass),
      MCP_TOKENS_NEW_PASSPHRASE_FILE: pass['MCP_TOKENS_PASSPHRASE_FILE']!,
      GITHUB_TOKEN: githubClassic(),
      SHELL: '/bin/bash',
      PATH: `${shimBin(home)}:${process.env['PATH'] ?? '/usr/bin:/bin'}`,
    };
    for (const { line, code } of runnableBlocks(readFileSync(join(REPO, doc), 'utf8'))) {
      const r = spawnSync('bash', ['-eo', 'pipefail', '-c', code], { cwd: home, env, encoding: 'utf8', timeout: 60_000 });
      expect(r.status, `${doc}:${line}: exit ${r.status}\n${code}\n--- stderr:\n${r.stderr}`).toBe(0);
    }
  });
});
