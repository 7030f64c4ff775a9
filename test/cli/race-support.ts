/**
 * Deterministic races for the test/cli suites: hold one command at a named step (the
 * MCP_TOKENS_PAUSE hook of src/vault/failpoint.ts, set on that child only), run another command
 * to completion in the window, then let the first go on. No sleeps: the window is exact.
 */
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { collect, type CliOptions, type CliResult } from '../helpers/cli.js';
import type { ChildProcess } from 'node:child_process';

export interface Held {
  /** Let the held command go on; resolves with its result. */
  release(): Promise<CliResult>;
}

/**
 * Start a command that stops at `step` (e.g. before-lock: unlocked, lock not yet taken) and
 * resolve once it is there. spawn is the suite's spawner (plain or keychain session).
 */
export async function holdAt(
  spawn: (args: readonly string[], opts: CliOptions) => ChildProcess,
  step: string,
  args: readonly string[],
  opts: CliOptions & { home: string },
): Promise<Held> {
  const marker = join(opts.home, `pause-${Math.random().toString(36).slice(2)}`);
  const child = spawn(args, { ...opts, env: { ...opts.env, MCP_TOKENS_PAUSE: `${step}:${marker}` } });
  const done = collect(child, { ...(opts.input !== undefined ? { input: opts.input } : {}), timeoutMs: 180_000 });
  const deadline = Date.now() + 120_000;
  while (!existsSync(marker)) {
    const early = await Promise.race([done, new Promise<undefined>((r) => setTimeout(() => r(undefined), 25))]);
    if (early) throw new Error(`${args.join(' ')} ended before reaching ${step}: exit ${early.code}\n${early.stderr}`);
    if (Date.now() > deadline) throw new Error(`${args.join(' ')} never reached ${step}`);
  }
  return {
    release: async () => {
      rmSync(marker, { force: true });
      return done;
    },
  };
}

/** The held command failed cleanly because the vault changed under it, and said so. */
export function expectChangedWhileWaiting(r: CliResult): void {
  expect(r.code, r.stderr).toBe(1);
  expect(r.stderr).toContain('the vault changed while this command waited');
  expect(r.stderr).toContain('nothing was written');
}

/** Every (service, value) loads with exactly that value; list shows nothing damaged; doctor is clean. */
export async function expectIntact(run: (args: readonly string[]) => Promise<CliResult>, values: ReadonlyMap<string, string>): Promise<void> {
  for (const [service, value] of values) {
    const r = await run(['load', service, '--format', 'json']);
    expect(r.code, `load ${service}: ${r.stderr}`).toBe(0);
    expect(Object.values(JSON.parse(r.stdout) as Record<string, string>), service).toEqual([value]);
  }
  const list = await run(['list']);
  expect(list.code, list.stderr).toBe(0);
  expect(list.stdout).not.toMatch(/damaged|older-key/);
  const doctor = await run(['doctor']);
  expect(doctor.code, doctor.stdout + doctor.stderr).toBe(0);
  expect(doctor.stdout + doctor.stderr).not.toMatch(/older key|damaged/);
}
