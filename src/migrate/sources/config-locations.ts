/**
 * Where MCP clients keep their configs: each client's own files (per platform, honouring
 * XDG_CONFIG_HOME, CODEX_HOME, COPILOT_HOME…) and the project-level files of a project folder.
 */
import { readdirSync } from 'node:fs';
import { posix, win32 } from 'node:path';

export interface ConfigLocation {
  path: string;
  client: string;
  explicit: boolean;
  /** A project-level config (found in a project folder, not the user's own): the folder. */
  project?: string;
}

export interface ConfigPathOptions {
  home: string;
  cwd: string;
  platform: NodeJS.Platform;
  env: Readonly<Record<string, string | undefined>>;
}

/**
 * The project-level configs of a folder, by client: `[relative path, client]`. A `*` as the last
 * part stands for every .yaml/.yml/.json file of that folder (Continue's .continue/mcpServers/).
 */
const PROJECT_FILES: readonly (readonly [string[], string])[] = [
  [['.mcp.json'], 'Claude Code (project)'],
  [['.vscode', 'mcp.json'], 'VS Code (workspace)'],
  // VS Code 1.99 to 1.101 kept workspace servers under "mcp" in the workspace's settings.json.
  [['.vscode', 'settings.json'], 'VS Code (workspace settings.json)'],
  [['.cursor', 'mcp.json'], 'Cursor (project)'],
  [['.gemini', 'settings.json'], 'Gemini CLI (project)'],
  [['.codex', 'config.toml'], 'Codex (project)'],
  [['.zed', 'settings.json'], 'Zed (project)'],
  [['opencode.json'], 'opencode (project)'],
  [['opencode.jsonc'], 'opencode (project)'],
  [['.continue', 'mcpServers', '*'], 'Continue (workspace)'],
  [['.roo', 'mcp.json'], 'Roo Code (project)'],
  [['.kiro', 'settings', 'mcp.json'], 'Kiro (project)'],
  [['.amazonq', 'mcp.json'], 'Amazon Q (project)'],
  [['.warp', '.mcp.json'], 'Warp (project)'],
  [['.github', 'mcp.json'], 'Copilot CLI (project)'],
  [['.air', 'mcp.json'], 'JetBrains Air (project)'],
];

/** Files of a folder matching `*` (YAML or JSON), sorted; none when it cannot be listed. */
function filesIn(dir: string, p: typeof posix): string[] {
  try {
    return readdirSync(dir).filter((f) => /\.(ya?ml|json)$/i.test(f)).sort().map((f) => p.join(dir, f));
  } catch {
    return [];
  }
}

function expand(folder: string, rel: readonly string[], p: typeof posix): string[] {
  return rel.at(-1) === '*' ? filesIn(p.join(folder, ...rel.slice(0, -1)), p) : [p.join(folder, ...rel)];
}

/** The project-level configs of a project folder (one listed in ~/.claude.json). */
export function projectLocations(folder: string, platform: NodeJS.Platform): ConfigLocation[] {
  const p = platform === 'win32' ? win32 : posix;
  if (!p.isAbsolute(folder)) return [];
  return PROJECT_FILES.flatMap(([rel, client]) => expand(folder, rel, p).map((path) => ({ path, client: `${client} ${folder}`, explicit: false, project: folder })));
}

/**
 * Where each client keeps its MCP servers on this platform, user-level then project-level (the
 * folder migrate runs in). From each client's own documentation; docs/migrate.md lists
 * them. `[path, client, project?]`.
 */
