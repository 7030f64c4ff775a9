/**
 * Progress of long commands and import's summary. On a real pseudo-terminal (pty.ts) a command
 * shows `label done/total` on one stderr line rewritten in place (\r … \x1b[K) and erased before
 * its summary; piped, or with --quiet, it shows nothing of it. MCP_TOKENS_PROGRESS_AFTER_MS=0
 * makes the line appear at once (it waits about a second otherwise), so no test depends on time.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { seal } from '../../src/bundle/age.js';
import { serializeBundle } from '../../src/bundle/format.js';
import { canary, ensureBuilt, passphraseEnv, runCli, tempHome } from '../helpers/cli.js';
import { onPty, requirePty } from '../helpers/pty.js';
import { seedVault } from './support.js';

const N = 40;
const NOW = { MCP_TOKENS_PROGRESS_AFTER_MS: '0' };
const ERASE = '\x1b[K';

interface Fixture {
  home: string;
  env: Record<string, string>;
  bundle: string;
  secret: string;
}

/** A file vault, and a bundle sealed to it holding N credentials of two new services (one value a canary). */
async function fixture(): Promise<Fixture> {
  const home = tempHome('mcpt-progress-');
  await seedVault(home, []);
  const env = passphraseEnv(home);
  const id = await runCli(['identity'], { home, env });
  expect(id.code, id.stderr).toBe(0);
  const secret = canary();
  const credentials = Array.from({ length: N }, (_, i) => ({ service: i % 2 ? 'acme' : 'bolt', key: `k${i}-token`, value: i === 7 ? secret : `value-${i}-${canary()}` }));
  const bytes = await seal([id.stdout.trim()], serializeBundle({ createdAt: new Date().toISOString(), credentials }), false);
  const bundle = join(home, 'team.age');
  writeFileSync(bundle, bytes);
  return { home, env, bundle, secret };
}

describe('progress and summaries', () => {
  beforeAll(() => ensureBuilt());

  it('import on a terminal: the count rewritten in place, erased, then one summary line', async ({ skip }) => {
    requirePty(skip);
    const f = await fixture();
    const r = onPty(['import', f.bundle, '--new-services'], [], { home: f.home, env: { ...f.env, ...NOW } });
    expect(r.code, r.transcript).toBe(0);
    expect(r.transcript).toContain(`\rImporting ${N}/${N}${ERASE}`);
    // Every drawing starts at the line's start and ends by clearing the rest: no line is left behind.
    const drawn = r.transcript.match(/\rImporting (\d+)\/40\x1b\[K/g) ?? [];
    expect(drawn.length).toBeGreaterThan(0);
    expect(r.transcript).toMatch(/\r\x1b\[KImported 40 credentials of 2 services\./);
    expect(r.transcript).not.toContain('acme k1-token');
    expect(r.transcript).not.toContain(f.secret);
  });

  it('import piped: no progress, no control sequence; the summary counts; --verbose names each; --json lists them on stdout', async () => {
    const f = await fixture();
    const r = await runCli(['import', f.bundle, '--new-services', '--verbose', '--json'], { home: f.home, env: { ...f.env, ...NOW } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toContain('Importing');
    expect(r.stderr).not.toContain('\r');
    expect(r.stderr).not.toContain(ERASE);
    expect(r.stderr).toContain('Imported 40 credentials of 2 services.\n');
    for (let i = 0; i < N; i++) expect(r.stderr).toContain(`\n  ${i % 2 ? 'acme' : 'bolt'} k${i}-token\n`);
    const out = JSON.parse(r.stdout) as { imported: { service: string; key: string }[]; replaced: unknown[]; same: unknown[] };
    expect(out.imported).toHaveLength(N);
    expect(out.imported).toContainEqual({ service: 'acme', key: 'k1-token' });
    expect(out.replaced).toEqual([]);
    expect(r.stdout + r.stderr).not.toContain(f.secret);

    // The same bundle again: all already stored, counted; without --verbose no names.
    const again = await runCli(['import', f.bundle], { home: f.home, env: { ...f.env, ...NOW } });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain('Already stored with the same value: 40 credentials of 2 services.');
    expect(again.stderr).not.toContain('k1-token');
  });

  it('--quiet on a terminal, or a delay not yet reached: no progress line', async ({ skip }) => {
    requirePty(skip);
    const f = await fixture();
    const quiet = onPty(['--quiet', 'import', f.bundle, '--new-services'], [], { home: f.home, env: { ...f.env, ...NOW } });
    expect(quiet.code, quiet.transcript).toBe(0);
    expect(quiet.transcript).not.toContain('Importing');
    expect(quiet.transcript).not.toContain('Imported');
    const late = onPty(['rekey'], [], { home: f.home, env: { ...f.env, MCP_TOKENS_PROGRESS_AFTER_MS: '3600000' } });
    expect(late.code, late.transcript).toBe(0);
    expect(late.transcript).not.toContain('Re-encrypting');
    expect(late.transcript).toContain('New data key in place');
  });

  it('rekey and prune on a terminal show theirs; piped they do not', async ({ skip }) => {
    requirePty(skip);
    const f = await fixture();
    expect((await runCli(['import', f.bundle, '--new-services'], { home: f.home, env: f.env })).code).toBe(0);
    // Each value replaced once: N backups to re-encrypt and then to prune.
    for (const k of ['k0-token', 'k2-token']) {
      expect((await runCli(['store', 'bolt', k, '-'], { home: f.home, env: f.env, input: `other-${canary()}\n` })).code).toBe(0);
    }
    const rekey = onPty(['rekey'], [], { home: f.home, env: { ...f.env, ...NOW } });
    expect(rekey.code, rekey.transcript).toBe(0);
    // N entries and 2 backups, plus the identity entry: each file is counted.
    expect(rekey.transcript).toMatch(/\rRe-encrypting (\d+)\/\1\x1b\[K\r\x1b\[KNew data key in place/);
    const piped = await runCli(['rekey'], { home: f.home, env: { ...f.env, ...NOW } });
    expect(piped.code, piped.stderr).toBe(0);
    expect(piped.stderr).not.toContain('Re-encrypting');
    const prune = onPty(['prune', '--older-than', '0s'], [], { home: f.home, env: { ...f.env, ...NOW } });
    expect(prune.code, prune.transcript).toBe(0);
    expect(prune.transcript).toMatch(/\rRemoving backups 2\/2\x1b\[K\r\x1b\[KRemoved 2 backups older than 0s\./);
  });
});
