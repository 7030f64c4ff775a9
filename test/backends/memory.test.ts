import { describe, expect, it } from 'vitest';
import { memoryBackend } from '../../src/backends/memory.js';
import { entryName } from '../../src/names.js';
import { testBackend } from './contract.js';

testBackend('memory', async () => ({ backend: memoryBackend() }));

describe('memory backend', () => {
  it('starts from the initial entries it is given, and instances do not share state', async () => {
    const a = memoryBackend([[entryName('github', 'token'), 'seeded']]);
    const b = memoryBackend();
    expect(await a.get(entryName('github', 'token'))).toBe('seeded');
    expect(await b.list()).toEqual([]);
    expect(a.name).toBe('memory');
  });
});