export function configLocations(o: ConfigPathOptions): ConfigLocation[] {
  const p = o.platform === 'win32' ? win32 : posix;
  const h = (...parts: string[]): string => p.join(o.home, ...parts);
  const appData = o.env['APPDATA'] ?? h('AppData', 'Roaming');
  const localAppData = o.env['LOCALAPPDATA'] ?? h('AppData', 'Local');
  const xdg = o.env['XDG_CONFIG_HOME'] ?? h('.config');
  const appDir = o.platform === 'darwin' ? h('Library', 'Application Support') : o.platform === 'win32' ? appData : xdg;
  const codexHome = o.env['CODEX_HOME'] ?? h('.codex');
  const copilotHome = o.env['COPILOT_HOME'] ?? h('.copilot');
  const c = (...parts: string[]): string => p.join(o.cwd, ...parts);
  // The first clients migrate knew, in the order it has always read them; then the others.
  const list: [string, string, boolean?][] = [
    [p.join(appDir, 'Claude', 'claude_desktop_config.json'), 'Claude Desktop'],
    [h('.claude.json'), 'Claude Code (user)'],
    [c('.mcp.json'), 'Claude Code (project)', true],
    [p.join(appDir, 'Code', 'User', 'mcp.json'), 'VS Code (user)'],
    [p.join(appDir, 'Code - Insiders', 'User', 'mcp.json'), 'VS Code Insiders (user)'],
    [c('.vscode', 'mcp.json'), 'VS Code (workspace)', true],
    [h('.cursor', 'mcp.json'), 'Cursor (user)'],
    [c('.cursor', 'mcp.json'), 'Cursor (project)', true],
    [h('.codeium', 'windsurf', 'mcp_config.json'), 'Windsurf'],
  ];
  // Claude Desktop from the Microsoft Store (MSIX) keeps its files in its package's virtualised AppData.
  if (o.platform === 'win32') {
    const packages = p.join(localAppData, 'Packages');
    let names: string[] = [];
    try {
      names = readdirSync(packages).filter((n) => n.startsWith('Claude_')).sort();
    } catch {
      names = [];
    }
    for (const n of names) list.push([p.join(packages, n, 'LocalCache', 'Roaming', 'Claude', 'claude_desktop_config.json'), 'Claude Desktop (Microsoft Store)']);
  }
  for (const [code, name] of [['Code', 'VS Code'], ['Code - Insiders', 'VS Code Insiders']] as const) {
    const user = p.join(appDir, code, 'User');
    list.push([p.join(user, 'mcp.json'), `${name} (user)`]);
    list.push([p.join(user, 'settings.json'), `${name} (settings.json)`]);
    for (const profile of dirsIn(p.join(user, 'profiles'))) list.push([p.join(user, 'profiles', profile, 'mcp.json'), `${name} (profile ${profile})`]);
    list.push([p.join(user, 'globalStorage', 'saoudrizwan.claude-dev', 'settings', 'cline_mcp_settings.json'), `Cline (${name})`]);
    list.push([p.join(user, 'globalStorage', 'rooveterinaryinc.roo-cline', 'settings', 'mcp_settings.json'), `Roo Code (${name})`]);
  }
  list.push(
    [h('.cline', 'data', 'settings', 'cline_mcp_settings.json'), 'Cline CLI'],
    [h('.gemini', 'settings.json'), 'Gemini CLI (user)'],
    [p.join(codexHome, 'config.toml'), 'Codex (user)'],
    [o.platform === 'win32' ? p.join(appData, 'Zed', 'settings.json') : p.join(xdg, 'zed', 'settings.json'), 'Zed (user)'],
    [o.platform === 'win32' ? p.join(appData, 'Block', 'goose', 'config', 'config.yaml') : p.join(xdg, 'goose', 'config.yaml'), 'Goose'],
    // Goose's secrets (its extensions' env_keys) in plaintext when its keyring is off (GOOSE_DISABLE_KEYRING): swept, listed.
    [o.platform === 'win32' ? p.join(appData, 'Block', 'goose', 'config', 'secrets.yaml') : p.join(xdg, 'goose', 'secrets.yaml'), 'Goose (secrets.yaml)'],
    [h('.continue', 'config.yaml'), 'Continue (user)'],
    [h('.continue', 'config.json'), 'Continue (user)'], // its older config, before config.yaml
    ...filesIn(h('.continue', 'mcpServers'), p).map((f): [string, string] => [f, 'Continue (user)']),
    [p.join(xdg, 'opencode', 'opencode.json'), 'opencode (user)'],
    [p.join(xdg, 'opencode', 'opencode.jsonc'), 'opencode (user)'],
    [h('.kiro', 'settings', 'mcp.json'), 'Kiro (user)'],
    [h('.aws', 'amazonq', 'mcp.json'), 'Amazon Q (user)'],
    [h('.lmstudio', 'mcp.json'), 'LM Studio'],
    [h('.warp', '.mcp.json'), 'Warp (user)'],
    [p.join(copilotHome, 'mcp-config.json'), 'Copilot CLI (user)'],
  );
  const seen = new Set<string>();
  // Run from HOME, ~/.cursor/mcp.json is the user's own file, not a project's.
  const home = samePlace(o.cwd, o.home, o.platform);
  const user = list.filter(([path]) => !seen.has(path) && seen.add(path)).map(([path, client, project]) => ({ path, client, explicit: false, ...(project && !home ? { project: o.cwd } : {}) }));
  const project = PROJECT_FILES.flatMap(([rel, client]) => expand(o.cwd, rel, p).map((path) => ({ path, client, explicit: false, ...(home ? {} : { project: o.cwd }) })))
    .filter((l) => !seen.has(l.path) && seen.add(l.path));
  return [...user, ...project];
}

function dirsIn(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  } catch {
    return [];
  }
}

function samePlace(a: string, b: string, platform: NodeJS.Platform): boolean {
  const p = platform === 'win32' ? win32 : posix;
  return p.resolve(a) === p.resolve(b);
}
