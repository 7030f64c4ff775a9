/**
 * Each built-in service's live check against a local server that answers the way the real service
 * documents (status codes, headers, bodies). The checks run through the service table's lazy
 * `verify`, exactly as the CLI will call them.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { github } from '../../src/services/github.js';
import { hass } from '../../src/services/hass.js';
import { proxmox } from '../../src/services/proxmox.js';
import { wikijs } from '../../src/services/wikijs.js';
import { parseExpiry } from '../../src/verify/github.js';
import { proxmoxBaseUrl, proxmoxTokenId } from '../../src/verify/proxmox.js';
import { WIKIJS_QUERY } from '../../src/verify/wikijs.js';
import type { VerifyOutcome } from '../../src/verify/types.js';
import { makeCerts, type TestCerts } from './certs.js';
import { authHeaders, startServer, type Reply, type TestServer } from './servers.js';
import { GITHUB_TOKEN, HASS_TOKEN, PROXMOX_TOKEN, WIKIJS_TOKEN } from './tokens.js';

const NOW = new Date('2030-01-01T00:00:00Z');
const ctx = { timeoutMs: 2000, now: NOW };
let servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});
async function serve(route: (path: string) => Reply, tls?: { key: string; cert: string }): Promise<TestServer> {
  const s = await startServer((req) => route(req.path), tls);
  servers.push(s);
  return s;
}

interface Expect {
  status: VerifyOutcome['status'];
  message: RegExp;
  details?: Record<string, unknown>;
  warning?: RegExp;
}
function check(outcome: VerifyOutcome, want: Expect): void {
  expect(outcome.status).toBe(want.status);
  expect(outcome.message).toMatch(want.message);
  if (want.details) expect(outcome.details).toMatchObject(want.details);
  if (want.warning) expect((outcome.warnings ?? []).join('\n')).toMatch(want.warning);
  else expect(outcome.warnings ?? []).toEqual([]);
}

describe('GitHub: GET {api}/user', () => {
  const user = { login: 'octocat', id: 583231, type: 'User' };
  it.each<[string, Reply, Expect]>([
    [
      'classic token',
      { body: user, headers: { 'X-OAuth-Scopes': 'repo, read:org', 'GitHub-Authentication-Token-Expiration': '2030-03-01 12:00:00 UTC', 'X-RateLimit-Remaining': '4999' } },
      {
        status: 'ok',
        message: /authenticated as octocat · scopes: repo, read:org · expires 2030-03-01 · rate limit 4999 left/,
        details: { login: 'octocat', scopes: ['repo', 'read:org'], expiresAt: '2030-03-01T12:00:00.000Z', rateLimitRemaining: 4999 },
      },
    ],
    ['fine-grained token (no scopes header)', { body: user, headers: { 'X-RateLimit-Remaining': '4998' } }, { status: 'ok', message: /octocat/, details: { scopes: null, expiresAt: null } }],
    ['token without scopes', { body: user, headers: { 'X-OAuth-Scopes': '' } }, { status: 'ok', message: /scopes: none/, warning: /no scopes/ }],
    [
      'token expiring in 5 days',
      { body: user, headers: { 'X-OAuth-Scopes': 'repo', 'GitHub-Authentication-Token-Expiration': '2030-01-06 00:00:00 UTC' } },
      { status: 'ok', message: /expires 2030-01-06/, warning: /expires in 5 days/ },
    ],
    ['revoked token', { status: 401, statusText: 'Unauthorized', body: { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest', status: '401' } }, { status: 'rejected', message: /GitHub rejected the token \(HTTP 401 Unauthorized\)/ }],
    ['rate limit exhausted', { status: 403, body: { message: 'API rate limit exceeded' }, headers: { 'X-RateLimit-Remaining': '0' } }, { status: 'unexpected', message: /rate limit is used up/ }],
    ['SSO not authorised', { status: 403, body: { message: 'Resource protected by organization SAML enforcement' }, headers: { 'X-RateLimit-Remaining': '4000' } }, { status: 'rejected', message: /HTTP 403/ }],
    ['malformed body', { body: '<html>GitHub</html>' }, { status: 'unexpected', message: /no login/ }],
    ['not a GitHub API', { status: 404, body: { message: 'Not Found' } }, { status: 'unexpected', message: /HTTP 404/ }],
  ])('%s', async (_name, reply, want) => {
    const s = await serve(() => reply);
    const outcome = await github.verify!({ token: GITHUB_TOKEN, api: `${s.url}/api/v3` }, ctx);
    check(outcome, want);
    expect(s.received.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /api/v3/user']);
    expect(authHeaders(s)).toEqual([`Bearer ${GITHUB_TOKEN}`]);
    expect(s.received[0]!.headers.accept).toBe('application/vnd.github+json');
    expect(s.received[0]!.headers['user-agent']).toMatch(/mcp-tokens/);
  });

  it.each([
    ['2021-10-07 19:07:53 UTC', '2021-10-07T19:07:53.000Z'],
    ['2021-10-07 19:07:53 +0200', '2021-10-07T17:07:53.000Z'],
    ['next tuesday', undefined],
    [undefined, undefined],
  ])('parses the expiry header %s', (header, iso) => {
    expect(parseExpiry(header)?.toISOString()).toBe(iso);
  });
});

describe('Home Assistant: GET {url}/api/', () => {
  it.each<[string, Reply, Expect]>([
    ['running, token accepted', { body: { message: 'API running.' } }, { status: 'ok', message: /API running/ }],
    ['revoked token', { status: 401, statusText: 'Unauthorized', body: '401: Unauthorized' }, { status: 'rejected', message: /Home Assistant rejected the token \(HTTP 401 Unauthorized\)/ }],
    ['address banned', { status: 403, statusText: 'Forbidden', body: '403: Forbidden' }, { status: 'rejected', message: /banned/ }],
    ['wrong url', { status: 404, body: '404: Not Found' }, { status: 'unexpected', message: /no Home Assistant API/ }],
    ['another JSON API', { body: { message: 'hello' } }, { status: 'unexpected', message: /not with Home Assistant's "API running."/ }],
    ['malformed body', { body: 'API running.' }, { status: 'unexpected', message: /API running/ }],
    ['server error', { status: 502, body: 'Bad Gateway' }, { status: 'unexpected', message: /HTTP 502/ }],
  ])('%s', async (_name, reply, want) => {
    const s = await serve(() => reply);
    check(await hass.verify!({ token: HASS_TOKEN, url: s.url }, ctx), want);
    expect(s.received.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /api/']);
    expect(authHeaders(s)).toEqual([`Bearer ${HASS_TOKEN}`]);
  });

  it('joins a url with a path prefix and a trailing slash', async () => {
    const s = await serve(() => ({ body: { message: 'API running.' } }));
    const outcome = await hass.verify!({ token: HASS_TOKEN, url: `${s.url}/ha/` }, ctx);
    expect(outcome.status).toBe('ok');
    expect(s.received[0]!.path).toBe('/ha/api/');
  });
});

describe('WikiJS: POST {url}/graphql', () => {
  const gqlError = (message: string, status = 500): Reply => ({ status, body: { data: {}, errors: [{ message, path: [] }] } });
  it.each<[string, Reply, Expect]>([
    ['key accepted', { body: { data: { users: { profile: { id: 1 } } } } }, { status: 'ok', message: /API key is accepted/ }],
    ['API disabled', gqlError('API is disabled. You must enable it from the Administration Area first.'), { status: 'rejected', message: /API is disabled: enable it under Administration → API Access/ }],
    ['key revoked', gqlError('API Key is invalid or was revoked.'), { status: 'rejected', message: /invalid or was revoked: create a new key/ }],
    [
      'key not signed by this wiki (guest)',
      { body: { data: { users: { profile: null } }, errors: [{ message: 'You must be authenticated to access this resource.', path: ['users', 'profile'], extensions: { exception: { code: 1019 } } }] } },
      { status: 'rejected', message: /treated the key as a guest/ },
    ],
    ['other GraphQL error', gqlError('Something \u001b[31mred\u001b[0m broke', 200), { status: 'unexpected', message: /answered with an error: Something \[31mred \[0m broke$/ }],
    ['behind an auth proxy', { status: 401, statusText: 'Unauthorized', body: 'no' }, { status: 'rejected', message: /HTTP 401/ }],
    ['malformed body', { body: '<!DOCTYPE html><title>Wiki.js</title>' }, { status: 'unexpected', message: /did not answer like WikiJS/ }],
    ['not found', { status: 404, body: 'Not Found' }, { status: 'unexpected', message: /HTTP 404/ }],
  ])('%s', async (_name, reply, want) => {
    const s = await serve(() => reply);
    check(await wikijs.verify!({ token: WIKIJS_TOKEN, url: s.url }, ctx), want);
    expect(s.received.map((r) => `${r.method} ${r.path}`)).toEqual(['POST /graphql']);
    expect(authHeaders(s)).toEqual([`Bearer ${WIKIJS_TOKEN}`]);
    expect(JSON.parse(s.received[0]!.body)).toEqual({ query: WIKIJS_QUERY });
    expect(s.received[0]!.headers['content-type']).toBe('application/json');
  });
});

describe('Proxmox: GET https://{host}/api2/json/version, then /access/permissions', () => {
  let certs: TestCerts;
  beforeAll(() => {
    certs = makeCerts();
  });
  afterAll(() => certs.cleanup());

  const version: Reply = { body: { data: { version: '8.2.4', release: '8.2', repoid: 'faa83925c9641325' } } };
  const perms = (data: unknown): Reply => ({ body: { data } });
  const routes = (v: Reply, p: Reply) => (path: string) => (path === '/api2/json/version' ? v : p);

  it.each<[string, Reply, Reply, Expect, number]>([
    ['token with privileges', version, perms({ '/': { 'Sys.Audit': 1, 'VM.Audit': 1 }, '/vms': { 'VM.Console': 1 } }), { status: 'ok', message: /Proxmox VE 8\.2\.4 · token mcp@pve!verify · 3 privileges/, details: { version: '8.2.4', tokenId: 'mcp@pve!verify', privileges: 3 } }, 2],
    ['token without privileges', version, perms({}), { status: 'ok', message: /0 privileges/, details: { privileges: 0 }, warning: /no privileges: .*API Token Permission/ }, 2],
    ['permissions unreadable', version, { status: 403, body: { data: null } }, { status: 'ok', message: /8\.2\.4/, details: { privileges: null }, warning: /could not read the token permissions/ }, 2],
    ['revoked token', { status: 401, statusText: 'invalid token value!', body: { data: null } }, perms({}), { status: 'rejected', message: /Proxmox rejected the token \(HTTP 401 invalid token value!\)/ }, 1],
    ['malformed body', { body: '<html>pve</html>' }, perms({}), { status: 'unexpected', message: /not with a Proxmox VE version/ }, 1],
    ['not Proxmox', { status: 404, body: 'Not Found' }, perms({}), { status: 'unexpected', message: /HTTP 404/ }, 1],
  ])('%s', async (_name, v, p, want, requests) => {
    const s = await serve(routes(v, p), certs.selfSigned);
    const values = { token: PROXMOX_TOKEN, host: s.host, user: 'mcp@pve', fingerprint: certs.selfSigned.fingerprint };
    check(await proxmox.verify!(values, ctx), want);
    expect(s.received.map((r) => r.path)).toEqual(['/api2/json/version', '/api2/json/access/permissions'].slice(0, requests));
    expect(authHeaders(s)).toEqual(Array(requests).fill(PROXMOX_TOKEN));
  });

  it.each<[string, (c: TestCerts) => Record<string, string>, 'selfSigned' | 'caSigned', Expect['status']]>([
    ['self-signed, no pin, no CA → tls', () => ({}), 'selfSigned', 'tls'],
    ['self-signed, right pin → ok', (c) => ({ fingerprint: c.selfSigned.fingerprint }), 'selfSigned', 'ok'],
    ['self-signed, wrong pin → tls', () => ({ fingerprint: Array(32).fill('AB').join(':') }), 'selfSigned', 'tls'],
    ['CA-signed, CA file → ok', (c) => ({ ca: c.caFile }), 'caSigned', 'ok'],
    ['CA-signed, unrelated CA file → tls', (c) => ({ ca: c.otherCaFile }), 'caSigned', 'tls'],
  ])('trust: %s, and the token only reaches a trusted server', async (_name, trust, cert, status) => {
    const s = await serve(routes(version, perms({ '/': { 'Sys.Audit': 1 } })), certs[cert]);
    const outcome = await proxmox.verify!({ token: PROXMOX_TOKEN, host: s.host, user: 'mcp@pve', ...trust(certs) }, ctx);
    expect(outcome.status).toBe(status);
    expect(authHeaders(s)).toEqual(status === 'ok' ? [PROXMOX_TOKEN, PROXMOX_TOKEN] : []);
  });

  it('warns when the token belongs to another user than the stored one', async () => {
    const s = await serve(routes(version, perms({ '/': { 'Sys.Audit': 1 } })), certs.selfSigned);
    const outcome = await proxmox.verify!({ token: PROXMOX_TOKEN, host: s.host, user: 'root@pam', fingerprint: certs.selfSigned.fingerprint }, ctx);
    expect(outcome.warnings).toEqual(['the token belongs to mcp@pve but the stored user is root@pam']);
  });

  it.each([
    ['pve.example.com', 'https://pve.example.com:8006'],
    ['pve.example.com:8443', 'https://pve.example.com:8443'],
    ['10.0.0.2', 'https://10.0.0.2:8006'],
    ['fd00::2', 'https://[fd00::2]:8006'],
    ['[fd00::2]', 'https://[fd00::2]:8006'],
    ['[fd00::2]:8443', 'https://[fd00::2]:8443'],
  ])('host %s → %s', (host, base) => {
    expect(proxmoxBaseUrl(host)).toBe(base);
  });

  it.each([
    [PROXMOX_TOKEN, 'mcp@pve!verify'],
    ['PVEAPIToken=root@pam!a.b-c=cafe0123-4567-89ab-cdef-0123456789ab', 'root@pam!a.b-c'],
    ['garbage', undefined],
  ])('token id of %s', (token, id) => {
    expect(proxmoxTokenId(token)).toBe(id);
  });
});
