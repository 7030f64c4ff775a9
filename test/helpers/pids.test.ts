import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { signalTracked, track } from './pids.js';

describe.runIf(process.platform === 'linux')('signalTracked: a recorded pid is signalled only while it names the same process', () => {
  it('leaves a process alone when its start time differs (a reused pid), signals it when it matches, and not after it is gone', async () => {
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    await once(child, 'spawn');
    const t = track(child.pid!);
    expect(t.start).toMatch(/^\d+$/);
    // The same pid recorded for a process that started at another time: a stranger now.
    expect(signalTracked({ pid: t.pid, start: String(Number(t.start) + 1) }, 'SIGKILL')).toBe(false);
    expect(child.exitCode === null && child.signalCode === null).toBe(true);
    expect(signalTracked(t, 'SIGKILL')).toBe(true);
    const [, signal] = (await once(child, 'exit')) as [number | null, string | null];
    expect(signal).toBe('SIGKILL');
    expect(signalTracked(t, 'SIGKILL')).toBe(false); // reaped: never signal the pid again
  });
});
