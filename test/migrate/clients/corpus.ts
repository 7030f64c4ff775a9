/**
 * A config file per MCP client, written as that client writes it (its comments, its other
 * settings, several servers, a remote one). `GH` stands for the GitHub token; the GitHub server
 * is `NODE_BIN ENV_SERVER` (node and test/fixtures/mcp-env-server.mjs, a real MCP server that
 * reports its environment), so the rewritten entry can be started. Every file holds KEEP-markers
 * before, between and after its servers: migrate must change bytes only between them.
 */
export interface ClientFixture {
  /** Path relative to HOME. */
  rel: string;
  client: string;
  format: 'json' | 'jsonc' | 'toml' | 'yaml';
  text: string;
  /** Data path of the GitHub server entry, and how the rewritten entry must read. */
  server: (string | number)[];
  shape: Shape;
  /** More GitHub server entries in the file, in another form its client reads. */
  also?: { server: (string | number)[]; shape: Shape }[];
  /** Credentials the client keeps elsewhere in the file, that migrate must list as left (their path, as printed). */
  left: string[];
}

/**
 * How a client reads a server entry: `command`/`args`/`env`; Goose's `cmd`/`args`/`envs`;
 * opencode's command list and `environment`; Zed's older `command: {path, args, env}`; Continue's
 * older `transport: {type: "stdio", command, args, env}`.
 */
export type Shape = 'standard' | 'goose' | 'opencode' | 'zed-command' | 'continue-transport';

/** Every GitHub server entry of a fixture. */
export function githubEntries(f: ClientFixture): { server: (string | number)[]; shape: Shape }[] {
  return [{ server: f.server, shape: f.shape }, ...(f.also ?? [])];
}

const VSCODE = '.config/Code/User';

/** The file's text with its placeholders filled: quoted ones as JSON strings (JSON, TOML), bare ones as they are (YAML). */
export function materialize(text: string, v: { token: string; node: string; server: string }): string {
  let out = text;
  for (const [word, value] of [['GH', v.token], ['NODE_BIN', v.node], ['ENV_SERVER', v.server]] as const) {
    out = out.replaceAll(`"${word}"`, JSON.stringify(value)).replace(new RegExp(`\\b${word}\\b`, 'g'), () => value);
  }
  return out;
}

/** How the client starts the server of `entry` (its data, as the client's parser reads it). */
export function launchOf(shape: Shape, entry: Record<string, unknown>): { command: string; args: string[]; env: Record<string, string> } {
  const env = (v: unknown): Record<string, string> => (v ?? {}) as Record<string, string>;
  if (shape === 'zed-command') {
    const c = entry['command'] as Record<string, unknown>;
    return { command: c['path'] as string, args: (c['args'] ?? []) as string[], env: env(c['env']) };
  }
  if (shape === 'continue-transport') return launchOf('standard', entry['transport'] as Record<string, unknown>);
  if (shape === 'goose') return { command: entry['cmd'] as string, args: (entry['args'] ?? []) as string[], env: env(entry['envs']) };
  if (shape === 'opencode') {
    const [command, ...args] = entry['command'] as string[];
    return { command: command!, args, env: env(entry['environment']) };
  }
  return { command: entry['command'] as string, args: (entry['args'] ?? []) as string[], env: env(entry['env']) };
}

/** The JSON files of the clients that use `mcpServers` as Claude Desktop does, each in its own style. */
function plain(rel: string, client: string, extra: string, indent = '  '): ClientFixture {
  const i = indent;
  const text = `{\n${i}"KEEP-before": true,\n${i}"mcpServers": {\n${i}${i}"github": {\n${i}${i}${i}"command": "NODE_BIN",\n${i}${i}${i}"args": ["ENV_SERVER"],\n${i}${i}${i}"env": {\n${i}${i}${i}${i}"GITHUB_PERSONAL_ACCESS_TOKEN": "GH"\n${i}${i}${i}}${extra}\n${i}${i}},\n${i}${i}"fetch": {\n${i}${i}${i}"command": "uvx",\n${i}${i}${i}"args": ["mcp-server-fetch"],\n${i}${i}${i}"KEEP-between": 1\n${i}${i}}\n${i}},\n${i}"KEEP-after": "yes"\n}\n`;
  return { rel, client, format: 'json', text, server: ['mcpServers', 'github'], shape: 'standard', left: [] };
}

