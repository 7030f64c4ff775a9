/** The rule for "looks like a credential": tokens of every shape are caught, ordinary arguments are not. */
import { randomBytes, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { argumentMasker, HIDDEN, looksLikeCredential } from '../../src/cli/mask.js';
import { githubClassic, githubFineGrained, jwt, proxmoxToken, randomAlnum } from '../helpers/cli.js';

describe('looksLikeCredential', () => {
  it.each([
    ['GitHub classic', githubClassic()],
    ['GitHub fine-grained', githubFineGrained()],
    ['JWT', jwt()],
    ['Proxmox token', proxmoxToken()],
    ['UUID (Proxmox secret)', randomUUID()],
    // The rule asks for letters and digits mixed (a random 24-character string lacks a digit 1.5% of the time).
    ['random alphanumeric, 24', `${randomAlnum(12)}7${randomAlnum(11)}`],
    ['random alphanumeric, 40', `${randomAlnum(20)}4${randomAlnum(19)}`],
    ['hex, 32', randomBytes(16).toString('hex')],
    ['base64url, 33', `a${randomBytes(12).toString('base64url')}5${randomBytes(12).toString('base64url').slice(1)}`],
  ])('%s', (_, value) => expect(looksLikeCredential(value)).toBe(true));

  it('random keys are caught nearly always, whatever their alphabet (2,000 samples each)', () => {
    const missed = (make: () => string) => Array.from({ length: 2000 }, make).filter((v) => !looksLikeCredential(v)).length;
    // A fixed entropy floor let ~1 in 5 random 32-character hex keys through.
    expect(missed(() => randomBytes(16).toString('hex'))).toBeLessThanOrEqual(8);
    expect(missed(() => `${randomAlnum(11)}7${randomAlnum(12)}`)).toBeLessThanOrEqual(8);
    expect(missed(() => `${randomAlnum(9)}3${randomAlnum(10)}`)).toBeLessThanOrEqual(8);
    // base64url's `-` and `_` cut a key into pieces, some letters only: counting only the pieces
    // that mix letters and digits let ~1 in 100 of these through (the CI failure of 'base64url, 32').
    const b64 = (n: number) => randomBytes(n).toString('base64url');
    expect(missed(() => `a${b64(12)}5${b64(12).slice(1)}`)).toBeLessThanOrEqual(8);
    expect(missed(() => `a${b64(9)}5${b64(9).slice(2)}`)).toBeLessThanOrEqual(8);
  });

  it.each([
    'github', 'token', 'my-long-service-name-2', 'mcp-server-github-enterprise', '/usr/local/bin/node',
    'https://api.github.com/v3', 'homeassistant.local:8123', '@modelcontextprotocol/server-github', 'node_modules',
    'pve.lab.example:8006', 'github-personal-2024-01-01', 'server-filesystem-v1.2.3-beta4', 'python3.11',
    'PROXMOX_TOKEN', 'ubuntu-22.04-server-amd64', 'linux-x64-glibc-217', '--passphrase-fd', 'root@pam', '20260101T120000000Z',
  ])('not %s', (value) => expect(looksLikeCredential(value)).toBe(false));
});

describe('argumentMasker', () => {
  it('hides a credential argument whole, JSON-quoted, cut short or split; leaves the rest', () => {
    const t = githubClassic();
    const hide = argumentMasker(['store', 'github', t, '--format', 'sh']);
    expect(hide(`Invalid key name ${JSON.stringify(t)}`)).toBe(`Invalid key name "${HIDDEN}"`);
    expect(hide(`cut: ${t.slice(0, 20)}…`)).toBe(`cut: ${HIDDEN}…`);
    expect(hide(`split: ${t.slice(0, 15)}\n${t.slice(15)}`)).toBe(`split: ${HIDDEN}`);
    expect(hide('store github: --format sh')).toBe('store github: --format sh');
    expect(argumentMasker(['store', 'github', 'token'])('store github token')).toBe('store github token');
  });
});
