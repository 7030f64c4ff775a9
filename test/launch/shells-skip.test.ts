import { describe, expect, it } from 'vitest';
import { requireShell, shellPath, type ShellName } from '../helpers/shells.js';

/** A shell name that exists nowhere, to exercise the missing-shell path with the real lookup. */
const ABSENT = 'mcpt-no-such-shell' as ShellName;

describe('tests that need a shell', () => {
  const saved = process.env['CI'];
  const restore = () => (saved === undefined ? delete process.env['CI'] : (process.env['CI'] = saved));

  it('find an installed shell by path', () => {
    expect(shellPath('bash')).toMatch(/\/bash$/);
  });

  it('skip with a one-line reason when the shell is missing, but fail under CI=true', () => {
    const notes: string[] = [];
    const skip = (note?: string): never => {
      notes.push(note ?? '');
      throw new Error('skipped');
    };
    try {
      delete process.env['CI'];
      expect(() => requireShell(ABSENT, skip)).toThrow('skipped');
      expect(notes).toEqual([`SKIPPED: ${ABSENT}: ${ABSENT} tests need ${ABSENT} on PATH (Debian: apt-get install ${ABSENT})`]);
      process.env['CI'] = 'true';
      expect(() => requireShell(ABSENT, skip)).toThrow(/^CI=true and SKIPPED: mcpt-no-such-shell: mcpt-no-such-shell tests need/);
      expect(notes).toHaveLength(1);
    } finally {
      restore();
    }
  });
});
