/**
 * `verify` overlapping writers, through the built CLI (issue 10). verify reads the vault, checks
 * each token over the network, then writes its verdicts into metadata.json under the lock. The
 * window is the network check: here a server on 127.0.0.1 holds GitHub's answer until the test
 * has run a writer to completion, so the overlap is exact (no sleeps). Whatever ran meanwhile,
 * verify records its verdicts without a "could not record" warning, keeps what the others wrote,
 * keeps no verdict about a value that was replaced while it checked the old one, and leaves a
 * vault that lists, loads and passes doctor.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { canary, collect, ensureBuilt, githubClassic, passphraseEnv, runCli, spawnCli, tempHome, type CliOptions } from '../helpers/cli.js';
import { expectIntact } from './race-support.js';
import { expectNoDroppedKey } from './writers-support.js';

beforeAll(() => ensureBuilt());

/** A GitHub API on loopback that answers /user only when released; `asked` resolves at the first request. */
function heldGithub(token: string): Promise<{ server: Server; base: string; asked: Promise<void>; release: () => void }> {
  let arrived!: () => void;
  const asked = new Promise<void>((r) => (arrived = r));
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  const server = createServer((req, res) => {
    arrived();
    void gate.then(() => {
      const ok = req.url === '/user' && req.headers.authorization === `Bearer ${token}`;
      res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json', 'x-oauth-scopes': 'repo' });
      res.end(JSON.stringify(ok ? { login: 'octocat' } : { message: 'Bad credentials' }));
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, asked, release: open })));
}

describe('verify while another command writes (issue 10)', { timeout: 120_000 }, () => {
  const servers: Server[] = [];
  afterEach(() => {
    for (const s of servers.splice(0)) s.close();
  });

  const fresh = async () => {
    const home = tempHome('mcpt-race-verify-');
    const dir = join(home, 'vault');
    const env = { MCP_TOKENS_DIR: dir, ...passphraseEnv(home) };
    const opts = (extra: CliOptions = {}): CliOptions => ({ home, timeoutMs: 60_000, ...extra, env: { ...env, ...extra.env } });
    const cli = (args: readonly string[], extra: CliOptions = {}) => runCli(args, opts(extra));
    const token = githubClassic();
    const gh = await heldGithub(token);
    servers.push(gh.server);
    expect((await cli(['init', '--kdf', 'interactive'])).code).toBe(0);
    const values = new Map([['k1', canary()]]);
    for (const [service, key, value] of [
      ['github', 'token', token],
      ['github', 'api', gh.base],
      ['k1', 'secret', values.get('k1')!],
    ] as const) {
      const r = await cli(['store', service, key, '-'], { input: value });
      expect(r.code, r.stderr).toBe(0);
    }
    /** verify github, started now; resolves once its request is at the server, which answers on release. */
    const verifying = async () => {
      const done = collect(spawnCli(['verify', 'github', '--json', '--timeout', '60'], opts()), { timeoutMs: 90_000 });
      await Promise.race([gh.asked, done.then((r) => Promise.reject(new Error(`verify ended before asking the server: exit ${r.code}\n${r.stderr}`)))]);
      return {
        finish: async () => {
          gh.release();
          return done;
        },
      };
    };
    const meta = () => JSON.parse(readFileSync(join(dir, 'metadata.json'), 'utf8')) as { entries: Record<string, { verifyStatus?: string; verifiedAt?: string }> };
    return { dir, cli, token, values, verifying, meta };
  };

  it('a rekey and a store while verify checks: the verdict is recorded, nothing the others wrote is lost', async () => {
    const v = await fresh();
    const vf = await v.verifying();
    const rk = await v.cli(['rekey']);
    expect(rk.code, rk.stderr).toBe(0);
    v.values.set('k2', canary());
    const st = await v.cli(['store', 'k2', 'secret', '-'], { input: v.values.get('k2')! });
    expect(st.code, st.stderr).toBe(0);
    const r = await vf.finish();
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/could not record/);
    expect((JSON.parse(r.stdout) as { ok: boolean }).ok).toBe(true);
    const m = v.meta();
    expect(m.entries['github_token']?.verifyStatus, 'the verdict survives the rekey').toBe('ok');
    expect(m.entries['k2_secret'], 'the store made meanwhile keeps its record').toBeDefined();
    await expectIntact(v.cli, v.values);
    expect(expectNoDroppedKey(v.dir)).toBeGreaterThan(0);
    expect(r.stdout + r.stderr).not.toContain(v.token);
  });

  it('the token replaced while verify checks the old one: no verdict is kept for the new value', async () => {
    const v = await fresh();
    const vf = await v.verifying();
    const replacement = githubClassic();
    const st = await v.cli(['store', 'github', 'token', '-'], { input: replacement });
    expect(st.code, st.stderr).toBe(0);
    const r = await vf.finish();
    expect(r.code, r.stderr).toBe(0); // the old token was good when checked
    expect(r.stderr).not.toMatch(/could not record/);
    expect(v.meta().entries['github_token']?.verifyStatus, 'a verdict about the old value is not the new one').toBeUndefined();
    const list = await v.cli(['list', '--json']);
    expect(list.code, list.stderr).toBe(0);
    const row = (JSON.parse(list.stdout) as { entries: { service: string; key: string; verifyStatus: string | null }[] }).entries.find((e) => e.service === 'github' && e.key === 'token');
    expect(row?.verifyStatus).toBeNull();
    const load = await v.cli(['load', 'github', '--format', 'json']);
    expect(load.code, load.stderr).toBe(0);
    expect(JSON.parse(load.stdout)).toMatchObject({ GITHUB_PERSONAL_ACCESS_TOKEN: replacement });
    await expectIntact(v.cli, v.values);
  });

  it('a passwd while verify checks: the verdict is recorded and the new passphrase opens the vault', async () => {
    const v = await fresh();
    const vf = await v.verifying();
    const home = tempHome('mcpt-race-verify-pw-');
    const next = passphraseEnv(home, 'a different passphrase for the race');
    const pw = await v.cli(['passwd'], { env: { MCP_TOKENS_NEW_PASSPHRASE_FILE: next['MCP_TOKENS_PASSPHRASE_FILE'] } });
    expect(pw.code, pw.stderr).toBe(0);
    const r = await vf.finish();
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/could not record/);
    expect(v.meta().entries['github_token']?.verifyStatus).toBe('ok');
    const withNew = (args: readonly string[]) => v.cli(args, { env: next });
    await expectIntact(withNew, v.values);
    expect((await v.cli(['load', 'k1'])).code, 'the old passphrase no longer opens it').toBe(4);
  });
});
