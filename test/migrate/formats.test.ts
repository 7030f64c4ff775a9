/** The format layer: each edit keeps every other byte, or is refused (never a reformatted file). */
import { describe, expect, it } from 'vitest';
import { editChecked, jsonFormat, tomlFormat, yamlFormat } from '../../src/migrate/formats/index.js';

describe('YAML edits at the parser\'s byte ranges', () => {
  const goose = 'extensions:\n  gh:\n    args:\n    - -y\n    - x   # pkg\n    cmd: npx\n    envs:\n      TOKEN: abc   # aligned\n      OTHER: "1"\nmode: auto   # kept\n';
  it('removes a key with its line and replaces a block sequence at its indent', () => {
    const out = editChecked(yamlFormat, goose, [
      { path: ['extensions', 'gh', 'envs', 'TOKEN'], remove: true },
      { path: ['extensions', 'gh', 'cmd'], value: 'mcp-tokens' },
      { path: ['extensions', 'gh', 'args'], value: ['run', 'github', '--', 'npx', '@scope/pkg'] },
    ], ['extensions', 'gh']);
    expect(out).toBe('extensions:\n  gh:\n    args:\n    - run\n    - github\n    - --\n    - npx\n    - "@scope/pkg"\n    cmd: mcp-tokens\n    envs:\n      OTHER: "1"\nmode: auto   # kept\n');
  });
  it('keeps a map a map when its last key goes, edits flow collections in flow, adds a missing key after another', () => {
    expect(editChecked(yamlFormat, 'a:\n  env:\n    T: x\n  b: 1\n', [{ path: ['a', 'env', 'T'], remove: true }], ['a'])).toBe('a:\n  env: {}\n  b: 1\n');
    expect(editChecked(yamlFormat, 'a: {env: {T: x, U: y}, args: [p, q]}  # c\n', [{ path: ['a', 'env', 'T'], remove: true }, { path: ['a', 'args'], value: ['r'] }], ['a'])).toBe('a: {env: {U: "y"}, args: [r]}  # c\n');
    expect(editChecked(yamlFormat, '- name: s\n  command: npx\n  # note\n', [{ path: [0, 'args'], value: ['x'], after: 'command' }], [0])).toBe('- name: s\n  command: npx\n  args: [x]\n  # note\n');
  });
  it('quotes what plain YAML would read as something else', () => {
    const out = editChecked(yamlFormat, 'c: x\n', [{ path: ['c'], value: 'true' }], []);
    expect(out).toBe('c: "true"\n');
  });
});

describe('TOML edits through toml-patch, guarded', () => {
  const codex = '# top\nmodel = "o3"   # aligned\n\n[mcp_servers.gh]\ncommand = "npx"\nargs = ["-y", "x"]\n\n[mcp_servers.gh.env]\nTOKEN = "abc"\n\n# between\n[mcp_servers.other]\ncommand = "uvx"\n';
  it('edits keys and arrays in place', () => {
    const out = editChecked(tomlFormat, codex, [
      { path: ['mcp_servers', 'gh', 'env', 'TOKEN'], remove: true },
      { path: ['mcp_servers', 'gh', 'command'], value: 'mcp-tokens' },
      { path: ['mcp_servers', 'gh', 'args'], value: ['run', 'gh', '--', 'npx'] },
    ], ['mcp_servers', 'gh']);
    expect(out).toBe('# top\nmodel = "o3"   # aligned\n\n[mcp_servers.gh]\ncommand = "mcp-tokens"\nargs = ["run", "gh", "--", "npx"]\n\n[mcp_servers.gh.env]\n\n# between\n[mcp_servers.other]\ncommand = "uvx"\n');
  });
  it('refuses an edit that would lay out lines outside the entry anew (removing a whole table does)', () => {
    expect(() => editChecked(tomlFormat, codex, [{ path: ['mcp_servers', 'gh', 'env'], remove: true }], ['mcp_servers', 'gh'])).toThrow(/outside the entry/);
  });
  it('never quotes the broken line (it may hold a token), only where and what', () => {
    const secret = 'Zq8kW2xLm5Np7Rt9Vb3Cd6Fg4Hj';
    const t = tomlFormat.parse(`[a]\nenv = { T = "${secret}" \n`);
    expect(t).toEqual({ ok: false, reason: 'line 2, column 7: Expected "}"' });
    const y = yamlFormat.parse(`a:\n  b: [${secret}\n`);
    expect(y.ok).toBe(false);
    expect(JSON.stringify(y)).not.toContain(secret);
    expect(y).toMatchObject({ reason: expect.stringMatching(/^line \d+, column \d+: Flow sequence/) as unknown });
  });
  it('says TOML, not JSON, for a broken file', () => {
    const p = tomlFormat.parse('[a\nb = 1');
    expect(p.ok).toBe(false);
    expect(() => editChecked(tomlFormat, '[a\nb = 1', [], [])).toThrow(/not valid TOML/);
  });
});

describe('JSONC through jsonc-edit', () => {
  it('removes, sets and inserts with comments kept', () => {
    const out = editChecked(jsonFormat, '{\n  // c\n  "s": {"command": "npx", "env": {"T": "x"}}\n}\n', [
      { path: ['s', 'env'], remove: true },
      { path: ['s', 'command'], value: 'mcp-tokens' },
      { path: ['s', 'args'], value: ['run'], after: 'command' },
    ], ['s']);
    expect(out).toBe('{\n  // c\n  "s": {"command": "mcp-tokens", "args": ["run"]}\n}\n');
  });
});
