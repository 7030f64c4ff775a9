/**
 * Variable names from data that arrived from elsewhere (issue 25, items 2, 3 and 9), through the
 * built CLI with real age bundles: a bundle never decides which variables `load`/`run` set, every
 * name the review found accepted is refused wherever a name is given, and one service that cannot
 * be exported never blanks the others in `load all`.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { seal } from '../../src/bundle/age.js';
import { serializeBundle } from '../../src/bundle/format.js';
import { customEnvName } from '../../src/services/index.js';
import { validateUserServices } from '../../src/services/user.js';
import { canary, ensureBuilt, githubClassic, passphraseEnv, runCli, tempHome, vaultDir, type CliOptions } from '../helpers/cli.js';
import { seedVault, snapshot } from './support.js';

/** Every name issue 25 found accepted (items 2 and 3). */
const LISTED = [
  'OPENSSL_CONF', 'OPENSSL_MODULES', 'SSLKEYLOGFILE', 'DOCKER_HOST', 'PS0', 'PS1', 'ZDOTDIR', 'LESSOPEN', 'VIMINIT', 'PHPRC',
  'LUA_CPATH', 'TERMINFO', 'INPUTRC', 'DBUS_SESSION_BUS_ADDRESS', 'GNUPGHOME', 'PASSWORD_STORE_DIR', 'AWS_CA_BUNDLE',
  'SYSTEMD_PAGER', 'AWS_PAGER', 'PSQL_PAGER',
];

/**
 * The service and key a bundle would use to make each name, where one can: a derived name is
 * `{service}_{key}`, so names without `_` (PS1, ZDOTDIR…) cannot come from a bundle at all.
 */
const FROM_BUNDLE: Array<[string, string, string]> = [
  ['OPENSSL_CONF', 'openssl', 'conf'],
  ['OPENSSL_MODULES', 'openssl', 'modules'],
  ['DOCKER_HOST', 'docker', 'host'],
  ['LUA_CPATH', 'lua', 'cpath'],
  ['DBUS_SESSION_BUS_ADDRESS', 'dbus', 'session-bus-address'],
  ['PASSWORD_STORE_DIR', 'password', 'store-dir'],
  ['AWS_CA_BUNDLE', 'aws', 'ca-bundle'],
  ['SYSTEMD_PAGER', 'systemd', 'pager'],
  ['AWS_PAGER', 'aws', 'pager'],
  ['PSQL_PAGER', 'psql', 'pager'],
];

const gh = githubClassic();
const secret = canary();
let home: string;
let env: Record<string, string>;
let recipient: string;
const cli = (args: string[], opts: CliOptions = {}) => runCli(args, { home, env, ...opts });

async function bundle(credentials: Array<{ service: string; key: string; value: string }>): Promise<Buffer> {
  const plain = serializeBundle({ createdAt: new Date().toISOString(), credentials });
  return Buffer.from(await seal([recipient], plain, false));
}

beforeAll(async () => {
  ensureBuilt();
  home = tempHome('mcpt-names-');
  await seedVault(home, [['github', 'token', gh], ['canary', 'token', secret]]);
  env = passphraseEnv(home);
  const r = await cli(['identity']);
  expect(r.code, r.stderr).toBe(0);
  recipient = r.stdout.trim();
}, 60_000);

