import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { github } from '../../src/services/github.js';
import { hass } from '../../src/services/hass.js';
import { serviceSpec } from '../../src/services/index.js';
import { proxmox } from '../../src/services/proxmox.js';
import { wikijs } from '../../src/services/wikijs.js';
import { formatVerifyTable } from '../../src/verify/report.js';
import { verifyAll, type ServiceReport, type VerifyItem } from '../../src/verify/run.js';
import { makeCerts, type TestCerts } from './certs.js';
import { authHeaders, startServer, type Route, type TestServer } from './servers.js';
import { CANARY, GITHUB_TOKEN, HASS_TOKEN, jwt, PROXMOX_TOKEN, PROXMOX_UUID, WIKIJS_TOKEN } from './tokens.js';

const NOW = new Date('2030-01-01T00:00:00Z');
const DAY = 86_400_000;
const daysAgo = (n: number): Date => new Date(NOW.getTime() - n * DAY);
const opts = { timeoutMs: 2000, offline: false, now: NOW };

let servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});
async function serve(route: Route, tls?: { key: string; cert: string }): Promise<TestServer> {
  const s = await startServer(route, tls);
  servers.push(s);
  return s;
}
const hassOk: Route = () => ({ body: { message: 'API running.' } });
const only = async (item: VerifyItem, o = opts): Promise<ServiceReport> => (await verifyAll([item], o))[0]!;

describe('verifyAll: stored values first', () => {
  it.each<[string, (url: string) => VerifyItem, Partial<ServiceReport>, RegExp]>([
    ['a mistyped GitHub token', (url) => ({ spec: github, values: { token: 'ghp_short', api: url } }), { status: 'bad-format', ok: false }, /^token: Invalid GitHub token format: expected ghp_/],
    ['a Home Assistant without url', () => ({ spec: hass, values: { token: HASS_TOKEN } }), { status: 'missing', ok: false }, /^missing url$/],
    ['a Proxmox pin of the wrong shape', (url) => ({ spec: proxmox, values: { token: PROXMOX_TOKEN, host: new URL(url).host, user: 'mcp@pve', fingerprint: 'AA:BB' } }), { status: 'bad-format', ok: false }, /^fingerprint: Invalid fingerprint format/],
    ['a key GitHub does not have', (url) => ({ spec: github, values: { token: GITHUB_TOKEN, api: url, foo: 'bar' } }), { status: 'bad-format', ok: false }, /^foo: Unknown key 'foo' for GitHub/],
    ['an url with a query string', (url) => ({ spec: hass, values: { token: HASS_TOKEN, url: `${url}/?x=1` } }), { status: 'bad-format', ok: false }, /^url: Invalid URL format/],
  ])('%s: reported, and nothing is sent to the service', async (_name, item, want, message) => {
    const s = await serve(hassOk);
    const report = await only(item(s.url));
    expect(report).toMatchObject({ ...want, live: { status: 'skipped' } });
    expect(report.message).toMatch(message);
    expect(s.received).toHaveLength(0);
  });

  it('says what to run for each missing field', async () => {
    const report = await only({ spec: proxmox, values: { token: PROXMOX_TOKEN } });
    expect(report.fields.filter((f) => f.status === 'missing')).toEqual([
      { key: 'host', status: 'missing', message: 'mcp-tokens store proxmox host your.proxmox.host' },
      { key: 'user', status: 'missing', message: 'mcp-tokens store proxmox user root@pam' },
    ]);
  });

  it('passes on the checksum warning of a mistyped-looking classic token and still checks it live', async () => {
    const typo = `${GITHUB_TOKEN.slice(0, -1)}${GITHUB_TOKEN.endsWith('a') ? 'b' : 'a'}`;
    const s = await serve(() => ({ body: { login: 'octocat' } }));
    const report = await only({ spec: github, values: { token: typo, api: s.url } });
    expect(report.status).toBe('ok');
    expect(report.warnings).toContain('this GitHub token may be mistyped: its built-in checksum does not match');
  });
});

