/** Which command rewritten entries start (issue 26): never a name that is not on the PATH, silently. */
import { chmodSync, mkdirSync, mkdtempSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chooseRunCommand } from '../../src/cli/run-command.js';

describe('the command written into rewritten entries', () => {
  const root = realpathSync(mkdtempSync(join(tmpdir(), 'mcpt-runcmd-')));
  const bin = join(root, 'bin');
  const script = join(root, 'pkg', 'mcp-tokens.js');
  const npx = join(root, '_npx', 'abc', 'mcp-tokens.js');
  mkdirSync(bin);
  for (const f of [join(bin, 'mcp-tokens'), script, npx]) {
    mkdirSync(join(f, '..'), { recursive: true });
    writeFileSync(f, '#!/bin/sh\n');
    chmodSync(f, 0o755);
  }

  it('is mcp-tokens when it is on the PATH', () => {
    expect(chooseRunCommand({ given: 'mcp-tokens', explicit: false, path: `/nowhere:${bin}`, platform: 'linux', script })).toEqual({ command: 'mcp-tokens' });
  });
  it('is this CLI by its absolute path, with a warning, when it is not', () => {
    const c = chooseRunCommand({ given: 'mcp-tokens', explicit: false, path: '/usr/bin:/bin', platform: 'linux', script });
    expect(c.command).toBe(script);
    expect(c.warning).toMatch(/not on this PATH.*absolute path/);
    const cached = chooseRunCommand({ given: 'mcp-tokens', explicit: false, path: '/usr/bin', platform: 'linux', script: npx });
    expect(cached.command).toBe(npx);
    expect(cached.warning).toMatch(/npx's cache/);
  });
  it('is what --run-command says, always', () => {
    expect(chooseRunCommand({ given: 'mcp-tokens', explicit: true, path: '/usr/bin', platform: 'linux', script })).toEqual({ command: 'mcp-tokens' });
    expect(chooseRunCommand({ given: '/opt/mt', explicit: true, path: '', platform: 'linux', script })).toEqual({ command: '/opt/mt' });
  });
  it('on Windows, warns and keeps the name (a .js file is no command there)', () => {
    const c = chooseRunCommand({ given: 'mcp-tokens', explicit: false, path: 'C:\\nowhere', platform: 'win32', script });
    expect(c.command).toBe('mcp-tokens');
    // mcp-tokens is not on the npm registry: never send anyone there for it (issue 27, item 3)
    expect(c.warning).toContain('npm install -g . in the mcp-tokens clone');
  });
  it('no warning teaches an install from the npm registry', () => {
    const choices = [
      chooseRunCommand({ given: 'mcp-tokens', explicit: false, path: 'C:\\nowhere', platform: 'win32', script }),
      chooseRunCommand({ given: 'mcp-tokens', explicit: false, path: '/usr/bin', platform: 'linux', script: '/nonexistent/mcp-tokens.js' }),
      chooseRunCommand({ given: 'mcp-tokens', explicit: false, path: '/usr/bin', platform: 'linux', script: npx }),
    ];
    for (const c of choices) {
      expect(c.warning).toMatch(/npm install -g \. (in the mcp-tokens clone|there)/);
      expect(c.warning).not.toMatch(/npm (install|i) -g mcp-tokens/);
    }
  });
});
