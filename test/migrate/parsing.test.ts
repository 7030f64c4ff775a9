import { describe, expect, it } from 'vitest';
import { parseAssignment, removeLines } from '../../src/migrate/sources/assign.js';
import { parseBackupName } from '../../src/migrate/sources/legacy.js';
import { configLocations } from '../../src/migrate/sources/configs.js';
import { fieldByFormat, mask } from '../../src/migrate/known.js';
import { insertStringArrayAfter, removeProperty, setStringArray } from '../../src/migrate/jsonc-edit.js';
import { launchLine } from '../../src/migrate/rewrite.js';
import { CANARIES } from './tokens.js';

describe('shell and .env assignments', () => {
  it.each([
    ['sh', 'export GITHUB_PERSONAL_ACCESS_TOKEN=ghp_abc', 'ghp_abc', true],
    ['sh', "  export HA_TOKEN='a.b.c'  # comment", 'a.b.c', true],
    ['sh', 'HA_URL="http://h:8123"', 'http://h:8123', true],
    ['sh', 'PROXMOX_TOKEN=PVEAPIToken=root@pam\\!t=1', 'PVEAPIToken=root@pam!t=1', true],
    ['sh', 'export A=1 B=2', '1', false],
    ['sh', 'A=x; do_something', 'x', false],
    ['sh', 'export HA_URL="$(cat ~/.ha_url)"', undefined, false],
    ['sh', 'export GITHUB_PERSONAL_ACCESS_TOKEN=$(mcp-tokens load github)', undefined, false],
    ['sh', 'export X=$OTHER', undefined, false],
    ['sh', 'echo hello', undefined, false],
    ['fish', "set -gx WIKIJS_TOKEN 'a.b.c'", 'a.b.c', true],
    ['fish', 'set -x -g HA_URL http://h', 'http://h', true],
    ['fish', 'set -g HA_URL http://h', undefined, false], // not exported
    ['fish', 'set -gx HA_TOKEN (mcp-tokens load hass)', undefined, false],
    ['fish', 'export HA_URL=http://h', 'http://h', true],
    ['dotenv', 'HA_TOKEN=a.b.c', 'a.b.c', true],
    ['dotenv', 'HA_TOKEN = "a.b.c" # from HA', 'a.b.c', true],
    ['dotenv', 'export HA_URL=http://h:8123 # comment', 'http://h:8123', true],
    ['dotenv', 'WIKIJS_URL="unterminated', undefined, false],
    ['dotenv', '# HA_TOKEN=a.b.c', undefined, false],
  ] as const)('%s: %s', (dialect, line, value, whole) => {
    const a = parseAssignment(line, dialect);
    expect(a?.value).toBe(value);
    if (value !== undefined) expect(a?.wholeLine).toBe(whole);
  });

  it('removes whole lines and keeps CRLF endings', () => {
    expect(removeLines('a\r\nb\r\nc', new Set([2]))).toBe('a\r\nc');
    expect(removeLines('a\nb\n', new Set([2]))).toBe('a\n');
  });
});

describe('legacy backup names', () => {
  it.each([
    ['github_token.20240101_120000.backup', 'github', 'token', '2024-01-01T12:00:00.000Z'],
    ['hass_url.20240101T120000123Z.backup', 'hass', 'url', '2024-01-01T12:00:00.123Z'],
    ['proxmox_token.1700000000.backup', 'proxmox', 'token', '2023-11-14T22:13:20.000Z'],
    ['wikijs_token.2024-01-01_12-00-00.backup', 'wikijs', 'token', '2024-01-01T12:00:00.000Z'],
    ['wikijs_url.old.backup', 'wikijs', 'url', undefined],
  ])('%s', (name, service, key, at) => {
    const p = parseBackupName(name);
    expect([p?.service, p?.key, p?.takenAt?.toISOString()]).toEqual([service, key, at]);
  });
  it.each(['github_token', 'notes.txt.backup', 'GitHub_token.1.backup', '.backup'])('rejects %s', (name) => {
    expect(parseBackupName(name)).toBeUndefined();
  });
});

