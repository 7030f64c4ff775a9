/**
 * The verify scrubber against a hostile server: a token echoed with control, zero-width, bidi or
 * whitespace characters inside it, or only a 12-character piece of it, is still redacted; what
 * the server said around it survives.
 */
import { describe, expect, it } from 'vitest';
import { MIN_ECHO_RUN, REDACTED, redactReport, scrubber } from '../../src/verify/redact.js';
import { safeText, tokenScrub } from '../../src/verify/common.js';
import { formatVerifyTable } from '../../src/verify/report.js';
import type { ServiceReport } from '../../src/verify/run.js';
import { githubClassic, proxmoxToken } from '../helpers/cli.js';

const TOKEN = githubClassic();
/** Insert `sep` after every `every` characters. */
const split = (s: string, sep: string, every = 3): string => s.match(new RegExp(`.{1,${every}}`, 'gsu'))!.join(sep);
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\s]/gu;

/** Neither the token nor any 12-character piece of it, even once the invisible characters are gone. */
function expectNoEcho(out: string, secret = TOKEN): void {
  const seen = out.replace(INVISIBLE, '');
  expect(seen).not.toContain(secret);
  for (let i = 0; i + MIN_ECHO_RUN <= secret.length; i++) expect(seen).not.toContain(secret.slice(i, i + MIN_ECHO_RUN));
}

describe('scrubber', () => {
  const scrub = tokenScrub(TOKEN);

  it.each([
    ['\\u0001', '\u0001'],
    ['\\n', '\n'],
    ['\\r\\n', '\r\n'],
    ['ESC', '\u001b'],
    ['DEL', '\u007f'],
    ['C1 CSI', '\u009b'],
    ['zero-width space', '\u200b'],
    ['zero-width joiner', '\u200d'],
    ['word joiner', '\u2060'],
    ['soft hyphen', '\u00ad'],
    ['bidi override', '\u202e'],
    ['BOM', '\ufeff'],
    ['line separator', '\u2028'],
    ['tab', '\t'],
    ['space', ' '],
  ])('redacts the token split by %s', (_, sep) => {
    for (const every of [1, 5, 11]) {
      const out = scrub(`Bad credentials for ${split(TOKEN, sep, every)} (see docs)`);
      expect(out).toBe(`Bad credentials for ${REDACTED} (see docs)`);
      expectNoEcho(out);
    }
  });

  it('redacts a token split by a mix of them, and by a run of several', () => {
    const seps = ['\u0001', '\u200b', '\n\u200c', '', '\u00ad\u0007'];
    const mixed = [...TOKEN].map((c, i) => (i ? seps[i % seps.length]! : '') + c).join('');
    expectNoEcho(scrub(`x ${mixed} y`));
    expect(scrub(`x ${mixed} y`)).toBe(`x ${REDACTED} y`);
  });

  it(`redacts an echoed run of ${MIN_ECHO_RUN}+ consecutive characters of a secret`, () => {
    const piece = TOKEN.slice(7, 7 + MIN_ECHO_RUN);
    // (Punctuation around the pieces: a letter next to one could be the token's next letter.)
    expect(scrub(`token ends with: ${piece}!`)).toBe(`token ends with: ${REDACTED}!`);
    expect(scrub(`two: ${TOKEN.slice(0, 14)} & ${split(TOKEN.slice(20), '\u200b', 2)}.`)).toBe(`two: ${REDACTED} & ${REDACTED}.`);
    // One character short of a run is left: a prefix like "ghp_" alone is not the secret.
    const shorter = TOKEN.slice(0, MIN_ECHO_RUN - 1);
    expect(scrub(`prefix: ${shorter}`)).toBe(`prefix: ${shorter}`);
  });

  it.each([
    ['upper case', (t: string) => t.toUpperCase()],
    ['lower case', (t: string) => t.toLowerCase()],
    ['swapped case', (t: string) => [...t].map((c) => (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase())).join('')],
    ['base64', (t: string) => Buffer.from(t).toString('base64')],
    ['base64url', (t: string) => Buffer.from(t).toString('base64url')],
    ['base64 of user:token (a Basic header), each alignment', (t: string) => ['u:', 'us:', 'use:'].map((u) => Buffer.from(u + t).toString('base64')).join(' / ')],
    ['hex', (t: string) => Buffer.from(t).toString('hex')],
    ['upper-case hex', (t: string) => Buffer.from(t).toString('hex').toUpperCase()],
    ['percent-encoded', (t: string) => encodeURIComponent(`${t}+/=`)],
  ])('redacts the token echoed in %s', (_, transform) => {
    const echoed = transform(TOKEN);
    const out = scrub(`401 Unauthorized: ${echoed} (bad)`);
    expect(out, out).not.toContain(echoed);
    expect(out).toContain(REDACTED);
    expect(out.toLowerCase()).not.toContain(TOKEN.slice(4, 4 + MIN_ECHO_RUN).toLowerCase());
    // Nothing of the encoded form long enough to decode a 12-character run survives either.
    expect(out.startsWith('401 Unauthorized: ') && out.endsWith(' (bad)')).toBe(true);
    const middle = out.slice('401 Unauthorized: '.length, -' (bad)'.length);
    for (const piece of middle.split(/[^A-Za-z0-9+/_%-]+/)) expect(piece.length).toBeLessThan(MIN_ECHO_RUN);
  });

  it('keeps ordinary text, and removes format characters from it', () => {
    expect(scrub('API running.')).toBe('API running.');
    expect(scrub('octo\u200bcat\nline two')).toBe('octocat\nline two');
    expect(scrubber([])('a\u200bb')).toBe('ab');
  });

  it('redacts the UUID of a Proxmox token on its own', () => {
    const pve = proxmoxToken();
    const uuid = pve.slice(pve.lastIndexOf('=') + 1);
    const out = tokenScrub(pve)(`no such token ${split(uuid, '\u0000', 4)}`);
    expect(out).toBe(`no such token ${REDACTED}`);
    expectNoEcho(out, uuid);
  });

  it('safeText scrubs first, then flattens what is left to one printable line', () => {
    const out = safeText(`\u001b[31mhi ${split(TOKEN, '\u0001\n', 2)}\u001b[0m\n\u202eevil`, scrub);
    expect(out).toBe(`[31mhi ${REDACTED} [0m evil`);
    expectNoEcho(out);
  });
});

describe('redactReport and the table', () => {
  it('a report quoting a split token prints neither the token nor a piece of it', () => {
    const echoed = split(TOKEN, '\u200b\u0001', 4);
    const report: ServiceReport = {
      service: 'github',
      title: 'GitHub',
      ok: true,
      status: 'ok',
      message: `authenticated as ${echoed}`,
      fields: [],
      live: { status: 'ok', message: `authenticated as ${echoed}`, details: { login: echoed } },
      storedAt: null,
      ageDays: null,
      expiresAt: null,
      expiresInDays: null,
      warnings: [`server says \u001b]0;title\u0007 ${echoed}`],
      checkedAt: '2030-01-01T00:00:00.000Z',
    };
    const clean = redactReport(report, [TOKEN]);
    const table = formatVerifyTable([clean], { color: false });
    for (const out of [JSON.stringify(clean), table]) expectNoEcho(out);
    expect(table).toContain(`authenticated as ${REDACTED}`);
    expect(table).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
  });
});
