/** What the agent accepts as associated data, and the line limit of its protocol (in-process). */
import { describe, expect, it } from 'vitest';
import { concat, entryAd, fileAd, vaultKeyAd } from '../../src/crypto/format.js';
import { describeAd, lineReader, MAX_LINE } from '../../src/agent/protocol.js';
import { isoTime } from '../../src/agent/server.js';

const te = new TextEncoder();
const u32 = (n: number) => new Uint8Array([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);

describe('describeAd', () => {
  it.each([
    ['entry', entryAd('entry', 'github', 'token'), 'entry github_token'],
    ['backup', entryAd('backup', 'hass', 'url'), 'backup hass_url'],
    ['instance entry', entryAd('entry', 'github@work', 'token'), 'entry github@work_token'],
    ['file backup', fileAd('run-1-abcd.file'), 'file run-1-abcd.file'],
    ["migrate's file backup", fileAd('20261201T124332718Z-e2de61-0f1e2d3c.file'), 'file 20261201T124332718Z-e2de61-0f1e2d3c.file'],
  ])('accepts a %s AD', (_name, ad, want) => {
    expect(describeAd(ad)).toBe(want);
  });

  it.each([
    ['the vault-key AD', vaultKeyAd(new Uint8Array(16), 3, 67108864)],
    ['an empty AD', new Uint8Array(0)],
    ['a bare prefix', te.encode('mcp-tokens/v1')],
    ['a trailing byte', concat(entryAd('entry', 'github', 'token'), new Uint8Array([0]))],
    ['a truncated key', entryAd('entry', 'github', 'token').subarray(0, 25)],
    ['an invalid service name', entryAd('entry', 'GitHub', 'token')],
    ['a name with _', entryAd('entry', 'a_b', 'token')],
    ['a path in a file label', fileAd('../../etc/passwd')],
    ['a length past the end', concat(te.encode('mcp-tokens/v1'), u32(1000), te.encode('github'))],
    ['another prefix', concat(te.encode('mcp-tokens/v2'), u32(6), te.encode('github'), u32(5), te.encode('token'))],
    ['not UTF-8', concat(te.encode('mcp-tokens/v1'), u32(2), new Uint8Array([0xff, 0xfe]), u32(5), te.encode('token'))],
  ])('refuses %s', (_name, ad) => {
    expect(describeAd(ad)).toBeUndefined();
  });
});

describe('lineReader', () => {
  it('splits lines across chunks', () => {
    const lines: string[] = [];
    const feed = lineReader((l) => lines.push(l), () => lines.push('TOO LONG'));
    feed(Buffer.from('{"a":1}\n{"b"'));
    feed(Buffer.from(':2}\n'));
    expect(lines).toEqual(['{"a":1}', '{"b":2}']);
  });

  it('gives up on a line over the limit, even without a newline', () => {
    let tooLong = 0;
    const feed = lineReader(() => undefined, () => tooLong++);
    feed(Buffer.alloc(MAX_LINE + 1, 0x61));
    expect(tooLong).toBe(1);
  });
});

describe('isoTime (the status times, without loading the time-zone machinery)', () => {
  it.each([0, 951_782_400_000, 1_764_590_400_999, Date.UTC(2026, 11, 31, 23, 59, 59, 7), 253_402_300_799_999])('is toISOString for %d', (ms) => {
    expect(isoTime(ms)).toBe(new Date(ms).toISOString());
  });
});