export const CORPUS: ClientFixture[] = [
  {
    rel: '.codex/config.toml',
    client: 'Codex',
    format: 'toml',
    shape: 'standard',
    server: ['mcp_servers', 'github'],
    left: ["server 'remote' http_headers.X-Api-Key"],
    text: `# Codex CLI settings  KEEP-top
model = "o3"
approval_policy = "on-request"   # ask first  KEEP

[mcp_servers.github]
command = "NODE_BIN"
args = ["ENV_SERVER"]
startup_timeout_sec = 20

[mcp_servers.github.env]
GITHUB_PERSONAL_ACCESS_TOKEN = "GH"

# a second server  KEEP-between
[mcp_servers.fetch]
command = "uvx"
args = [
  "mcp-server-fetch",
]

[mcp_servers.remote]
url = "https://mcp.example.com/mcp"
bearer_token_env_var = "REMOTE_TOKEN"
http_headers = { "X-Api-Key" = "sk-live-ABCDEFGHIJKLMNOPQRSTUV12" }

[profiles.fast]   # KEEP-after
model = "o4-mini"
`,
  },
  {
    rel: '.config/goose/config.yaml',
    client: 'Goose',
    format: 'yaml',
    shape: 'goose',
    server: ['extensions', 'github'],
    left: [],
    // As Goose (serde_yaml) writes it: sequences not indented under their key.
    text: `# KEEP-top goose settings
GOOSE_PROVIDER: anthropic
GOOSE_MODEL: claude-sonnet-4
extensions:
  developer:
    bundled: true
    display_name: Developer KEEP-before
    enabled: true
    name: developer
    timeout: 300
    type: builtin
  github:
    args:
    - ENV_SERVER
    bundled: null
    cmd: NODE_BIN
    description: GitHub
    enabled: true
    env_keys: []
    envs:
      GITHUB_PERSONAL_ACCESS_TOKEN: GH
    name: github
    timeout: 300
    type: stdio
  fetch:
    args:
    - mcp-server-fetch
    cmd: uvx
    enabled: true
    envs: {}
    name: fetch KEEP-between
    type: stdio
GOOSE_MODE: smart_approve  # KEEP-after
`,
  },
  {
    rel: '.continue/config.yaml',
    client: 'Continue',
    format: 'yaml',
    shape: 'standard',
    server: ['mcpServers', 0],
    left: ['models[0].apiKey'],
    text: `name: My Assistant   # KEEP-top
version: 0.0.1
schema: v1
models:
  - name: Claude
    provider: anthropic
    model: claude-sonnet-4
    apiKey: sk-ant-api03-Zq8kW2xLm5Np7Rt9Vb3Cd6Fg
mcpServers:
  - name: GitHub
    command: NODE_BIN
    args:
      - "ENV_SERVER"
    env:
      GITHUB_PERSONAL_ACCESS_TOKEN: "GH"   # my token
  # KEEP-between
  - name: Fetch
    command: uvx
    args: [mcp-server-fetch]
context:   # KEEP-after
  - provider: code
`,
  },
  {
    // Continue before config.yaml (its docs' "JSON" tab; core/index.d.ts MCPOptions, StdioOptions).
    rel: '.continue/config.json',
    client: 'Continue',
    format: 'json',
    shape: 'continue-transport',
    server: ['experimental', 'modelContextProtocolServers', 0],
    left: ['models[0].apiKey'],
    text: `{
  "models": [
    {
      "title": "Claude KEEP-top",
      "provider": "anthropic",
      "model": "claude-sonnet-4",
      "apiKey": "sk-ant-api03-Zq8kW2xLm5Np7Rt9Vb3Cd6Fg"
    }
  ],
  "experimental": {
    "modelContextProtocolServers": [
      {
        "transport": {
          "type": "stdio",
          "command": "NODE_BIN",
          "args": ["ENV_SERVER"],
          "env": { "GITHUB_PERSONAL_ACCESS_TOKEN": "GH" }
        }
      },
      {
        "transport": { "type": "stdio", "command": "uvx", "args": ["mcp-server-sqlite", "--db-path", "/tmp/KEEP-between.db"] }
      }
    ]
  },
  "allowAnonymousTelemetry": false,
  "tabAutocompleteModel": { "title": "KEEP-after", "provider": "ollama", "model": "qwen2.5-coder:1.5b" }
}
`,
  },
  {
    rel: '.config/zed/settings.json',
    client: 'Zed',
    format: 'jsonc',
    shape: 'standard',
    server: ['context_servers', 'github'],
    also: [{ server: ['context_servers', 'github-old'], shape: 'zed-command' }],
    left: [],
    text: `// Zed settings KEEP-top
//
// For information on how to configure Zed, see the Zed documentation.
{
  "theme": "One Dark", // KEEP-before
  "context_servers": {
    "github": {
      "source": "custom",
      "command": "NODE_BIN",
      "args": ["ENV_SERVER"],
      "env": {
        "GITHUB_PERSONAL_ACCESS_TOKEN": "GH", // mine
      },
    },
    // Zed's older form (before its settings migration of 2025-06-27).
    "github-old": {
      "source": "custom",
      "command": {
        "path": "NODE_BIN",
        "args": ["ENV_SERVER"],
        "env": { "GITHUB_PERSONAL_ACCESS_TOKEN": "GH" }
      },
      "settings": {}
    },
    // KEEP-between
    "fetch": {
      "command": { "path": "uvx", "args": ["mcp-server-fetch"] }
    }
  },
  "vim_mode": true, // KEEP-after
}
`,
  },
  {
    rel: '.config/opencode/opencode.jsonc',
    client: 'opencode',
    format: 'jsonc',
    shape: 'opencode',
    server: ['mcp', 'github'],
    left: ["server 'remote'"],
    text: `{
  "$schema": "https://opencode.ai/config.json",
  // KEEP-top
  "theme": "opencode",
  "mcp": {
    "github": {
      "type": "local",
      "command": ["NODE_BIN", "ENV_SERVER"],
      "environment": {
        "GITHUB_PERSONAL_ACCESS_TOKEN": "GH"
      },
      "enabled": true
    },
    /* KEEP-between */
    "remote": {
      "type": "remote",
      "url": "https://mcp.example.com/mcp",
      "headers": { "Authorization": "Bearer Zq8kW2xLm5Np7Rt9Vb3Cd6Fg" }
    }
  },
  "autoupdate": true // KEEP-after
}
`,
  },
  {
    rel: '.gemini/settings.json',
    client: 'Gemini CLI',
    format: 'json',
    shape: 'standard',
    server: ['mcpServers', 'github'],
    left: ["server 'remote'"],
    text: `{
  "theme": "GitHub",
  "KEEP-before": 1,
  "mcpServers": {
    "github": {
      "command": "NODE_BIN",
      "args": ["ENV_SERVER"],
      "env": { "GITHUB_PERSONAL_ACCESS_TOKEN": "GH" },
      "timeout": 30000,
      "trust": false
    },
    "remote": {
      "httpUrl": "https://mcp.example.com/mcp",
      "headers": { "Authorization": "Bearer Zq8kW2xLm5Np7Rt9Vb3Cd6Fg" },
      "KEEP-between": true
    }
  },
  "KEEP-after": 2
}
`,
  },
  {
    rel: `${VSCODE}/settings.json`,
    client: 'VS Code (settings.json)',
    format: 'jsonc',
    shape: 'standard',
    server: ['mcp', 'servers', 'github'],
    left: [],
    text: `{
    // KEEP-top
    "editor.fontSize": 14,
    "mcp": {
        "servers": {
            "github": {
                "type": "stdio",
                "command": "NODE_BIN",
                "args": ["ENV_SERVER"],
                "env": { "GITHUB_PERSONAL_ACCESS_TOKEN": "GH" }
            },
            "KEEP-between": { "url": "https://example.com/mcp", "type": "http" }
        }
    },
    "files.autoSave": "afterDelay" // KEEP-after
}
`,
  },
  plain(`${VSCODE}/globalStorage/saoudrizwan.claude-dev/settings/cline_mcp_settings.json`, 'Cline', ',\n      "disabled": false,\n      "autoApprove": []'),
  plain(`${VSCODE}/globalStorage/rooveterinaryinc.roo-cline/settings/mcp_settings.json`, 'Roo Code', ',\n      "alwaysAllow": []'),
  plain('.kiro/settings/mcp.json', 'Kiro', ',\n      "disabled": false', '\t'),
  plain('.aws/amazonq/mcp.json', 'Amazon Q', ''),
  plain('.lmstudio/mcp.json', 'LM Studio', '', '    '),
  plain('.warp/.mcp.json', 'Warp', ''),
  plain('.copilot/mcp-config.json', 'Copilot CLI', ',\n      "tools": ["*"]'),
];
