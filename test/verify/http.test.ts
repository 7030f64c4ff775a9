import { createServer, type AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isLoopback, MAX_REDIRECTS, plainHttpWarning, request } from '../../src/verify/http.js';
import { makeCerts, type TestCerts } from './certs.js';
import { authHeaders, startServer, type TestServer } from './servers.js';

const AUTH = 'Bearer test-secret-value';
let servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});
async function serve(...args: Parameters<typeof startServer>): Promise<TestServer> {
  const s = await startServer(...args);
  servers.push(s);
  return s;
}
const get = (url: string, extra: Partial<Parameters<typeof request>[0]> = {}) =>
  request({ method: 'GET', url, headers: { authorization: AUTH }, timeoutMs: 2000, ...extra });

/** A port with nothing listening: bind one, note it, close it. */
async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as AddressInfo;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

describe('request: answers and failures', () => {
  it('returns status, lower-case headers and parsed JSON, and sends the headers it was given', async () => {
    const s = await serve(() => ({ body: { hello: 'world' }, headers: { 'X-Thing': '42' } }));
    const r = await get(`${s.url}/path?q=1`);
    expect(r.ok && r.response.status).toBe(200);
    expect(r.ok && r.response.json).toEqual({ hello: 'world' });
    expect(r.ok && r.response.headers['x-thing']).toBe('42');
    expect(s.received.map((x) => x.path)).toEqual(['/path?q=1']);
    expect(authHeaders(s)).toEqual([AUTH]);
  });

  it('leaves json undefined for a body that is not JSON', async () => {
    const s = await serve(() => ({ body: '<html>not json' }));
    const r = await get(s.url);
    expect(r.ok && r.response.body).toBe('<html>not json');
    expect(r.ok && r.response.json).toBeUndefined();
  });

  it('sends a POST body with its length', async () => {
    const s = await serve(() => ({ body: {} }));
    await request({ method: 'POST', url: s.url, headers: { 'content-type': 'application/json' }, body: '{"a":1}', timeoutMs: 2000 });
    expect(s.received[0]).toMatchObject({ method: 'POST', body: '{"a":1}' });
    expect(s.received[0]!.headers['content-length']).toBe('7');
  });

  it.each([
    ['connection refused', async () => `http://127.0.0.1:${await freePort()}/`, 'unreachable', /connection refused/],
    ['unresolvable host', async () => 'http://no-such-host.invalid/', 'unreachable', /resolve|request failed/],
  ])('%s → %s', async (_name, makeUrl, kind, message) => {
    const r = await get(await makeUrl());
    expect(r.ok).toBe(false);
    expect(!r.ok && r.kind).toBe(kind);
    expect(!r.ok && r.message).toMatch(message);
  });

  it('a server slower than the timeout is unreachable (timeout), and the wait is bounded', async () => {
    const s = await serve(() => ({ body: {}, delayMs: 8000 }));
    const start = Date.now();
    const r = await get(s.url, { timeoutMs: 300 });
    // Unbounded, the wait would be the server's 8 s.
    expect(Date.now() - start).toBeLessThan(5000);
    expect(!r.ok && r.kind).toBe('unreachable');
    expect(!r.ok && r.message).toMatch(/no answer within 0\.3 s/);
  });

  it('an aborted signal cancels the request', async () => {
    const s = await serve(() => ({ body: {}, delayMs: 3000 }));
    const ctl = new AbortController();
    setTimeout(() => ctl.abort(), 100);
    const r = await get(s.url, { signal: ctl.signal });
    expect(!r.ok && r.message).toMatch(/cancelled/);
  });

  it('an answer larger than the cap is unexpected', async () => {
    const s = await serve(() => ({ body: 'x'.repeat(5000) }));
    const r = await get(s.url, { maxBytes: 1000 });
    expect(!r.ok && r.kind).toBe('unexpected');
    expect(!r.ok && r.message).toMatch(/larger than 1000 bytes/);
  });
});

describe('request: redirects', () => {
  it('follows a same-origin redirect of a GET, with the token, and reports the final URL', async () => {
    const s = await serve((req) => (req.path === '/old' ? { status: 301, headers: { location: '/new' } } : { body: { at: req.path } }));
    const r = await get(`${s.url}/old`);
    expect(r.ok && r.response.json).toEqual({ at: '/new' });
    expect(r.ok && r.response.url).toBe(`${s.url}/new`);
    expect(authHeaders(s)).toEqual([AUTH, AUTH]);
  });

  it.each([301, 302, 303, 307, 308])('never follows a %i to another origin: the other server receives nothing', async (status) => {
    const other = await serve(() => ({ body: { stolen: true } }));
    const s = await serve(() => ({ status, headers: { location: `${other.url}/collect` } }));
    const r = await get(`${s.url}/api/`);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.kind).toBe('unexpected');
    expect(!r.ok && r.message).toContain(`another origin (${other.url})`);
    expect(other.received).toHaveLength(0);
    expect(authHeaders(s)).toEqual([AUTH]);
  });

  it('treats a change of scheme or port on the same host as another origin', async () => {
    const s = await serve(() => ({ status: 302, headers: { location: 'https://127.0.0.1:1/x' } }));
    const r = await get(s.url);
    expect(!r.ok && r.message).toMatch(/another origin/);
  });

  it(`gives up after ${MAX_REDIRECTS} same-origin redirects`, async () => {
    const s = await serve(() => ({ status: 302, headers: { location: '/again' } }));
    const r = await get(s.url);
    expect(!r.ok && r.message).toMatch(/more than 3 redirects/);
    expect(s.received).toHaveLength(MAX_REDIRECTS + 1);
  });

  it('does not re-send a POST to a redirect target', async () => {
    const s = await serve(() => ({ status: 307, headers: { location: '/elsewhere' } }));
    const r = await request({ method: 'POST', url: s.url, headers: {}, body: '{}', timeoutMs: 2000 });
    expect(!r.ok && r.kind).toBe('unexpected');
    expect(s.received).toHaveLength(1);
  });
});

