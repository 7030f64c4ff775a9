import { describe, expect, it } from 'vitest';
import { formatVerifyTable } from '../../src/verify/report.js';
import type { ServiceReport } from '../../src/verify/run.js';

function report(over: Partial<ServiceReport>): ServiceReport {
  return {
    service: 'github',
    title: 'GitHub',
    ok: true,
    status: 'ok',
    message: 'authenticated as octocat',
    fields: [],
    live: { status: 'ok', message: 'authenticated as octocat' },
    storedAt: null,
    ageDays: null,
    expiresAt: null,
    expiresInDays: null,
    warnings: [],
    checkedAt: '2030-01-01T00:00:00.000Z',
    ...over,
  };
}

const reports: ServiceReport[] = [
  report({ ageDays: 120, storedAt: '2029-09-03T00:00:00.000Z', warnings: ['rotation due: stored 120 days ago (rotate every 90 days)'] }),
  report({
    service: 'hass',
    title: 'Home Assistant',
    ok: false,
    status: 'missing',
    message: 'missing url',
    fields: [{ key: 'url', status: 'missing', message: 'mcp-tokens store hass url <your_hass_url>' }],
  }),
  report({ service: 'proxmox', ok: false, status: 'unreachable', message: '10.0.0.2:8006: connection refused' }),
  report({ service: 'wikijs', ok: false, status: 'expired', message: 'the token expired on 2029-12-29', expiresAt: '2029-12-29T00:00:00.000Z', expiresInDays: -3 }),
  report({ service: 'my-svc', status: 'skipped', message: 'no live check for my-svc' }),
];

describe('formatVerifyTable', () => {
  const plain = formatVerifyTable(reports, { color: false });
  const lines = plain.split('\n');

  it('has a header and one aligned row per service, in order', () => {
    expect(lines[0]).toBe('SERVICE  STATUS       RESULT');
    const rows = lines.filter((l) => /^[a-z]/.test(l));
    expect(rows.map((l) => l.split(/\s+/)[0])).toEqual(['github', 'hass', 'proxmox', 'wikijs', 'my-svc']);
    // The RESULT column starts at the same offset in every row.
    expect(new Set(rows.map((l, i) => l.indexOf(reports[i]!.message))).size).toBe(1);
  });

  it.each([
    ['a warning', '  warning: rotation due: stored 120 days ago (rotate every 90 days)'],
    ['the fact line of age', '  stored 120 days ago'],
    ['what to run for a missing field', '  run: mcp-tokens store hass url <your_hass_url>'],
    ['an expiry', '  expired 2029-12-29'],
    ['the summary', '5 services: 1 ok, 3 failed, 1 skipped (not checked live), 1 with warnings'],
  ])('shows %s', (_what, line) => {
    expect(lines).toContain(line);
  });

  it('ends with a newline and holds no escape codes without colour', () => {
    expect(plain.endsWith('\n')).toBe(true);
    expect(plain).not.toContain('\x1b');
  });

  it.each([
    ['github', '\x1b[33m'], // ok with warnings: yellow
    ['hass', '\x1b[31m'], // failed: red
    ['my-svc', '\x1b[2m'], // skipped: dim
  ])('colours the status of %s', (service, code) => {
    const colored = formatVerifyTable(reports, { color: true });
    const row = colored.split('\n').find((l) => l.startsWith(service))!;
    expect(row).toContain(`${code}`);
    // Colour changes no text: stripping the codes gives the plain table.
    expect(colored.replace(/\x1b\[[0-9;]*m/g, '')).toBe(plain);
  });

  it('counts skipped live checks apart from ok: every row skipped is not "8 ok"', () => {
    const skipped = Array.from({ length: 8 }, (_, i) => report({ service: `svc-${i}`, status: 'skipped', message: 'offline: live check skipped' }));
    expect(formatVerifyTable(skipped, { color: false })).toContain('8 services: 0 ok, 0 failed, 8 skipped (not checked live)');
  });

  it('says so in green when everything passed', () => {
    const out = formatVerifyTable([report({})], { color: true });
    expect(out).toContain('\x1b[32m1 service: 1 ok, 0 failed\x1b[0m');
  });
});
