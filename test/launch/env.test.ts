import { describe, expect, it } from 'vitest';
import { VaultError } from '../../src/errors.js';
import { assertEnvPair, buildEnv, mergeEnvs, PASSPHRASE_VARIABLES, scrubEnv } from '../../src/launch/env.js';
import { serviceSpec } from '../../src/services/index.js';

function caught(fn: () => unknown): VaultError {
  try {
    fn();
  } catch (e) {
    if (e instanceof VaultError) return e;
    throw e;
  }
  throw new Error('expected a VaultError');
}

const GH = 'ghp_' + 'a'.repeat(36);

describe('buildEnv', () => {
  it.each([
    ['github', { token: GH, api: 'https://ghe.example.com/api/v3' }, { GITHUB_PERSONAL_ACCESS_TOKEN: GH }],
    ['hass', { token: 'h.t.x', url: 'http://ha:8123' }, { HA_TOKEN: 'h.t.x', HA_URL: 'http://ha:8123' }],
    [
      'proxmox',
      { token: 'PVE', host: 'pve', user: 'root@pam', fingerprint: 'AA', ca: '/ca.pem' },
      { PROXMOX_TOKEN: 'PVE', PROXMOX_HOST: 'pve', PROXMOX_USER: 'root@pam' },
    ],
    ['wikijs', { token: 'w.t.x', url: 'https://wiki' }, { WIKIJS_TOKEN: 'w.t.x', WIKIJS_URL: 'https://wiki' }],
  ])('%s: names come from the service table; fields without an env name stay out', (service, values, expected) => {
    expect(buildEnv(serviceSpec(service), values)).toEqual(expected);
  });

  it("an undeclared service exports its credential-shaped names; the others are withheld and reported", () => {
    const spec = serviceSpec('my-svc', ['api-key', 'url']);
    const withheld: string[] = [];
    expect(buildEnv(spec, { 'api-key': 'k', url: 'u' }, (w) => withheld.push(w.name))).toEqual({ MY_SVC_API_KEY: 'k' });
    expect(withheld).toEqual(['MY_SVC_URL']);
  });

  it('a stored key the spec does not know never picks its own variable name', () => {
    expect(buildEnv(serviceSpec('github'), { token: GH, PATH: '/evil' })).toEqual({ GITHUB_PERSONAL_ACCESS_TOKEN: GH });
  });

  it('missing github token: the seed wrapper message, exit 3', () => {
    const e = caught(() => buildEnv(serviceSpec('github'), {}));
    expect(e.code).toBe('NOT_FOUND');
    expect(e.exitCode).toBe(3);
    expect(e.message).toBe('No credentials stored for github');
    expect(e.hint).toBe('Please run: mcp-tokens store github token   # asks for it without echo');
  });

  it('missing hass credentials: one store line per field, as the seed hass wrapper printed', () => {
    const e = caught(() => buildEnv(serviceSpec('hass'), {}));
    expect(e.message).toBe('No credentials stored for hass');
    expect(e.hint).toBe(
      'Please run:\n  mcp-tokens store hass token   # asks for it without echo\n  mcp-tokens store hass url <your_hass_url>',
    );
  });

  it('partly stored proxmox: names what is missing, and only that', () => {
    const e = caught(() => buildEnv(serviceSpec('proxmox'), { token: 'PVE', host: '' }));
    expect(e.message).toBe('No credentials stored for proxmox host, user');
    expect(e.hint).toBe('Please run:\n  mcp-tokens store proxmox host your.proxmox.host\n  mcp-tokens store proxmox user root@pam');
    expect(e.hint).not.toContain('PVE');
  });

  it('a user-defined service with nothing stored is not found either', () => {
    const e = caught(() => buildEnv(serviceSpec('my-svc'), {}));
    expect(e.code).toBe('NOT_FOUND');
    expect(e.message).toBe('No credentials stored for my-svc');
  });

  it('refuses a value with a control character without echoing it', () => {
    const e = caught(() => buildEnv(serviceSpec('github'), { token: 'canary-123\nx' }));
    expect(e.message).toContain('GITHUB_PERSONAL_ACCESS_TOKEN');
    expect(`${e.message} ${e.hint}`).not.toContain('canary-123');
  });
});

describe('mergeEnvs', () => {
  it('joins services', () => {
    expect(mergeEnvs([{ service: 'a', env: { A: '1' } }, { service: 'b', env: { B: '2' } }])).toEqual({ A: '1', B: '2' });
  });

  it('refuses two services setting the same variable', () => {
    const e = caught(() => mergeEnvs([{ service: 'github', env: { X: '1' } }, { service: 'other', env: { X: '2' } }]));
    expect(e.message).toBe('github and other both set X');
  });
});

describe('scrubEnv', () => {
  it('removes every MCP_TOKENS_PASSPHRASE* variable and keeps the rest', () => {
    const env = {
      PATH: '/usr/bin',
      MCP_TOKENS_PASSPHRASE: 'canary',
      MCP_TOKENS_PASSPHRASE_FILE: '/run/pw',
      MCP_TOKENS_PASSPHRASE_FD: '3',
      MCP_TOKENS_PASSPHRASE_ANYTHING: 'x',
      MCP_TOKENS_NEW_PASSPHRASE: 'canary-new',
      MCP_TOKENS_NEW_PASSPHRASE_FILE: '/run/new',
      MCP_TOKENS_NEW_PASSPHRASE_FD: '4',
      Mcp_Tokens_New_Passphrase: 'mixed case',
      mcp_tokens_passphrase: 'lower',
      MCP_TOKENS_DIR: '/v',
      MY_MCP_TOKENS_PASSPHRASE: 'not a prefix match',
      UNSET: undefined,
    };
    expect(scrubEnv(env)).toEqual({ PATH: '/usr/bin', MCP_TOKENS_DIR: '/v', MY_MCP_TOKENS_PASSPHRASE: 'not a prefix match' });
    expect(env.MCP_TOKENS_PASSPHRASE).toBe('canary'); // a copy: the caller's env is untouched
  });

  it('covers every name of the documented list', () => {
    for (const name of PASSPHRASE_VARIABLES) expect(scrubEnv({ [name]: 'x', KEEP: 'y' })).toEqual({ KEEP: 'y' });
  });

  it('a service whose variable would be a passphrase variable is refused by load, run and the library', () => {
    const spec = serviceSpec('mcp-tokens-new', ['passphrase']);
    expect(spec.fields[0]?.env).toBe('MCP_TOKENS_NEW_PASSPHRASE');
    const e = caught(() => buildEnv(spec, { passphrase: 'canary' }));
    expect(e.code).toBe('INVALID_INPUT');
    expect(e.message).toBe('Refusing to export MCP_TOKENS_NEW_PASSPHRASE: mcp-tokens reads its passphrase from that variable');
    expect(e.message + (e.hint ?? '')).not.toContain('canary');
    expect(caught(() => assertEnvPair('MCP_TOKENS_PASSPHRASE_FILE', '/x')).code).toBe('INVALID_INPUT');
  });
});