describe('request: TLS trust', () => {
  let certs: TestCerts;
  beforeAll(() => {
    certs = makeCerts();
  });
  afterAll(() => certs.cleanup());

  it('refuses a self-signed certificate without a pin, before any request is sent', async () => {
    const s = await serve(() => ({ body: {} }), certs.selfSigned);
    const r = await get(s.url);
    expect(!r.ok && r.kind).toBe('tls');
    expect(!r.ok && r.message).toMatch(/self-signed/);
    expect(s.received).toHaveLength(0);
  });

  it.each([
    ['as stored (AA:BB:…)', (fp: string) => fp],
    ['lower case without colons', (fp: string) => fp.replace(/:/g, '').toLowerCase()],
  ])('accepts the pinned fingerprint %s and then sends the token', async (_n, form) => {
    const s = await serve(() => ({ body: { ok: 1 } }), certs.selfSigned);
    const r = await get(s.url, { tls: { fingerprint: form(certs.selfSigned.fingerprint) } });
    expect(r.ok && r.response.json).toEqual({ ok: 1 });
    expect(authHeaders(s)).toEqual([AUTH]);
  });

  it('with a wrong pin: fails as tls after connecting, and the server never sees the token', async () => {
    const s = await serve(() => ({ body: {} }), certs.selfSigned);
    const wrong = certs.selfSigned.fingerprint.replace(/^../, (b) => (b === 'AA' ? 'BB' : 'AA'));
    const r = await get(s.url, { tls: { fingerprint: wrong } });
    expect(!r.ok && r.kind).toBe('tls');
    expect(!r.ok && r.message).toContain(`presented ${certs.selfSigned.fingerprint}`);
    expect(s.connections()).toBe(1);
    expect(s.received).toHaveLength(0);
  });

  it('a CA file trusts the certificates that CA signed', async () => {
    const s = await serve(() => ({ body: { ok: 1 } }), certs.caSigned);
    const r = await get(s.url, { tls: { caFile: certs.caFile } });
    expect(r.ok && r.response.json).toEqual({ ok: 1 });
    expect(authHeaders(s)).toEqual([AUTH]);
  });

  it.each([
    ['no CA file (system trust only)', () => undefined, /not trusted/],
    ['an unrelated CA file', () => certs.otherCaFile, /not trusted/],
    ['a CA file that does not exist', () => `${certs.dir}/missing.pem`, /cannot read the CA file .*ENOENT/],
  ])('a CA-signed server fails as tls with %s', async (_n, caFile, message) => {
    const s = await serve(() => ({ body: {} }), certs.caSigned);
    const r = await get(s.url, { tls: { caFile: caFile() } });
    expect(!r.ok && r.kind).toBe('tls');
    expect(!r.ok && r.message).toMatch(message);
    expect(s.received).toHaveLength(0);
  });

  it('a CA file does not trust a self-signed certificate it did not sign', async () => {
    const s = await serve(() => ({ body: {} }), certs.selfSigned);
    const r = await get(s.url, { tls: { caFile: certs.caFile } });
    expect(!r.ok && r.kind).toBe('tls');
    expect(s.received).toHaveLength(0);
  });
});

describe('plain-http warning', () => {
  it.each([
    ['http://127.0.0.1:8123', true, false],
    ['http://127.8.9.10/', true, false],
    ['http://localhost:3000', true, false],
    ['http://[::1]:8123', true, false],
    ['http://homeassistant.local:8123', true, true],
    ['http://10.0.0.5', true, true],
    ['http://[fd00::5]:80', true, true],
    ['http://127.0.0.1.example.com', true, true],
    ['https://example.com', true, false],
    ['http://example.com', false, false],
  ])('%s (token sent: %s) → warning: %s', (url, withToken, warns) => {
    const headers: Record<string, string> = withToken ? { Authorization: 'Bearer x' } : {};
    const w = plainHttpWarning(new URL(url), headers);
    expect(w !== undefined).toBe(warns);
    if (w) expect(w).toContain(new URL(url).host);
  });

  it('is attached to the result of a real request to a non-loopback address', async () => {
    const r = await get(`http://no-such-host.invalid:1/`, { timeoutMs: 500 });
    expect(r.warnings.join()).toMatch(/plain http to no-such-host\.invalid:1/);
  });

  it.each([
    ['127.0.0.1', true],
    ['localhost', true],
    ['[::1]', true],
    ['::1', true],
    ['128.0.0.1', false],
    ['localhost.evil.com', false],
  ])('isLoopback(%s) = %s', (host, expected) => {
    expect(isLoopback(host)).toBe(expected);
  });
});