describe('client config locations', () => {
  const where = (platform: NodeJS.Platform, env: Record<string, string> = {}) =>
    configLocations({ home: platform === 'win32' ? 'C:\\Users\\dev' : '/home/dev', cwd: platform === 'win32' ? 'C:\\src\\app' : '/src/app', platform, env }).map(
      (l) => l.path,
    );
  it('follows each OS', () => {
    expect(where('linux')).toContain('/home/dev/.config/Claude/claude_desktop_config.json');
    expect(where('linux')).toContain('/home/dev/.config/Code/User/mcp.json');
    expect(where('linux', { XDG_CONFIG_HOME: '/x' })).toContain('/x/Claude/claude_desktop_config.json');
    expect(where('darwin')).toContain('/home/dev/Library/Application Support/Claude/claude_desktop_config.json');
    expect(where('darwin')).toContain('/home/dev/Library/Application Support/Code/User/mcp.json');
    expect(where('win32', { APPDATA: 'C:\\Users\\dev\\AppData\\Roaming' })).toContain('C:\\Users\\dev\\AppData\\Roaming\\Claude\\claude_desktop_config.json');
    expect(where('linux')).toEqual(
      expect.arrayContaining(['/home/dev/.claude.json', '/src/app/.mcp.json', '/src/app/.vscode/mcp.json', '/home/dev/.cursor/mcp.json', '/src/app/.cursor/mcp.json', '/home/dev/.codeium/windsurf/mcp_config.json']),
    );
  });
  it('knows every client of issue 26, on each OS', () => {
    expect(where('linux')).toEqual(expect.arrayContaining([
      '/home/dev/.gemini/settings.json', '/home/dev/.codex/config.toml', '/home/dev/.config/zed/settings.json', '/home/dev/.config/goose/config.yaml',
      '/home/dev/.continue/config.yaml', '/home/dev/.continue/config.json', '/home/dev/.config/opencode/opencode.json', '/home/dev/.config/opencode/opencode.jsonc',
      '/home/dev/.config/Code/User/globalStorage/saoudrizwan.claude-dev/settings/cline_mcp_settings.json', '/home/dev/.cline/data/settings/cline_mcp_settings.json',
      '/home/dev/.config/Code/User/globalStorage/rooveterinaryinc.roo-cline/settings/mcp_settings.json', '/home/dev/.kiro/settings/mcp.json',
      '/home/dev/.aws/amazonq/mcp.json', '/home/dev/.lmstudio/mcp.json', '/home/dev/.warp/.mcp.json', '/home/dev/.copilot/mcp-config.json',
      '/home/dev/.config/Code/User/settings.json', '/home/dev/.config/goose/secrets.yaml', '/src/app/.vscode/settings.json',
      '/src/app/.gemini/settings.json', '/src/app/.codex/config.toml', '/src/app/.zed/settings.json', '/src/app/opencode.json', '/src/app/.roo/mcp.json',
      '/src/app/.kiro/settings/mcp.json', '/src/app/.amazonq/mcp.json', '/src/app/.warp/.mcp.json', '/src/app/.github/mcp.json',
    ]));
    expect(where('linux', { CODEX_HOME: '/c', COPILOT_HOME: '/k' })).toEqual(expect.arrayContaining(['/c/config.toml', '/k/mcp-config.json']));
    expect(where('darwin')).toEqual(expect.arrayContaining(['/home/dev/Library/Application Support/Code/User/globalStorage/saoudrizwan.claude-dev/settings/cline_mcp_settings.json', '/home/dev/.config/goose/config.yaml', '/home/dev/.config/zed/settings.json']));
    const win = where('win32', { APPDATA: 'C:\\Users\\dev\\AppData\\Roaming' });
    expect(win).toEqual(expect.arrayContaining([
      'C:\\Users\\dev\\AppData\\Roaming\\Block\\goose\\config\\config.yaml', 'C:\\Users\\dev\\AppData\\Roaming\\Zed\\settings.json',
      'C:\\Users\\dev\\.codex\\config.toml', 'C:\\Users\\dev\\.gemini\\settings.json', 'C:\\Users\\dev\\.config\\opencode\\opencode.json',
    ]));
  });
  it('lists a file once when cwd is home', () => {
    const paths = configLocations({ home: '/h', cwd: '/h', platform: 'linux', env: {} }).map((l) => l.path);
    expect(paths.filter((p) => p === '/h/.cursor/mcp.json')).toHaveLength(1);
  });
});

