/**
 * audit/log.ts in-process: rotation keeps the log bounded and verifying, a record is never
 * longer than one bounded line, a rotated generation that is removed is reported, and the agent
 * protocol accepts exactly the log's two AD shapes.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LocalKeyHandle } from '../../src/crypto/keyhandle.js';
import { appendRecord, logAd, readLog, resealLog } from '../../src/audit/log.js';
import { describeAd } from '../../src/agent/protocol.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const fresh = () => {
  const d = mkdtempSync(join(tmpdir(), 'mcpt-log-'));
  dirs.push(d);
  return d;
};
const key = new LocalKeyHandle(new Uint8Array(32).fill(7));
const rec = (i: number) => ({ t: new Date(1_800_000_000_000 + i * 1000).toISOString(), cmd: 'load', names: [`svc${i}_token`], pid: i });

describe('rotation', () => {
  it('past maxBytes the log becomes access.log.1; two generations at most; what is kept verifies', async () => {
    const dir = fresh();
    for (let i = 0; i < 60; i++) await appendRecord(dir, async () => key, rec(i), { maxBytes: 2_000 });
    expect(readdirSync(dir).sort()).toEqual(['access.log', 'access.log.1', 'access.log.tail']);
    expect(statSync(join(dir, 'access.log')).size + statSync(join(dir, 'access.log.1')).size).toBeLessThan(2 * 2_000 + 1_000);
    const report = await readLog(dir, [key]);
    expect(report.problems).toEqual([]);
    const pids = report.records.map((r) => r.pid);
    expect(pids.at(-1)).toBe(59);
    expect(pids.length).toBeLessThan(60); // older generations were dropped
    expect(pids).toEqual(pids.map((_p, i) => pids[0]! + i)); // contiguous, in order
  });

  it('removing access.log.1 reads as rotated away (SECURITY.md says so); removing access.log is reported', async () => {
    const dir = fresh();
    for (let i = 0; i < 30; i++) await appendRecord(dir, async () => key, rec(i), { maxBytes: 2_000 });
    rmSync(join(dir, 'access.log.1'));
    expect((await readLog(dir, [key])).problems.join('\n')).toBe(''); // the first generation: indistinguishable from rotated away
    const dir2 = fresh();
    for (let i = 0; i < 30; i++) await appendRecord(dir2, async () => key, rec(i), { maxBytes: 2_000 });
    rmSync(join(dir2, 'access.log'));
    expect((await readLog(dir2, [key])).problems.join('\n')).toMatch(/not the one access\.log\.tail was written for/);
  });

  it('a record with a huge name list or path is cut to one bounded line', async () => {
    const dir = fresh();
    await appendRecord(dir, async () => key, { ...rec(1), names: Array.from({ length: 5_000 }, (_x, i) => `s${i}_token`), path: 'x'.repeat(100_000) });
    const text = readFileSync(join(dir, 'access.log'), 'utf8');
    expect(text.split('\n')).toHaveLength(2);
    expect(text.length).toBeLessThan(16_384);
    expect((await readLog(dir, [key])).problems).toEqual([]);
  });

  it('resealLog moves every record to a new key and keeps the chain', async () => {
    const dir = fresh();
    for (let i = 0; i < 30; i++) await appendRecord(dir, async () => key, rec(i), { maxBytes: 2_000 });
    const next = new LocalKeyHandle(new Uint8Array(32).fill(9));
    expect(await resealLog(dir, [next, key])).toBeGreaterThan(0);
    const report = await readLog(dir, [next]);
    expect(report.problems).toEqual([]);
    expect(report.unreadable).toBe(0);
    expect(report.records.at(-1)!.pid).toBe(29);
  });
});

describe('appenders that race', () => {
  // Held deterministically: the first appender has read the (empty or not) log and waits for its
  // key while the others append; it then writes after them, chained to what it read.
  async function heldBehind(dir: string, others: number): Promise<void> {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const first = appendRecord(dir, async () => (await gate, key), rec(100));
    for (let i = 0; i < others; i++) await appendRecord(dir, async () => key, rec(i));
    release();
    await first;
  }

  it('appenders that all found the log empty: every record verifies (CI failed here with 24 loads)', async () => {
    const dir = fresh();
    await heldBehind(dir, 3);
    const text = readFileSync(join(dir, 'access.log'), 'utf8').split('\n');
    expect(text.filter((l) => l.startsWith('L1 - ')).length).toBe(2); // the held one and the first other
    const report = await readLog(dir, [key]);
    expect(report.problems).toEqual([]);
    expect(report.records.map((r) => r.pid)).toEqual([0, 1, 2, 100]);
  });

  it('a record that follows nothing in a log whose first record follows something is still reported', async () => {
    const dir = fresh();
    for (let i = 0; i < 30; i++) await appendRecord(dir, async () => key, rec(i), { maxBytes: 2_000 });
    rmSync(join(dir, 'access.log.1'));
    // a fresh log's first record, placed at the end of one that began after a rotation
    const other = fresh();
    await appendRecord(other, async () => key, rec(99));
    const lines = readFileSync(join(dir, 'access.log'), 'utf8');
    writeFileSync(join(dir, 'access.log'), lines + readFileSync(join(other, 'access.log'), 'utf8'));
    expect((await readLog(dir, [key])).problems.join('\n')).toMatch(/follows a record that is not in the log/);
  });

  it('an appender held behind others on a non-empty log forks from the record it read: accepted', async () => {
    const dir = fresh();
    await appendRecord(dir, async () => key, rec(50));
    await heldBehind(dir, 2);
    const report = await readLog(dir, [key]);
    expect(report.problems).toEqual([]);
    expect(report.records.map((r) => r.pid)).toEqual([50, 0, 1, 100]);
  });
});

describe('the agent protocol and the log AD', () => {
  it.each([
    [logAd('record', '-', 'on'), 'log record'],
    [logAd('record', 'a'.repeat(32), 'off'), 'log record'],
    [logAd('tail', '', ''), 'log tail'],
    [logAd('record', 'x', 'on'), undefined],
    [logAd('record', '-', 'maybe'), undefined],
    [logAd('tail', 'a', ''), undefined],
  ])('%#: %s', (ad, want) => {
    expect(describeAd(ad)).toBe(want);
  });
});