describe('every name the review found is refused wherever a name is given', () => {
  it.each(LISTED)('%s: run --env refuses it before anything starts (exit 2)', async (name) => {
    const marker = join(home, `started-${name}`);
    const r = await cli(['run', '--env', `${name}=github.token`, '--', process.execPath, '-e', `require('fs').writeFileSync(${JSON.stringify(marker)}, '')`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`Refusing the variable name "${name}" in --env`);
    expect(r.stderr).not.toContain(gh);
    expect(existsSync(marker)).toBe(false);
  });

  it.each(LISTED)('%s: services add refuses it and writes nothing', async (name) => {
    const before = snapshot(vaultDir(home));
    const r = await cli(['services', 'add', 'evil', '--field', `x:${name}:plain`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`refusing the variable name "${name}"`);
    expect(snapshot(vaultDir(home))).toEqual(before);
  });

  it.each(LISTED)('%s: a services.json field naming it is refused', (name) => {
    const file = { version: 1, services: [{ name: 'evil', fields: [{ key: 'x', env: name }] }] };
    expect(() => validateUserServices(file, 'services.json')).toThrow(`$.services[0].fields[0].env: refusing the variable name "${name}"`);
  });

  it('names without "_" cannot be derived from a bundle at all', () => {
    for (const name of LISTED.filter((n) => !n.includes('_'))) expect(FROM_BUNDLE.some(([n]) => n === name)).toBe(false);
    expect(customEnvName('ps', 'one')).toContain('_');
  });

  it.each(FROM_BUNDLE)('%s: a bundle whose credential would set it is refused whole, with --new-services too', async (name, service, key) => {
    expect(customEnvName(service, key)).toBe(name);
    const file = await bundle([{ service: 'github', key: 'token', value: githubClassic() }, { service, key, value: 'x-value-1' }]);
    const before = snapshot(vaultDir(home));
    const r = await cli(['import', '--new-services', '--overwrite', '-'], { input: file });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${service} ${key} in the bundle would be exported as ${name}, which is refused`);
    expect(r.stderr).toContain('nothing was imported');
    expect(snapshot(vaultDir(home))).toEqual(before);
  }, 30_000);
});

describe('a bundle never introduces a variable name', () => {
  it('a new service is not created without --new-services; the refusal names what it would export', async () => {
    const file = await bundle([
      { service: 'myapp', key: 'token', value: 'myapp-token-123456' },
      { service: 'myapp', key: 'url', value: 'http://127.0.0.1:23750' },
    ]);
    const before = snapshot(vaultDir(home));
    const dry = await cli(['import', '--dry-run', '-'], { input: file });
    expect(dry.code).toBe(2);
    expect(dry.stdout).toBe('add myapp token\nadd myapp url\n');
    const r = await cli(['import', '-'], { input: file });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('the bundle would create a new service: myapp (new service): load and run export MYAPP_TOKEN; url is stored but not exported (MYAPP_URL is not a credential');
    expect(r.stderr).toContain('--new-services');
    expect(snapshot(vaultDir(home))).toEqual(before);

    const ok = await cli(['import', '--new-services', '-'], { input: file });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stderr).toContain('myapp (new service): load and run export MYAPP_TOKEN; url is stored but not exported');
    // The address it carried is stored but reaches no environment: only the credential-shaped name.
    const load = await cli(['load', 'myapp', '--format', 'json']);
    expect(load.code, load.stderr).toBe(0);
    expect(JSON.parse(load.stdout)).toEqual({ MYAPP_TOKEN: 'myapp-token-123456' });
    expect(load.stderr).toContain('myapp url is stored but not exported');
    const list = JSON.parse((await cli(['list', '--json'])).stdout) as { entries: { service: string; key: string; env: string | null }[] };
    expect(list.entries.filter((e) => e.service === 'myapp').map((e) => [e.key, e.env])).toEqual([['token', 'MYAPP_TOKEN'], ['url', null]]);
    // A name the user declares on this machine exports it.
    const declared = await cli(['load', 'myapp', '--format', 'json', '--env', 'MYAPP_URL=myapp.url']);
    expect(JSON.parse(declared.stdout)).toEqual({ MYAPP_TOKEN: 'myapp-token-123456', MYAPP_URL: 'http://127.0.0.1:23750' });
    expect(declared.stderr).not.toContain('not exported');
    expect((await cli(['delete', 'myapp'])).code).toBe(0);
  }, 60_000);

  it('a credential for a service already stored here needs no flag; a new key of it gets no non-credential name', async () => {
    const file = await bundle([{ service: 'canary', key: 'host', value: 'tcp://127.0.0.1:23750' }]);
    const r = await cli(['import', '-'], { input: file });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('canary: load and run export nothing from it; host is stored but not exported (CANARY_HOST is not a credential');
    const load = await cli(['load', 'canary', '--format', 'json']);
    expect(JSON.parse(load.stdout)).toEqual({ CANARY_TOKEN: secret });
    expect((await cli(['delete', 'canary', 'host'])).code).toBe(0);
  }, 60_000);
});

describe('one service that cannot be exported never blanks the others (item 9)', () => {
  it('import refuses names that can never be exported (ld preload, node options)', async () => {
    for (const [service, key] of [['ld', 'preload'], ['node', 'options']] as const) {
      const before = snapshot(vaultDir(home));
      const r = await cli(['import', '--new-services', '-'], { input: await bundle([{ service, key, value: '/tmp/evil.so' }]) });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`${service} ${key} in the bundle would be exported as ${customEnvName(service, key)}, which is refused`);
      expect(snapshot(vaultDir(home))).toEqual(before);
    }
  }, 60_000);

  it('load all prints every good service, reports the bad ones on stderr and exits 2', async () => {
    // Stored here by hand (store accepts any name of your own; export is what decides).
    for (const [service, key, value] of [['ld', 'preload', '/tmp/evil.so'], ['docker', 'host', 'tcp://127.0.0.1:23750']]) {
      expect((await cli(['store', service!, key!, '-'], { input: value! })).code).toBe(0);
    }
    const r = await cli(['load', '--format', 'json']);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout)).toEqual({ GITHUB_PERSONAL_ACCESS_TOKEN: gh, CANARY_TOKEN: secret });
    expect(r.stderr).toContain('Refusing to export LD_PRELOAD for ld');
    expect(r.stderr).toContain('Refusing to export DOCKER_HOST for docker');
    expect(r.stderr).not.toContain('/tmp/evil.so');
    const sh = await cli(['load']);
    expect(sh.stdout).toContain('export GITHUB_PERSONAL_ACCESS_TOKEN=');
    expect(sh.stdout).not.toMatch(/LD_PRELOAD|DOCKER_HOST/);
    // Named, the bad service is an error of its own (exit 2), the others unaffected.
    expect((await cli(['load', 'ld'])).code).toBe(2);
    expect((await cli(['load', 'github'])).code).toBe(0);
    const run = await cli(['run', 'docker', '--', 'true']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('Refusing to export DOCKER_HOST for docker');
    for (const s of ['ld', 'docker']) expect((await cli(['delete', s])).code).toBe(0);
  }, 60_000);
});

describe('a field exported by --env under a name of its own', () => {
  it('needs no derived name: run and load work without a report; without the mapping the service is refused', async () => {
    expect((await cli(['store', 'srv', 'cookie-value', '-'], { input: 'cookie-123456' })).code).toBe(0);
    const marker = join(home, 'cookie-out');
    const script = `require('fs').writeFileSync(${JSON.stringify(marker)}, String(process.env.SLACK_COOKIE) + '|' + String(process.env.SRV_COOKIE_VALUE))`;
    const r = await cli(['run', 'srv', '--env', 'SLACK_COOKIE=srv.cookie-value', '--', process.execPath, '-e', script]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(readFileSync(marker, 'utf8')).toBe('cookie-123456|undefined');
    const bare = await cli(['run', 'srv', '--', 'true']);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain("SRV_COOKIE_VALUE is not a credential's name");
    expect((await cli(['delete', 'srv'])).code).toBe(0);
  }, 60_000);
});

describe('store says what a service of your own exports', () => {
  it('a derived name without a credential shape is reported as not exported', async () => {
    const r = await cli(['store', 'aws', 'pager', '-'], { input: 'less' });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('not exported: *_PAGER');
    expect(r.stderr).not.toContain('exported as AWS_PAGER');
    expect((await cli(['delete', 'aws'])).code).toBe(0);
  });
});

// A bundle written to a file imports the same way (input.ts); keep the file path exercised.
it('a bundle file with a refused name is refused like stdin', async () => {
  const path = join(home, 'evil.age');
  writeFileSync(path, await bundle([{ service: 'docker', key: 'host', value: 'tcp://127.0.0.1:23750' }]), { mode: 0o600 });
  const r = await cli(['import', '--new-services', path]);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain('would be exported as DOCKER_HOST, which is refused');
});
