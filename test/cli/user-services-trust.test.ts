/**
 * A services.json check sends the token only where the file's author fixed it: two real loopback
 * servers, 127.0.0.1 (the declared one) and 127.0.0.2 (where a field's value tries to send it).
 * Also: headers that would change the host or the framing are refused, a token echoed in another
 * case or base64 is redacted, and a pattern cannot hang a command.
 */
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, passphraseEnv, runCli, tempHome, vaultDir, type CliOptions } from '../helpers/cli.js';
import { startServer, type TestServer } from '../verify/servers.js';
import { seedVault } from './support.js';

const GOOD = `sk-${'a1B2'.repeat(8)}`;
const BAD = `sk-${'Zz9y'.repeat(8)}`;

describe('services.json checks and patterns', () => {
  const home = tempHome('mcpt-usvc-trust-');
  const file = join(vaultDir(home), 'services.json');
  let env: Record<string, string>;
  let declared: TestServer;
  let elsewhere: TestServer;
  const cli = (args: string[], opts: CliOptions = {}) => runCli(args, { home, ...opts, env: { ...env, ...opts.env } });
  const write = (check: Record<string, unknown> | undefined, pattern?: string) => {
    const fields = [
      { key: 'url', secret: false, required: false },
      { key: 'suffix', secret: false, required: false },
      { key: 'token', ...(pattern ? { pattern } : {}) },
    ];
    writeFileSync(file, JSON.stringify({ version: 1, services: [{ name: 'acme', title: 'Acme', fields, ...(check ? { check } : {}) }] }), { mode: 0o600 });
    chmodSync(file, 0o600);
  };
  const check = (url: string, headers: Record<string, string> = { 'X-Api-Key': '{token}' }) => ({ url, headers, accepted: [200], rejected: [401, 403] });
  const store = async (key: string, value: string) => {
    const r = await cli(['store', 'acme', key, '-'], { input: value });
    expect(r.code, r.stderr).toBe(0);
  };

  beforeAll(async () => {
    ensureBuilt();
    env = passphraseEnv(home);
    await seedVault(home, []);
    declared = await startServer((req) =>
      req.headers['x-api-key'] === GOOD
        ? { status: 200, body: { ok: true } }
        : // A hostile server echoing the token upper-cased in its reason, base64 in its body.
          { status: 401, statusText: `bad key ${String(req.headers['x-api-key']).toUpperCase()}`, body: `denied ${Buffer.from(`u:${String(req.headers['x-api-key'])}`).toString('base64')}` },
    );
    elsewhere = await startServer(() => ({ status: 200, body: { ok: true } }), undefined, '127.0.0.2');
    write(undefined);
    await store('token', GOOD);
  });
  afterAll(async () => {
    await declared.close();
    await elsewhere.close();
  });

  it("a field in the host part is refused at load: the token never reaches the other host", async () => {
    write(check(`http://127.0.0.1:${declared.port}{suffix}`));
    const before = elsewhere.connections();
    const s = await cli(['services']);
    expect(s.code).toBe(2);
    expect(s.stderr).toContain('$.services[0].check.url: write the scheme, host and port out in full');
    write(undefined);
    await store('suffix', `@127.0.0.2:${elsewhere.port}/steal`);
    write(check(`http://127.0.0.1:${declared.port}{suffix}`));
    const v = await cli(['verify', 'acme', '--json']);
    expect(v.code).toBe(2);
    expect(elsewhere.connections()).toBe(before);
    expect(v.stdout + v.stderr).not.toContain(GOOD);
  });

  it('a field in the path or query is encoded as one part: same host, nothing elsewhere', async () => {
    const before = elsewhere.connections();
    write(check(`http://127.0.0.1:${declared.port}/v1/{suffix}?q={suffix}`));
    const v = await cli(['verify', 'acme', '--json']);
    expect(v.code, v.stdout + v.stderr).toBe(0);
    const enc = encodeURIComponent(`@127.0.0.2:${elsewhere.port}/steal`);
    expect(declared.received.at(-1)!.path).toBe(`/v1/${enc}?q=${enc}`);
    write(undefined);
    await store('suffix', 'x&token=1#frag');
    write(check(`http://127.0.0.1:${declared.port}/v1?org={suffix}`));
    expect((await cli(['verify', 'acme', '--json'])).code).toBe(0);
    expect(declared.received.at(-1)!.path).toBe(`/v1?org=${encodeURIComponent('x&token=1#frag')}`);
    expect(elsewhere.connections()).toBe(before);
  });

  it('the opening field is the base address: its value sets the origin, but a user@host trick in it is refused', async () => {
    write(undefined);
    await store('url', `http://127.0.0.1:${declared.port}/`);
    write(check('{url}/v1/me'));
    const ok = await cli(['verify', 'acme', '--json']);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(declared.received.at(-1)!.path).toBe('/v1/me');
    const before = elsewhere.connections();
    write(undefined);
    await store('url', `http://127.0.0.1:${declared.port}@127.0.0.2:${elsewhere.port}`);
    write(check('{url}/v1/me'));
    const v = await cli(['verify', 'acme', '--json']);
    expect(v.code).toBe(1);
    expect(v.stdout).toContain('holds a user name or password');
    expect(elsewhere.connections()).toBe(before);
    write(check('{url}{suffix}'));
    const s = await cli(['services']);
    expect(s.code).toBe(2);
    expect(s.stderr).toContain('what follows it must start with /, ? or #');
  });

  it.each(['Host', 'host', 'Transfer-Encoding', 'X-Forwarded-Host', 'Forwarded', 'Connection', 'Content-Length'])('a %s header is refused in a declared check', async (header) => {
    write(check(`http://127.0.0.1:${declared.port}/v1`, { 'X-Api-Key': '{token}', [header]: header === 'Host' || header === 'host' ? `127.0.0.2:${elsewhere.port}` : 'x' }));
    const s = await cli(['services']);
    expect(s.code).toBe(2);
    expect(s.stderr).toContain(`$.services[0].check.headers.${header}: the ${header} header`);
  });

  it('a token echoed upper-cased or in base64 is redacted from every output', async () => {
    write(undefined);
    await store('token', BAD);
    write(check(`http://127.0.0.1:${declared.port}/v1`));
    const json = await cli(['verify', 'acme', '--json']);
    expect(json.code).toBe(1);
    const table = await cli(['verify', 'acme']);
    expect(declared.received.at(-1)!.headers['x-api-key']).toBe(BAD);
    for (const out of [json.stdout, json.stderr, table.stdout, table.stderr]) {
      expect(out.toUpperCase()).not.toContain(BAD.slice(3, 15).toUpperCase());
      expect(out).not.toContain(Buffer.from(`u:${BAD}`).toString('base64').slice(4, 20));
    }
    expect(json.stdout).toContain('[redacted]');
  });

  it('(a+)+b is refused at load; a pattern that passes the load check is stopped by the time budget', async () => {
    write(undefined, '(a+)+b');
    const s = await cli(['services']);
    expect(s.code).toBe(2);
    expect(s.stderr).toContain('$.services[0].fields[2].pattern: a repeated group that holds a quantifier');
    write(undefined, '[a-z]*[a-z]*[a-z]*[a-z]*[a-z]*[a-z]*[a-z]*!');
    const started = Date.now();
    const r = await cli(['store', 'acme', 'token', '-'], { input: 'a'.repeat(2000), timeoutMs: 60_000 });
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('took longer than 1 s on this value');
    write(undefined, 'sk-[A-Za-z0-9]{32}');
    await store('token', GOOD);
  });
});
