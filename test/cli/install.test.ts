/**
 * Installing from a fresh clone. The whole path (git clone, `npm ci`, `npm install -g .` into a
 * scratch prefix, `mcp-tokens --version`) needs the registry and a minute, so it is checked by
 * hand (see the README's Install section); these check the two pieces it rests on.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO, tempHome } from '../helpers/cli.js';

describe('install from a fresh clone', () => {
  it('prepare without the dev dependencies says to run npm ci first (not "tsc: not found")', () => {
    const clone = tempHome('mcpt-install-');
    mkdirSync(join(clone, 'scripts'));
    cpSync(join(REPO, 'scripts', 'check-build-deps.mjs'), join(clone, 'scripts', 'check-build-deps.mjs'));
    const r = spawnSync(process.execPath, [join(clone, 'scripts', 'check-build-deps.mjs')], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('run `npm ci` in this clone first, then `npm install -g .`');
    const here = spawnSync(process.execPath, [join(REPO, 'scripts', 'check-build-deps.mjs')], { encoding: 'utf8' });
    expect([here.status, here.stderr]).toEqual([0, '']);
    const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts['prepare']).toBe('node scripts/check-build-deps.mjs && npm run build');
  });

  it('the README installs with npm ci before npm install -g .', () => {
    const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
    const install = readme.slice(readme.indexOf('## Install'), readme.indexOf('## Quick start'));
    const commands = [...install.matchAll(/^(npm [a-z-]+(?: -g \.)?)/gm)].map((m) => m[1]);
    expect(commands).toEqual(['npm ci', 'npm install -g .']);
  });

  it('no document teaches npx mcp-tokens outside the clone (npm would ask the registry)', () => {
    const docs = ['README.md', 'CONTRIBUTING.md', ...readdirSync(join(REPO, 'docs')).map((f) => join('docs', f))];
    for (const doc of docs) {
      // a paragraph (or a fenced block) that runs npx mcp-tokens says it is for inside the clone
      for (const para of readFileSync(join(REPO, doc), 'utf8').split(/\n\s*\n/)) {
        if (/npx mcp-tokens/.test(para)) expect(para, doc).toMatch(/inside the clone/i);
      }
    }
  });
});