describe('token formats under other names', () => {
  it.each([
    ['GITHUB_TOKEN', CANARIES.GITHUB, 'github/token'],
    ['GH_TOKEN', CANARIES.GITHUB, 'github/token'],
    ['PVE_API', CANARIES.PROXMOX, 'proxmox/token'],
    ['HASS_ACCESS_TOKEN', CANARIES.HASS, 'hass/token'],
    ['HA_KEY', CANARIES.HASS, 'hass/token'],
    ['WIKIJS_API_KEY', CANARIES.WIKIJS, 'wikijs/token'],
    ['API_KEY', CANARIES.WIKIJS, undefined], // a JWT of which service? not guessed
    ['DEBUG', 'true', undefined],
  ])('%s', (name, value, id) => {
    const f = fieldByFormat(name, value);
    expect(f ? `${f.service}/${f.key}` : undefined).toBe(id);
  });
  it('masks like list', () => {
    expect(mask('ghp_abcdefghijklmnop')).toBe('ghp_…mnop');
    expect(mask('short-value')).toBe('********');
  });
});

describe('style-keeping JSONC edits', () => {
  it.each([
    ['first of two', '{\n  "env": {\n    "A": "1",\n    "B": "2"\n  }\n}', ['env', 'A'], '{\n  "env": {\n    "B": "2"\n  }\n}'],
    ['last of two', '{\n  "env": {\n    "A": "1",\n    "B": "2"\n  }\n}', ['env', 'B'], '{\n  "env": {\n    "A": "1"\n  }\n}'],
    ['trailing comma', '{\n  "a": 1,\n  "b": 2,\n}', ['b'], '{\n  "a": 1,\n}'],
    ['line comment', '{\n  "a": 1,\n  "b": 2, // why\n  "c": 3\n}', ['b'], '{\n  "a": 1,\n  "c": 3\n}'],
    ['CRLF', '{\r\n  "a": 1,\r\n  "b": 2\r\n}', ['b'], '{\r\n  "a": 1\r\n}'],
    ['one line', '{"a": 1, "b": 2}', ['b'], '{"a": 1}'],
    ["one line first", '{"a": 1, "b": 2}', ["a"], '{"b": 2}'],
    ['absent', '{"a": 1}', ['x'], '{"a": 1}'],
  ])('removes a property: %s', (_name, text, path, out) => {
    expect(removeProperty(text, path)).toBe(out);
  });

  it('renders a replaced array in the style of the old one', () => {
    expect(setStringArray('{"args": ["a","b"]}', ['args'], ['x', 'y'])).toBe('{"args": ["x","y"]}');
    expect(setStringArray('{\n\t"args": [\n\t\t"a"\n\t]\n}', ['args'], ['x', 'y'])).toBe('{\n\t"args": [\n\t\t"x",\n\t\t"y"\n\t]\n}');
  });

  it('adds args after command when there were none', () => {
    const text = '{\n  "s": {\n    "command": "srv",\n    "env": {}\n  }\n}';
    expect(insertStringArrayAfter(text, ['s', 'command'], 'args', ['run'])).toBe('{\n  "s": {\n    "command": "srv",\n    "args": ["run"],\n    "env": {}\n  }\n}');
  });
});

describe('launch lines', () => {
  it('wraps a command, and adds services to one already wrapped', () => {
    expect(launchLine('npx', ['-y', 'srv'], ['github'], [], 'mcp-tokens')).toEqual(['mcp-tokens', 'run', 'github', '--', 'npx', '-y', 'srv']);
    // A vault elsewhere than ~/.mcp_tokens: named once, whatever the entry had.
    expect(launchLine('npx', ['-y', 'srv'], ['github'], [], 'mcp-tokens', '/srv/vault')).toEqual(['mcp-tokens', 'run', '--dir', '/srv/vault', 'github', '--', 'npx', '-y', 'srv']);
    expect(launchLine('mcp-tokens', ['run', '--dir', '/srv/vault', 'github', '--', 'srv'], ['hass'], [], 'mcp-tokens', '/srv/vault')).toEqual(['mcp-tokens', 'run', '--dir', '/srv/vault', 'github', 'hass', '--', 'srv']);
    expect(launchLine('mcp-tokens', ['run', 'github', '--', 'srv'], ['hass', 'github'], [], 'mcp-tokens')).toEqual(['mcp-tokens', 'run', 'github', 'hass', '--', 'srv']);
    expect(launchLine('/usr/local/bin/mcp-tokens', ['run', '--dir', '/v', 'github', '--', 'srv'], ['hass'], [], 'mcp-tokens')).toEqual([
      'mcp-tokens', 'run', '--dir', '/v', 'github', 'hass', '--', 'srv',
    ]);
  });
});
