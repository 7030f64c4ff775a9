/** A temp HOME filled from fixtures/home, with the canaries substituted for the placeholders. */
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PlanOptions } from '../../src/migrate/plan.js';
import { it } from 'vitest';
import { requireTools } from '../helpers/tools.js';
import { CANARIES } from './tokens.js';

/**
 * The home's rc files include .zshrc and config.fish. With shellRc, migrate edits one only when its
 * own shell says the result still parses (`zsh -n`, `fish -n`), so a test that migrates them and
 * checks the end state needs both shells: itRc skips it, with one SKIPPED line each, without them.
 */
const ZSH = requireTools('zsh', ['zsh'], 'migrate tests that edit .zshrc');
const FISH = requireTools('fish', ['fish'], 'migrate tests that edit config.fish');
export const RC_SHELLS = ZSH && FISH;
export function itRc(name: string, fn: () => Promise<void>, timeout?: number): void {
  it.skipIf(!RC_SHELLS)(name, fn, timeout);
}

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');

export function fill(text: string): string {
  return text.replace(/\{\{([A-Z_]+)\}\}/g, (_, k: string) => CANARIES[k as keyof typeof CANARIES]);
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fs.readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(p)));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

export interface TestHome {
  root: string;
  home: string;
  cwd: string;
  legacyDir: string;
  /** Paths (relative to home) of every fixture file. */
  files: string[];
  options: (extra?: Partial<PlanOptions>) => PlanOptions;
  read: (rel: string) => Promise<string>;
  expected: (rel: string) => Promise<string>;
  /** Every regular file under home, with its content. */
  all: () => Promise<Map<string, string>>;
}

export async function makeHome(): Promise<TestHome> {
  const root = await fs.mkdtemp(join(tmpdir(), 'mcp-tokens-migrate-'));
  const home = join(root, 'home');
  const src = join(FIXTURES, 'home');
  const files = (await walk(src)).map((p) => relative(src, p));
  for (const rel of files) {
    const to = join(home, rel);
    await fs.mkdir(dirname(to), { recursive: true });
    const legacy = rel.startsWith('.mcp_tokens');
    await fs.writeFile(to, fill(await fs.readFile(join(src, rel), 'utf8')), { mode: legacy ? 0o600 : 0o644 });
    await fs.chmod(to, legacy ? 0o600 : rel.endsWith('.env') ? 0o640 : 0o644);
  }
  await fs.chmod(join(home, '.mcp_tokens'), 0o700);
  // A symlink where the old script kept a file: never followed.
  await fs.writeFile(join(root, 'elsewhere'), 'pve.lab.example\n');
  await fs.symlink(join(root, 'elsewhere'), join(home, '.mcp_tokens', 'proxmox_host'));
  const cwd = join(home, 'project');
  return {
    root,
    home,
    cwd,
    legacyDir: join(home, '.mcp_tokens'),
    files,
    options: (extra = {}) => ({
      home,
      cwd,
      platform: 'linux',
      env: { HA_URL: 'http://homeassistant.local:8123', PATH: '/usr/bin', HOME: home },
      envFiles: [join(cwd, '.env')],
      legacyDir: join(home, '.mcp_tokens'),
      ...extra,
    }),
    read: (rel) => fs.readFile(join(home, rel), 'utf8'),
    expected: async (rel) => fill(await fs.readFile(join(FIXTURES, 'expected', rel), 'utf8')),
    all: async () => {
      const m = new Map<string, string>();
      for (const p of await walk(home)) m.set(relative(home, p), await fs.readFile(p, 'utf8'));
      return m;
    },
  };
}

export const EXPECTED_VAULT: Record<string, string> = {
  'github/token': CANARIES.GITHUB,
  'hass/token': CANARIES.HASS,
  'hass/url': 'http://homeassistant.local:8123',
  'proxmox/token': CANARIES.PROXMOX,
  'proxmox/host': 'pve.lab.example:8006',
  'proxmox/user': 'root@pam',
  'wikijs/token': CANARIES.WIKIJS,
  'wikijs/url': 'https://wiki.example.com',
};

/** Config files the clean run rewrites or keeps, relative to home (compared with expected/). */
export const CONFIGS = [
  '.config/Claude/claude_desktop_config.json',
  '.claude.json',
  'project/.mcp.json',
  'project/.vscode/mcp.json',
  '.cursor/mcp.json',
  'project/.cursor/mcp.json',
  '.codeium/windsurf/mcp_config.json',
  'project/.env',
];
