/**
 * Instances (`github@work`) through every command that takes a service, and `--env
 * NAME=service[@instance].key` on load and run, with the built CLI on a file vault and on a
 * keychain vault (private Secret Service). Tests in a describe block build on each other's state.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, githubClassic, jwt, passphraseEnv, runCli, tempHome, vaultDir, type CliOptions } from '../helpers/cli.js';
import { keychainCli, keychainServiceOf, requireKeyringOrSkip } from './keychain-harness.js';
import { seedVault, snapshot } from './support.js';

beforeAll(() => ensureBuilt());

const markerScript = (path: string) => `require('fs').writeFileSync(${JSON.stringify(path)},'x')`;

interface Listed {
  service: string;
  type: string;
  instance: string | null;
  key: string;
  value: string;
}

describe('instances on a file vault', () => {
  const home = tempHome('mcpt-inst-');
  const dir = vaultDir(home);
  const env = passphraseEnv(home);
  const personal = githubClassic();
  const work = githubClassic();
  const cli = (args: string[], opts: CliOptions = {}) => runCli(args, { home, ...opts, env: { ...env, ...opts.env } });

  beforeAll(async () => {
    await seedVault(home, [['github', 'token', personal]]);
  });

  it('store github@work writes its own 0600 entry, github@work_token, beside github_token', async () => {
    const r = await cli(['store', 'github@work', 'token', '-'], { input: work });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('Stored github@work token.');
    expect(r.stderr).not.toContain('not a built-in service'); // an instance of github is github
    expect(readdirSync(dir).filter((n) => n.includes('_')).sort()).toEqual(['github@work_token', 'github_token']);
    expect(statSync(join(dir, 'github@work_token')).mode & 0o777).toBe(0o600);
  });

  it("an instance has its type's validation: a malformed token is refused and nothing is written", async () => {
    const before = snapshot(dir);
    const r = await cli(['store', 'github@work', 'token', '-'], { input: 'not-a-token' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Invalid GitHub token format');
    expect(snapshot(dir)).toEqual(before);
  });

  it.each([['github@'], ['github@Work'], ['@work'], ['github@work@home'], ['github@wo_rk'], ['Github@work']])(
    'a malformed service reference %s is refused (exit 2) before anything is touched',
    async (ref) => {
      const before = snapshot(dir);
      const r = await cli(['store', ref, 'token', '-'], { input: work });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/Invalid (service|instance) name/);
      expect(snapshot(dir)).toEqual(before);
    },
  );

  it('list shows github@work rows with type and instance, masked', async () => {
    const r = await cli(['list', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const rows = (JSON.parse(r.stdout) as { entries: Listed[] }).entries.map((e) => [e.service, e.type, e.instance, e.key, e.value]);
    expect(rows).toEqual([
      ['github', 'github', null, 'token', `${personal.slice(0, 4)}…${personal.slice(-4)}`],
      ['github@work', 'github', 'work', 'token', `${work.slice(0, 4)}…${work.slice(-4)}`],
    ]);
    const table = await cli(['list']);
    expect(table.stdout).toMatch(/^github@work\s+token/m);
    expect(table.stdout).not.toContain(work);
  });

  it("load github@work exports the type's variable with the work token; load github the other one", async () => {
    const w = await cli(['load', 'github@work', '--format', 'json']);
    expect(w.code, w.stderr).toBe(0);
    expect(JSON.parse(w.stdout)).toEqual({ GITHUB_PERSONAL_ACCESS_TOKEN: work });
    const p = await cli(['load', 'github', '--format', 'json']);
    expect(JSON.parse(p.stdout)).toEqual({ GITHUB_PERSONAL_ACCESS_TOKEN: personal });
  });

  it("load all (the setup block) gives the variable to github and leaves github@work out with a note; named, both exit 2 with a real --env hint", async () => {
    const r = await cli(['load', '--format', 'json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ GITHUB_PERSONAL_ACCESS_TOKEN: personal });
    expect(r.stderr).toContain('github@work not loaded: github sets GITHUB_PERSONAL_ACCESS_TOKEN too');
    expect(r.stderr).not.toContain(work);
    const named = await cli(['run', 'github', 'github@work', '--', 'true']);
    expect(named.code).toBe(2);
    expect(named.stdout).toBe('');
    expect(named.stderr).toContain('github and github@work both set GITHUB_PERSONAL_ACCESS_TOKEN');
    expect(named.stderr).toContain('--env GITHUB_PERSONAL_ACCESS_TOKEN=github.token (or github@work.token)');
    expect(named.stderr).not.toContain('<key>');
  });

  it('--env decides the contested variable, and adds another name', async () => {
    const r = await cli(['load', 'all', '--format', 'json', '--env', 'GITHUB_PERSONAL_ACCESS_TOKEN=github@work.token', '--env', 'GITHUB_TOKEN=github.token']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ GITHUB_PERSONAL_ACCESS_TOKEN: work, GITHUB_TOKEN: personal });
  });

  it('load --env without a service exports only the mapping', async () => {
    const r = await cli(['load', '--format', 'json', '--env', 'GITHUB_TOKEN=github@work.token']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ GITHUB_TOKEN: work });
  });

  it('run github github@work is refused (exit 2) before the child starts; with --env it runs', async () => {
    const marker = join(home, 'started');
    const r = await cli(['run', 'github', 'github@work', '--', process.execPath, '-e', markerScript(marker)]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('github and github@work both set GITHUB_PERSONAL_ACCESS_TOKEN');
    expect(existsSync(marker)).toBe(false);
    const script = `process.stderr.write(JSON.stringify([process.env.GITHUB_PERSONAL_ACCESS_TOKEN===${JSON.stringify(work)}]))`;
    const ok = await cli(['run', 'github', 'github@work', '--env', 'GITHUB_PERSONAL_ACCESS_TOKEN=github@work.token', '--', process.execPath, '-e', script]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toBe('');
    expect(ok.stderr).toBe('[true]');
  });

  it.each([
    ['X=github', 2, 'is not a reference to a stored field'],
    ['=github.token', 2, 'is not a reference to a stored field'],
    ['X=github.', 2, 'is not a reference to a stored field'],
    ['lower=github.token', 2, 'Refusing the variable name "lower"'],
    ['X=github.url', 2, "Unknown key 'url' for GitHub"],
    ['X=github@work.url', 2, "Unknown key 'url' for GitHub (work)"],
    ['X=nosuch.token', 2, 'unknown service nosuch'],
    ['X=github@WORK.token', 2, 'Invalid instance name'],
    ['X=hass@cabin.token', 3, 'Please run: mcp-tokens store hass@cabin token'],
    ['X=github@home.token', 3, 'Please run: mcp-tokens store github@home token <your_token>'],
  ] as const)('run --env %s → exit %i before the child starts', async (mapping, code, message) => {
    const marker = join(home, `started-${code}`);
    const before = snapshot(dir);
    const r = await cli(['run', '--env', mapping, '--', process.execPath, '-e', markerScript(marker)]);
    expect(r.code, r.stderr).toBe(code);
    expect(r.stderr).toContain(message);
    expect(r.stdout).toBe('');
    expect(existsSync(marker)).toBe(false);
    expect(snapshot(dir)).toEqual(before);
  });

  it('the same variable given twice by --env is refused', async () => {
    const r = await cli(['load', '--env', 'T=github.token', '--env', 'T=github@work.token']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--env sets T twice');
    expect(r.stdout).toBe('');
  });

  it('verify github@work checks the instance (offline), named as such', async () => {
    const r = await cli(['verify', 'github@work', '--offline', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as { services: { service: string; title: string }[] };
    expect(report.services.map((s) => [s.service, s.title])).toEqual([['github@work', 'GitHub (work)']]);
  });

  it('backups and restore of an instance touch only that instance', async () => {
    const newer = githubClassic();
    expect((await cli(['store', 'github@work', 'token', '-'], { input: newer })).code).toBe(0);
    const b = await cli(['backups', 'github@work', '--json']);
    expect(b.code, b.stderr).toBe(0);
    const list = JSON.parse(b.stdout) as { service: string; file: string }[];
    expect(list.map((x) => x.service)).toEqual(['github@work']);
    expect(list[0]!.file).toMatch(/^github@work_token\.\d{8}T\d{9}Z\.backup$/);
    expect(JSON.parse((await cli(['backups', 'github', '--json'])).stdout)).toEqual([]);
    const r = await cli(['restore', 'github@work', 'token']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse((await cli(['load', 'github@work', '--format', 'json'])).stdout)).toEqual({ GITHUB_PERSONAL_ACCESS_TOKEN: work });
    expect(JSON.parse((await cli(['load', 'github', '--format', 'json'])).stdout)).toEqual({ GITHUB_PERSONAL_ACCESS_TOKEN: personal });
  });

  it('rekey carries instance entries and their backups', async () => {
    const r = await cli(['rekey']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse((await cli(['load', 'github@work', '--format', 'json'])).stdout)).toEqual({ GITHUB_PERSONAL_ACCESS_TOKEN: work });
    const b = JSON.parse((await cli(['backups', 'github@work', '--json'])).stdout) as unknown[];
    expect(b.length).toBe(2);
  });

  it('delete github leaves github@work alone, and delete github@work removes only it', async () => {
    const d = await cli(['delete', 'github']);
    expect(d.code, d.stderr).toBe(0);
    expect(existsSync(join(dir, 'github_token'))).toBe(false);
    expect(existsSync(join(dir, 'github@work_token'))).toBe(true);
    const d2 = await cli(['delete', 'github@work']);
    expect(d2.code, d2.stderr).toBe(0);
    expect(existsSync(join(dir, 'github@work_token'))).toBe(false);
    const again = await cli(['delete', 'github@work']);
    expect(again.code).toBe(3);
  });
});

const RUN_KC = requireKeyringOrSkip();

describe.skipIf(!RUN_KC)('instances on a keychain vault (private D-Bus session)', () => {
  const kc = keychainCli();
  const personal = githubClassic();
  const work = githubClassic();
  const cabin = jwt();

  it('store github@work is the keychain account github@work/token, readable by secret-tool', async () => {
    expect((await kc.run(['store', 'github', 'token', '-'], { input: personal })).code).toBe(0);
    const r = await kc.run(['store', 'github@work', 'token', '-'], { input: work });
    expect(r.code, r.stderr).toBe(0);
    expect(await kc.lookup('github@work/token')).toBe(work);
    expect(await kc.lookup('github/token')).toBe(personal);
  });

  it('an instance item written by another client (secret-tool) is listed and loaded', async () => {
    await kc.session().exec('secret-tool', ['store', '--label=x', 'service', keychainServiceOf(kc.dir), 'username', 'hass@cabin/token'], cabin);
    await kc.session().exec('secret-tool', ['store', '--label=x', 'service', keychainServiceOf(kc.dir), 'username', 'hass@cabin/url'], 'http://127.0.0.1:8123');
    const list = JSON.parse((await kc.run(['list', '--json'])).stdout) as { entries: Listed[] };
    expect(list.entries.map((e) => `${e.service} ${e.key}`).sort()).toEqual(['github token', 'github@work token', 'hass@cabin token', 'hass@cabin url']);
    const r = await kc.run(['load', 'hass@cabin', '--format', 'json', '--env', 'API_ACCESS_TOKEN=hass@cabin.token']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ HA_URL: 'http://127.0.0.1:8123', HA_TOKEN: cabin, API_ACCESS_TOKEN: cabin });
  });

  it('load all gives the variable to github, not github@work; --env decides', async () => {
    const r = await kc.run(['load', 'all', '--format', 'json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ GITHUB_PERSONAL_ACCESS_TOKEN: personal, HA_TOKEN: cabin });
    expect(r.stderr).toContain('github@work not loaded');
    const ok = await kc.run(['load', 'all', '--format', 'json', '--env', 'GITHUB_PERSONAL_ACCESS_TOKEN=github@work.token']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ GITHUB_PERSONAL_ACCESS_TOKEN: work, HA_TOKEN: cabin });
  });

  it('store over an instance backs it up under its own name; restore brings it back', async () => {
    expect((await kc.run(['store', 'github@work', 'token', '-'], { input: githubClassic() })).code).toBe(0);
    const b = JSON.parse((await kc.run(['backups', 'github@work', '--json'])).stdout) as { file: string }[];
    expect(b.map((x) => x.file.split('.')[0])).toEqual(['github@work_token']);
    expect((await kc.run(['restore', 'github@work', 'token'])).code).toBe(0);
    expect(await kc.lookup('github@work/token')).toBe(work);
  });

  it('backend file moves instance entries to files, and back to the keychain', async () => {
    const env = passphraseEnv(kc.home);
    const toFile = await kc.run(['backend', 'file'], { env });
    expect(toFile.code, toFile.stderr).toBe(0);
    expect(existsSync(join(kc.dir, 'github@work_token'))).toBe(true);
    expect(existsSync(join(kc.dir, 'hass@cabin_url'))).toBe(true);
    expect(await kc.lookup('github@work/token')).toBeUndefined();
    const w = await kc.run(['load', 'github@work', '--format', 'json'], { env });
    expect(JSON.parse(w.stdout)).toEqual({ GITHUB_PERSONAL_ACCESS_TOKEN: work });
    const back = await kc.run(['backend', 'keychain'], { env });
    expect(back.code, back.stderr).toBe(0);
    expect(await kc.lookup('github@work/token')).toBe(work);
    expect(await kc.lookup('hass@cabin/token')).toBe(cabin);
    expect(existsSync(join(kc.dir, 'github@work_token'))).toBe(false);
  });

  it('delete github@work removes only that keychain item', async () => {
    const r = await kc.run(['delete', 'github@work']);
    expect(r.code, r.stderr).toBe(0);
    expect(await kc.lookup('github@work/token')).toBeUndefined();
    expect(await kc.lookup('github/token')).toBe(personal);
  });
});
