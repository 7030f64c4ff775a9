/**
 * verify through the built CLI against servers started on 127.0.0.1: the GitHub and Home
 * Assistant checks, --json on stdout and the table on stderr, exit 1 on a rejected token, the
 * result recorded in metadata and shown by list, and the token never printed.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, githubClassic, jwt, passphraseEnv, runCli, tempHome } from '../helpers/cli.js';
import { seedVault } from './support.js';

interface Seen {
  url: string;
  headers: IncomingHttpHeaders;
}

function serve(handler: (url: string, auth: string | undefined) => { status: number; headers?: Record<string, string>; body: string }): Promise<{ server: Server; base: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    seen.push({ url: req.url ?? '', headers: req.headers });
    const r = handler(req.url ?? '', req.headers.authorization);
    res.writeHead(r.status, { 'content-type': 'application/json', ...r.headers });
    res.end(r.body);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen })));
}

beforeAll(() => ensureBuilt());

describe('verify', () => {
  const home = tempHome();
  const passEnv = passphraseEnv(home);
  const good = githubClassic();
  const revoked = githubClassic();
  const haToken = jwt({ iss: 'x', exp: Math.floor(Date.now() / 1000) + 30 * 86_400 });
  let gh: Awaited<ReturnType<typeof serve>>;
  let ha: Awaited<ReturnType<typeof serve>>;
  let currentGithub = good;

  beforeAll(async () => {
    gh = await serve((url, auth) =>
      url === '/user' && auth === `Bearer ${good}`
        ? { status: 200, headers: { 'x-oauth-scopes': 'repo, read:org', 'x-ratelimit-remaining': '4999' }, body: JSON.stringify({ login: 'octocat' }) }
        : { status: 401, body: JSON.stringify({ message: `Bad credentials for ${auth ?? ''}` }) },
    );
    ha = await serve((url, auth) =>
      url === '/api/' && auth === `Bearer ${haToken}` ? { status: 200, body: JSON.stringify({ message: 'API running.' }) } : { status: 401, body: '401: Unauthorized' },
    );
    for (const [svc, key, value] of [
      ['github', 'token', good],
      ['github', 'api', gh.base],
      ['hass', 'token', haToken],
      ['hass', 'url', ha.base],
    ] as const) {
      const r = await runCli(['store', svc, key, '-'], { home, env: passEnv, input: value });
      expect(r.code, r.stderr).toBe(0);
    }
  });
  afterAll(() => {
    gh.server.close();
    ha.server.close();
  });

  it('passes for valid tokens: --json on stdout, facts reported, headers exact', async () => {
    const r = await runCli(['verify', '--json'], { home, env: passEnv });
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as { ok: boolean; services: Array<{ service: string; ok: boolean; status: string; live: { details?: Record<string, unknown> }; expiresInDays: number | null }> };
    expect(report.ok).toBe(true);
    const github = report.services.find((s) => s.service === 'github')!;
    expect(github.status).toBe('ok');
    expect(JSON.stringify(github.live.details)).toContain('octocat');
    expect(JSON.stringify(github.live.details)).toContain('read:org');
    const hass = report.services.find((s) => s.service === 'hass')!;
    expect(hass.ok).toBe(true);
    expect(hass.expiresInDays).toBeGreaterThanOrEqual(29);
    expect(gh.seen.at(-1)!.headers.authorization).toBe(`Bearer ${good}`);
    expect(ha.seen.at(-1)!.headers.authorization).toBe(`Bearer ${haToken}`);
    expect(r.stdout + r.stderr).not.toContain(good);
    expect(r.stdout + r.stderr).not.toContain(haToken);
  });

  it('records the result: list shows when it was verified', async () => {
    const r = await runCli(['list', '--json'], { home, env: passEnv });
    const rows = (JSON.parse(r.stdout) as { entries: Array<{ service: string; key: string; verifiedAt: string | null; verifyStatus: string | null }> }).entries;
    const tokenRow = rows.find((e) => e.service === 'github' && e.key === 'token')!;
    expect(tokenRow.verifyStatus).toBe('ok');
    expect(Date.now() - Date.parse(tokenRow.verifiedAt!)).toBeLessThan(120_000);
  });

  it('a rejected token fails with exit 1, a table on stderr, nothing on stdout, and no token echoed', async () => {
    currentGithub = revoked;
    const s = await runCli(['store', 'github', 'token', '-'], { home, env: passEnv, input: currentGithub });
    expect(s.code).toBe(0);
    const r = await runCli(['verify', 'github'], { home, env: passEnv });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('rejected');
    // The server echoed the token in its error body; it must not reach the output.
    expect(r.stderr).not.toContain(revoked);
  });

  it('--offline contacts nothing', async () => {
    const before = gh.seen.length + ha.seen.length;
    const r = await runCli(['verify', '--offline'], { home, env: passEnv });
    expect(r.code, r.stderr).toBe(0);
    expect(gh.seen.length + ha.seen.length).toBe(before);
  });

  it('an unknown service name is a usage error; a missing vault is exit 3', async () => {
    expect((await runCli(['verify', 'Bad_Name'], { home, env: passEnv })).code).toBe(2);
    expect((await runCli(['verify'], { home: tempHome() })).code).toBe(3);
  });
});

describe('verify against a hostile server that echoes the token in disguise', () => {
  const home = tempHome();
  const passEnv = passphraseEnv(home);
  const token = githubClassic();
  const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\s]/gu;
  const split = (sep: string, every: number) => token.match(new RegExp(`.{1,${every}}`, 'g'))!.join(sep);
  // Each answer quotes the token it was sent in the login, the one field verify prints.
  const disguises: Record<string, string> = {
    control: split('\u0001', 3),
    newline: split('\n', 7),
    'zero-width': split('\u200b', 2),
    mixed: split('\u2060\u0007\u00ad', 5),
    piece: `me:${token.slice(9, 9 + 13)}:`, // 13 consecutive characters, not the whole token
  };
  let disguise = 'control';
  let hostile: Awaited<ReturnType<typeof serve>>;

  beforeAll(async () => {
    hostile = await serve((_url, auth) => ({
      status: 200,
      headers: { 'x-oauth-scopes': `repo, ${token.slice(-14)}` },
      body: JSON.stringify({ login: auth === `Bearer ${token}` ? disguises[disguise] : 'nobody' }),
    }));
    await seedVault(home, [['github', 'token', token], ['github', 'api', hostile.base]]); // interactive KDF: fast
  });
  afterAll(() => hostile.server.close());

  it.each(Object.keys(disguises))('%s: neither the token nor a 12-character piece of it is printed', async (name) => {
    disguise = name;
    for (const args of name === 'mixed' ? [['verify', 'github'], ['verify', 'github', '--json']] : [['verify', 'github']]) {
      const r = await runCli(args, { home, env: passEnv });
      expect(r.code, r.stderr).toBe(0);
      expect(hostile.seen.at(-1)!.headers.authorization).toBe(`Bearer ${token}`); // it was sent the token
      const out = (r.stdout + r.stderr).replace(INVISIBLE, '');
      expect(out).toContain(`authenticatedas${name === 'piece' ? 'me:' : ''}[redacted]`); // the echo reached verify and was caught
      expect(out).not.toContain(token);
      for (let i = 0; i + 12 <= token.length; i++) expect(out).not.toContain(token.slice(i, i + 12));
      expect(r.stdout + r.stderr).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u200b\u2060\u00ad]/);
    }
  }, 30_000);
});
