/**
 * services.json: services of the user's own as data, through the built CLI. Round trips through
 * `services add/remove`, every refusal (exit code, message naming file + JSON path, files
 * unchanged), the vault-file rules (0600, no link, no loose mode), and a declarative live check
 * against servers on 127.0.0.1.
 */
import { chmodSync, existsSync, readFileSync, statSync, symlinkSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, githubClassic, passphraseEnv, runCli, tempHome, vaultDir, type CliOptions } from '../helpers/cli.js';
import { startServer, type TestServer } from '../verify/servers.js';
import { seedVault, snapshot, snapshotExceptLog } from './support.js';

beforeAll(() => ensureBuilt());

const KEY = `sk-${'a1B2'.repeat(8)}`;

function setup() {
  const home = tempHome('mcpt-usvc-');
  const dir = vaultDir(home);
  const env = passphraseEnv(home);
  const cli = (args: string[], opts: CliOptions = {}) => runCli(args, { home, ...opts, env: { ...env, ...opts.env } });
  const file = join(dir, 'services.json');
  const write = (content: unknown) => {
    writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content), { mode: 0o600 });
    chmodSync(file, 0o600);
  };
  return { home, dir, env, cli, file, write };
}

describe('services add / remove round trip', () => {
  const t = setup();
  const github = githubClassic();
  beforeAll(async () => {
    await seedVault(t.home, [['github', 'token', github], ['legacy', 'api-key', 'legacy-value-123']]);
  });

  it('add writes a 0600 services.json and the service is listed with the built-ins', async () => {
    const r = await t.cli(['services', 'add', 'openai', '--field', 'api-key:OPENAI_API_KEY', '--field', 'org:OPENAI_ORG:plain:optional', '--title', 'OpenAI']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
    expect(statSync(t.file).mode & 0o777).toBe(0o600);
    const list = await t.cli(['services', '--json']);
    expect(list.code, list.stderr).toBe(0);
    const rows = JSON.parse(list.stdout) as { service: string; key: string; env: string; secret: boolean; required: boolean; builtin: boolean }[];
    expect(rows.filter((x) => !x.builtin).map((x) => [x.service, x.key, x.env, x.secret, x.required])).toEqual([
      ['openai', 'api-key', 'OPENAI_API_KEY', true, true],
      ['openai', 'org', 'OPENAI_ORG', false, false],
    ]);
    expect(rows.some((x) => x.builtin && x.service === 'github')).toBe(true);
  });

  it('a defined service exports its own names; a missing required field exits 3 with the store line', async () => {
    const missing = await t.cli(['load', 'openai']);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain('mcp-tokens store openai api-key');
    expect((await t.cli(['store', 'openai', 'api-key', '-'], { input: KEY })).code).toBe(0);
    expect((await t.cli(['store', 'openai', 'org', 'org-42'])).code).toBe(0);
    const r = await t.cli(['load', 'openai', '--format', 'json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ OPENAI_API_KEY: KEY, OPENAI_ORG: 'org-42' });
    const list = JSON.parse((await t.cli(['list', '--json'])).stdout) as { entries: { service: string; key: string; value: string }[] };
    const row = (key: string) => list.entries.find((e) => e.service === 'openai' && e.key === key)!;
    expect(row('org').value).toBe('org-42'); // plain: shown whole
    expect(row('api-key').value).toBe(`${KEY.slice(0, 4)}…${KEY.slice(-4)}`);
  });

  it('an instance of a user service has its fields and names', async () => {
    expect((await t.cli(['store', 'openai@team', 'api-key', '-'], { input: KEY.replace('a', 'b') })).code).toBe(0);
    const r = await t.cli(['load', 'openai@team', '--format', 'json']);
    expect(JSON.parse(r.stdout)).toEqual({ OPENAI_API_KEY: KEY.replace('a', 'b') });
    expect((await t.cli(['store', 'openai@team', 'nokey', 'x'])).code).toBe(2); // the type lacks the key
  });

  it('a service of your own not in the file keeps working as before (SERVICE_KEY, any key)', async () => {
    const r = await t.cli(['load', 'legacy', '--format', 'json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ LEGACY_API_KEY: 'legacy-value-123' });
  });

  it.each([
    [['services', 'add', 'github', '--field', 'token'], 2, '"github" is a built-in service'],
    [['services', 'add', 'openai', '--field', 'x'], 2, 'openai is already defined'],
    [['services', 'add', 'Bad', '--field', 'x'], 2, '$.services[1].name'],
    [['services', 'add', 'evil', '--field', 'x:LD_PRELOAD'], 2, 'refusing the variable name "LD_PRELOAD"'],
    [['services', 'add', 'evil', '--field', 'x:NODE_OPTIONS'], 2, 'NODE_*'],
    [['services', 'add', 'evil', '--field', 'x:MCP_TOKENS_DIR'], 2, 'MCP_TOKENS_*'],
    [['services', 'add', 'evil', '--field', 'x:lower'], 2, 'A-Z, 0-9 and _'],
    [['services', 'add', 'evil', '--field', 'x', '--field', 'x'], 2, 'the key "x" is defined twice'],
    [['services', 'add', 'evil', '--field', 'x:A:B'], 2, 'unexpected "B"'],
    [['services', 'add', 'evil'], 2, 'services add needs at least one --field'],
    [['services', 'remove', 'nosuch'], 3, 'nosuch is not defined'],
  ] as const)('%j is refused (exit %i) and changes nothing', async (args, code, message) => {
    const before = snapshot(t.dir);
    const r = await t.cli([...args]);
    expect(r.code).toBe(code);
    expect(r.stderr).toContain(message);
    expect(snapshot(t.dir)).toEqual(before);
  });

  it('remove takes the definition out; the stored values stay, as a service of your own', async () => {
    const r = await t.cli(['services', 'remove', 'openai']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(readFileSync(t.file, 'utf8'))).toEqual({ version: 1, services: [] });
    const load = await t.cli(['load', 'openai', '--format', 'json']);
    expect(load.code, load.stderr).toBe(0);
    // Undeclared now: only the credential-shaped name is derived; org stays stored, not exported.
    expect(JSON.parse(load.stdout)).toEqual({ OPENAI_API_KEY: KEY });
    expect(load.stderr).toContain('openai org is stored but not exported: OPENAI_ORG is not a credential');
  });
});

describe('an invalid services.json', () => {
  const t = setup();
  const github = githubClassic();
  beforeAll(async () => {
    await seedVault(t.home, [['github', 'token', github], ['mine', 'token', 'my-own-value-1']]);
  });

  const field = { key: 'token' };
  const svc = (extra: Record<string, unknown> = {}) => ({ name: 'acme', fields: [field], ...extra });
  it.each([
    ['bad JSON', '{"services": [', '$: not valid JSON'],
    ['an unknown top-level field', { services: [], extra: 1 }, 'Unrecognized key'],
    ['an unknown field in a field', { services: [{ name: 'acme', fields: [{ key: 'token', colour: 'red' }] }] }, '$.services[0].fields[0]'],
    ['a bad name', { services: [svc({ name: 'Acme' })] }, '$.services[0].name'],
    ['a duplicate', { services: [svc(), svc()] }, '$.services[1].name: "acme" is defined twice'],
    ['a built-in name', { services: [svc({ name: 'hass' })] }, '$.services[0].name: "hass" is a built-in service'],
    ['an invalid pattern', { services: [svc({ fields: [{ key: 'token', pattern: '([a-z' }] })] }, '$.services[0].fields[0].pattern: not a valid regular expression'],
    ['a dangerous variable', { services: [svc({ fields: [{ key: 'token', env: 'PYTHONPATH' }] })] }, '$.services[0].fields[0].env: refusing the variable name "PYTHONPATH"'],
    ['a template naming a missing field', { services: [svc({ check: { url: 'https://x.test/', headers: { Authorization: 'Bearer {secret}' }, accepted: [200] } })] }, '$.services[0].check.headers.Authorization: {secret} names no field'],
    ['a secret in the URL', { services: [svc({ check: { url: 'https://x.test/?t={token}', accepted: [200] } })] }, '$.services[0].check.url: {token} is a secret field'],
  ] as const)('%s: one message naming the file and the JSON path, exit 2; built-ins keep working', async (_what, content, message) => {
    t.write(content);
    const before = snapshotExceptLog(t.dir);
    const r = await t.cli(['services']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(t.file);
    expect(r.stderr).toContain(message);
    expect(r.stderr.trim().split('\n').filter((l) => l.startsWith('mcp-tokens:')).length).toBe(1);
    // A command that needs no service of the user's own works; one that does exits 2 with the same message.
    const gh = await t.cli(['load', 'github', '--format', 'json']);
    expect(gh.code, gh.stderr).toBe(0);
    expect(JSON.parse(gh.stdout)).toEqual({ GITHUB_PERSONAL_ACCESS_TOKEN: github });
    const mine = await t.cli(['load', 'mine']);
    expect(mine.code).toBe(2);
    expect(mine.stderr).toContain(message);
    const doc = await t.cli(['doctor']);
    expect(doc.code).toBe(1);
    expect(doc.stderr).toContain('services.json is invalid');
    expect(snapshotExceptLog(t.dir)).toEqual(before);
  });

  it('a services.json that is a symlink, or readable by others, is refused like any vault file', async () => {
    t.write({ services: [] });
    chmodSync(t.file, 0o644);
    const loose = await t.cli(['services']);
    expect(loose.code).not.toBe(0);
    expect(loose.stderr).toContain(t.file);
    rmSync(t.file);
    const target = join(t.home, 'elsewhere.json');
    writeFileSync(target, JSON.stringify({ services: [svc()] }), { mode: 0o600 });
    symlinkSync(target, t.file);
    const link = await t.cli(['services']);
    expect(link.code).not.toBe(0);
    expect(link.stderr).toContain('symbolic link');
    const add = await t.cli(['services', 'add', 'other', '--field', 'x']);
    expect(add.code).not.toBe(0);
    expect(readFileSync(target, 'utf8')).toBe(JSON.stringify({ services: [svc()] })); // not written through
    rmSync(t.file);
  });
});

describe('a declared live check against 127.0.0.1', () => {
  const t = setup();
  const good = KEY;
  const bad = `sk-${'Zz9y'.repeat(8)}`;
  let api: TestServer;
  let other: TestServer;

  beforeAll(async () => {
    other = await startServer(() => ({ status: 200, body: { ok: true } }));
    api = await startServer((req) => {
      if (req.path === '/moved') return { status: 302, headers: { location: `${other.url}/v1/me` } };
      if (req.headers['x-api-key'] === good) return { status: 200, body: { ok: true } };
      // A hostile server echoing the token in its reason and body.
      return { status: 401, statusText: `bad key ${String(req.headers['x-api-key'])}`, body: `denied ${String(req.headers['x-api-key'])}` };
    });
    await seedVault(t.home, []);
  });
  afterAll(async () => {
    await api.close();
    await other.close();
  });

  const define = async (path: string) => {
    t.write({
      version: 1,
      services: [
        {
          name: 'acme',
          title: 'Acme',
          fields: [
            { key: 'url', env: 'ACME_URL', secret: false, pattern: 'https?://[^\\s]+', message: 'Invalid Acme URL' },
            { key: 'token', env: 'ACME_TOKEN', pattern: 'sk-[A-Za-z0-9]{32}', message: 'Invalid Acme token format' },
          ],
          check: { method: 'GET', url: `{url}${path}`, headers: { 'X-Api-Key': '{token}' }, accepted: [200], rejected: [401, 403] },
        },
      ],
    });
    expect((await t.cli(['store', 'acme', 'url', api.url])).code).toBe(0);
  };

  it("the field's pattern refuses a malformed value with its own message, not echoing it", async () => {
    await define('/v1/me');
    const r = await t.cli(['store', 'acme', 'token', '-'], { input: 'sk-short-SECRETISH' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Invalid Acme token format');
    expect(r.stderr).not.toContain('SECRETISH');
  });

  it('accepted: the token goes in the declared header to the declared origin', async () => {
    await define('/v1/me');
    expect((await t.cli(['store', 'acme', 'token', '-'], { input: good })).code).toBe(0);
    const r = await t.cli(['verify', 'acme', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as { services: { service: string; status: string }[] };
    expect(report.services).toMatchObject([{ service: 'acme', status: 'ok' }]);
    expect(api.received.at(-1)!.headers['x-api-key']).toBe(good);
    expect(r.stdout + r.stderr).not.toContain(good);
  });

  it('rejected: exit 1, and the token a server echoes is scrubbed from every output', async () => {
    expect((await t.cli(['store', 'acme', 'token', '-'], { input: bad })).code).toBe(0);
    const r = await t.cli(['verify', 'acme', '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, services: [{ service: 'acme', status: 'rejected' }] });
    const table = await t.cli(['verify', 'acme']);
    for (const out of [r.stdout, r.stderr, table.stdout, table.stderr]) expect(out).not.toContain(bad);
    expect(r.stdout).toContain('[redacted]');
  });

  it('a redirect to another origin is not followed: the other server sees nothing', async () => {
    await define('/moved');
    expect((await t.cli(['store', 'acme', 'token', '-'], { input: good })).code).toBe(0);
    const before = other.connections();
    const r = await t.cli(['verify', 'acme', '--json']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('redirects to another origin');
    expect(other.connections()).toBe(before);
    expect(r.stdout + r.stderr).not.toContain(good);
  });

  it('the service runs with its declared variables', async () => {
    const script = `process.stderr.write(JSON.stringify([process.env.ACME_TOKEN===${JSON.stringify(good)}, process.env.ACME_URL]))`;
    const r = await t.cli(['run', 'acme', '--', process.execPath, '-e', script]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe(JSON.stringify([true, api.url]));
    expect(existsSync(t.file)).toBe(true);
  });
});
