/**
 * `migrate --env-file` on a `.env` inside a repository (a folder with `.git`, as a clone has): its
 * values are untrusted like the project's `.mcp.json`. They never set the global service's URL or
 * token (a cloned repository's HA_URL must not receive the user's token); they go to an instance
 * named after the repository, and the plan says so. `--trust-project` lets them set the service;
 * HOME's own `.git` (a dotfiles repository) does not make `~/.env` untrusted.
 */
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, githubClassic, jwt, passphraseEnv, runCli, tempHome } from '../helpers/cli.js';

beforeAll(() => ensureBuilt());

const ATTACKER_URL = 'http://ha.attacker.example:8123';

function clone(home: string, name: string, gitAs: 'dir' | 'file' = 'dir'): string {
  const repo = join(home, 'src', name);
  mkdirSync(join(repo, 'sub'), { recursive: true });
  if (gitAs === 'dir') mkdirSync(join(repo, '.git'));
  else writeFileSync(join(repo, '.git'), 'gitdir: /elsewhere/.git/worktrees/x\n'); // a worktree's .git file
  return repo;
}

/** service/key → value as `list --json` shows it (non-secret fields whole). */
async function listed(home: string, env: Record<string, string>): Promise<Record<string, string>> {
  const r = await runCli(['list', '--json'], { home, env });
  expect(r.code, r.stderr).toBe(0);
  const { entries } = JSON.parse(r.stdout) as { entries: { service: string; key: string; value: string }[] };
  return Object.fromEntries(entries.map((e) => [`${e.service}/${e.key}`, e.value]));
}

async function loadJson(home: string, env: Record<string, string>, service: string): Promise<{ code: number | null; values: Record<string, string> }> {
  const r = await runCli(['load', service, '--format', 'json'], { home, env });
  return { code: r.code, values: r.code === 0 ? (JSON.parse(r.stdout) as Record<string, string>) : {} };
}

describe('migrate --env-file: a .env in a repository is untrusted', () => {
  it('its values go to instances named after the repository, never to the services themselves', async () => {
    const home = tempHome();
    const env = passphraseEnv(home);
    const ha = jwt();
    const gh = githubClassic();
    // The user's own Home Assistant, already stored.
    expect((await runCli(['store', 'hass', 'url', 'http://127.0.0.1:8123'], { home, env })).code).toBe(0);
    const repo = clone(home, 'cloned');
    // In a subfolder of the clone: the repository is found upwards.
    const dotenv = join(repo, 'sub', '.env');
    writeFileSync(dotenv, `HA_URL=${ATTACKER_URL}\nHA_TOKEN=${ha}\nGITHUB_PERSONAL_ACCESS_TOKEN=${gh}\nLOG_LEVEL=debug\n`, { mode: 0o600 });

    const dry = await runCli(['migrate', '--dry-run', '--no-client-configs', '--env-file', dotenv], { home, env });
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stderr).toMatch(/from the project .*cloned: a project file never sets or replaces the hass service; stored as the instance hass@cloned/);
    // No github token is stored: a repository's token still does not become the user's github.
    expect(dry.stderr).toMatch(/stored as the instance github@cloned/);
    expect(dry.stderr + dry.stdout).not.toContain(ha);
    expect(dry.stderr + dry.stdout).not.toContain(gh);

    const r = await runCli(['migrate', '--no-client-configs', '--env-file', dotenv], { home, env });
    expect(r.code, r.stderr).toBe(0);
    const rows = await listed(home, env);
    expect(rows['hass/url']).toBe('http://127.0.0.1:8123');
    expect(rows['hass/token']).toBeUndefined(); // the repository's token never became the user's
    expect(rows['hass@cloned/url']).toBe(ATTACKER_URL);
    expect(await loadJson(home, env, 'hass@cloned')).toEqual({ code: 0, values: { HA_URL: ATTACKER_URL, HA_TOKEN: ha } });
    expect(await loadJson(home, env, 'github@cloned')).toEqual({ code: 0, values: { GITHUB_PERSONAL_ACCESS_TOKEN: gh } });
    expect((await runCli(['load', 'github'], { home, env })).code).toBe(3);
    const left = readFileSync(dotenv, 'utf8');
    expect(left).not.toContain(ha);
    expect(left).not.toContain(gh);
    expect(left).toContain('LOG_LEVEL=debug');
  }, 120_000);

  it('a link to a .env inside a repository is as untrusted as the file it leads to', async () => {
    const home = tempHome();
    const env = passphraseEnv(home);
    const ha = jwt();
    const repo = clone(home, 'linked');
    writeFileSync(join(repo, '.env'), `HA_URL=${ATTACKER_URL}\nHA_TOKEN=${ha}\n`, { mode: 0o600 });
    symlinkSync(join(repo, '.env'), join(home, 'ha.env'));
    const r = await runCli(['migrate', '--no-client-configs', '--env-file', join(home, 'ha.env')], { home, env });
    expect(r.code, r.stderr).toBe(0);
    const rows = await listed(home, env);
    expect(rows['hass/url']).toBeUndefined();
    expect(rows['hass@linked/url']).toBe(ATTACKER_URL);
  }, 120_000);

  it("a repository's URL alone is not used at all: the service keeps its own", async () => {
    const home = tempHome();
    const env = passphraseEnv(home);
    expect((await runCli(['store', 'hass', 'url', 'http://127.0.0.1:8123'], { home, env })).code).toBe(0);
    const repo = clone(home, 'other', 'file');
    const dotenv = join(repo, '.env');
    writeFileSync(dotenv, `HA_URL=${ATTACKER_URL}\n`, { mode: 0o600 });
    const r = await runCli(['migrate', '--no-client-configs', '--env-file', dotenv, '--overwrite'], { home, env });
    expect(r.stderr).toMatch(/a project file never sets or replaces the hass url/);
    expect(await listed(home, env)).toEqual({ 'hass/url': 'http://127.0.0.1:8123' });
    expect(readFileSync(dotenv, 'utf8')).toBe(`HA_URL=${ATTACKER_URL}\n`);
  }, 120_000);

  it('--trust-project lets it set the services; a .env outside any repository and ~/.env of a dotfiles HOME are the user own', async () => {
    for (const where of ['trusted', 'plain', 'dotfiles'] as const) {
      const home = tempHome();
      const env = passphraseEnv(home);
      const ha = jwt();
      let dotenv: string;
      if (where === 'trusted') dotenv = join(clone(home, 'cloned'), '.env');
      else if (where === 'plain') {
        mkdirSync(join(home, 'work'));
        dotenv = join(home, 'work', '.env');
      } else {
        mkdirSync(join(home, '.git'));
        dotenv = join(home, '.env');
      }
      writeFileSync(dotenv, `HA_URL=http://192.0.2.7:8123\nHA_TOKEN=${ha}\n`, { mode: 0o600 });
      const args = ['migrate', '--no-client-configs', '--env-file', dotenv, ...(where === 'trusted' ? ['--trust-project'] : [])];
      const r = await runCli(args, { home, env });
      expect(r.code, `${where}: ${r.stderr}`).toBe(0);
      expect(r.stderr, where).not.toMatch(/instance hass@/);
      expect(await loadJson(home, env, 'hass'), where).toEqual({ code: 0, values: { HA_URL: 'http://192.0.2.7:8123', HA_TOKEN: ha } });
    }
  }, 180_000);
});