describe('verifyAll: offline facts', () => {
  it('offline: nothing is contacted and every well-formed service passes as skipped', async () => {
    const s = await serve(hassOk);
    const reports = await verifyAll(
      [
        { spec: github, values: { token: GITHUB_TOKEN, api: s.url } },
        { spec: hass, values: { token: HASS_TOKEN, url: s.url } },
        { spec: wikijs, values: { token: WIKIJS_TOKEN, url: s.url } },
      ],
      { ...opts, offline: true },
    );
    expect(reports.map((r) => [r.service, r.status, r.ok, r.message])).toEqual([
      ['github', 'skipped', true, 'offline: live check skipped'],
      ['hass', 'skipped', true, 'offline: live check skipped'],
      ['wikijs', 'skipped', true, 'offline: live check skipped'],
    ]);
    expect(s.received).toHaveLength(0);
  });

  it.each<[string, number | undefined, number | null, boolean]>([
    ['stored 91 days ago', 91, 91, true],
    ['stored exactly 90 days ago', 90, 90, false],
    ['stored yesterday', 1, 1, false],
    ['no storedAt known', undefined, null, false],
  ])('%s → ageDays %s, rotation due: %s', async (_n, days, ageDays, due) => {
    const report = await only(
      { spec: hass, values: { token: HASS_TOKEN, url: 'http://127.0.0.1:1' }, storedAt: days === undefined ? undefined : daysAgo(days) },
      { ...opts, offline: true },
    );
    expect(report.ageDays).toBe(ageDays);
    expect(report.warnings.some((w) => w.startsWith('rotation due'))).toBe(due);
    expect(report.ok).toBe(true);
  });

  it.each<[string, number | undefined, Partial<ServiceReport>, RegExp | undefined]>([
    ['expired 3 days ago', -3, { status: 'expired', ok: false, expiresInDays: -3, message: 'the token expired on 2029-12-29' }, undefined],
    ['expiring in 5 days', 5, { status: 'skipped', ok: true, expiresInDays: 5, expiresAt: '2030-01-06T00:00:00.000Z' }, /the token expires in 5 days \(2030-01-06\)/],
    ['expiring in a year', 365, { status: 'skipped', ok: true, expiresInDays: 365 }, undefined],
    ['without exp', undefined, { status: 'skipped', ok: true, expiresAt: null, expiresInDays: null }, undefined],
  ])('a JWT %s (read offline)', async (_n, days, want, warning) => {
    const exp = days === undefined ? undefined : (NOW.getTime() + days * DAY) / 1000;
    const token = jwt(exp === undefined ? { iss: 'x' } : { iss: 'x', exp });
    const report = await only({ spec: wikijs, values: { token, url: 'http://127.0.0.1:1' } }, { ...opts, offline: true });
    expect(report).toMatchObject(want);
    if (warning) expect(report.warnings.join('\n')).toMatch(warning);
    else expect(report.warnings).toEqual([]);
  });

  it('a live rejection wins over the offline expiry in the status', async () => {
    const s = await serve(() => ({ status: 401, body: '401: Unauthorized' }));
    const token = jwt({ exp: (NOW.getTime() - DAY) / 1000 });
    const report = await only({ spec: hass, values: { token, url: s.url } });
    expect(report).toMatchObject({ status: 'rejected', ok: false, expiresInDays: -1 });
  });

  it('a user-defined service has no live check and passes as skipped', async () => {
    const report = await only({ spec: serviceSpec('my-svc', ['api-key']), values: { 'api-key': 'anything-goes' } });
    expect(report).toMatchObject({ service: 'my-svc', status: 'skipped', ok: true, message: 'no live check for my-svc' });
  });
});

describe('verifyAll: live checks', () => {
  it('runs the services concurrently, each within its own timeout', async () => {
    const slow = (ms: number): Route => () => ({ body: { message: 'API running.' }, delayMs: ms });
    const [a, b, c] = await Promise.all([serve(slow(1500)), serve(slow(1500)), serve(slow(10_000))]);
    const start = Date.now();
    const reports = await verifyAll(
      [a!, b!, c!].map((s) => ({ spec: hass, values: { token: HASS_TOKEN, url: s.url } })),
      { ...opts, timeoutMs: 2500 },
    );
    const elapsed = Date.now() - start;
    expect(reports.map((r) => r.status)).toEqual(['ok', 'ok', 'unreachable']);
    expect(reports[2]!.message).toMatch(/no answer within 2\.5 s/);
    // Concurrent: about 2500 ms (the slowest's timeout). Sequential would take 1500 + 1500 + 2500 ms;
    // the margin either side is two seconds, for a loaded machine.
    expect(elapsed).toBeLessThan(4500);
  });

  it('reports are JSON-serialisable and keep their shape through JSON', async () => {
    const s = await serve(hassOk);
    const reports = await verifyAll([{ spec: hass, values: { token: HASS_TOKEN, url: s.url }, storedAt: daysAgo(10) }], opts);
    expect(JSON.parse(JSON.stringify(reports))).toEqual(reports);
    expect(reports[0]).toMatchObject({ service: 'hass', title: 'Home Assistant', status: 'ok', ok: true, storedAt: daysAgo(10).toISOString(), checkedAt: NOW.toISOString() });
  });
});

describe('no credential in any report, even when a server echoes it', () => {
  let certs: TestCerts;
  beforeAll(() => {
    certs = makeCerts();
  });
  afterAll(() => certs.cleanup());

  it('JSON and table output hold none of the four tokens', async () => {
    const echo = (req: { headers: { authorization?: string | undefined } }) => req.headers.authorization ?? '';
    const gh = await serve((req) => ({ body: { login: echo(req) }, headers: { 'X-OAuth-Scopes': echo(req) } }));
    const ha = await serve((req) => ({ status: 401, statusText: `bad ${echo(req)}`, body: echo(req) }));
    const wiki = await serve((req) => ({ status: 500, body: { data: {}, errors: [{ message: `unknown key ${echo(req)}` }] } }));
    const pve = await serve((req) => ({ status: 401, statusText: `no such token ${echo(req).split('=').pop()}`, body: { data: null } }), certs.selfSigned);

    const reports = await verifyAll(
      [
        { spec: github, values: { token: GITHUB_TOKEN, api: gh.url } },
        { spec: hass, values: { token: HASS_TOKEN, url: ha.url } },
        { spec: wikijs, values: { token: WIKIJS_TOKEN, url: wiki.url } },
        { spec: proxmox, values: { token: PROXMOX_TOKEN, host: pve.host, user: 'mcp@pve', fingerprint: certs.selfSigned.fingerprint } },
      ],
      opts,
    );
    // The servers really were sent the tokens, and really did echo them.
    expect([...authHeaders(gh), ...authHeaders(ha), ...authHeaders(wiki), ...authHeaders(pve)]).toEqual([
      `Bearer ${GITHUB_TOKEN}`,
      `Bearer ${HASS_TOKEN}`,
      `Bearer ${WIKIJS_TOKEN}`,
      PROXMOX_TOKEN,
    ]);
    const json = JSON.stringify(reports);
    const table = formatVerifyTable(reports, { color: true });
    expect(json).toContain('[redacted]');
    for (const out of [json, table]) {
      for (const secret of [CANARY, GITHUB_TOKEN, HASS_TOKEN, WIKIJS_TOKEN, PROXMOX_TOKEN, PROXMOX_UUID]) expect(out).not.toContain(secret);
      // Not even a piece of one: quoting a server cuts long text, and a cut-off prefix is a leak too.
      for (const secret of [GITHUB_TOKEN, HASS_TOKEN, WIKIJS_TOKEN, PROXMOX_UUID]) {
        for (let i = 0; i + 12 <= secret.length; i++) expect(out).not.toContain(secret.slice(i, i + 12));
      }
    }
    // What the servers said around the tokens survives the scrubbing.
    expect(json).toContain('HTTP 401 no such token [redacted]');
    expect(json).toContain('authenticated as Bearer [redacted]');
  });
});
