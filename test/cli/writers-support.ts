/**
 * The writers added after the first race tests (issue 10): `services add`/`remove`
 * (services.json), `link`/`unlink` (the sealed map of links), `import` (a bundle's values),
 * `identity` (the age identity, made on first use) and `export` (its record in metadata.json).
 * For the race and kill -9 suites: how to set a vault up so each has something to do, how to run
 * each, and what each must have left when it reported success (or must not have left when it was
 * refused).
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { newIdentity, recipientOf, seal } from '../../src/bundle/age.js';
import { serializeBundle } from '../../src/bundle/format.js';
import { canary, type CliOptions, type CliResult } from '../helpers/cli.js';

export type Run = (args: readonly string[], extra?: CliOptions) => Promise<CliResult>;

export interface WriterSetup {
  home: string;
  /** Age identity file (outside the vault) that the import bundle is sealed to. */
  idFile: string;
  /** Its recipient, what `export` seals to. */
  recipient: string;
  bundle: string;
  /** What each writer puts in place or takes away. */
  lk: string;
  ul: string;
  imp: string;
}

/** An executable in home that prints value, for `link`. */
export function printer(home: string, name: string, value: string): string {
  const path = join(home, `print-${name}.sh`);
  writeFileSync(path, `#!/bin/sh\nprintf '%s\\n' '${value}'\n`, { mode: 0o755 });
  return path;
}

/** A bundle of `credentials` sealed to a fresh age identity; the identity file beside it. */
export async function makeBundle(home: string, credentials: { service: string; key: string; value: string }[], name = 'bundle'): Promise<{ bundle: string; idFile: string; recipient: string }> {
  const identity = await newIdentity();
  const recipient = await recipientOf(identity);
  const idFile = join(home, `${name}.key`);
  writeFileSync(idFile, `${identity}\n`, { mode: 0o600 });
  const bundle = join(home, `${name}.age`);
  writeFileSync(bundle, await seal([recipient], serializeBundle({ createdAt: new Date().toISOString(), credentials }), false), { mode: 0o600 });
  return { bundle, idFile, recipient };
}

/**
 * Give every writer something to do on the vault `run` talks to: a service of the user's own to
 * remove (svc-old), a link to unlink (ul), a bundle to import (imp) and a recipient to export to.
 * The vault has no age identity yet, so `identity` makes one.
 */
export async function prepareWriters(home: string, run: Run): Promise<WriterSetup> {
  const s = { lk: canary(), ul: canary(), imp: canary() };
  const add = await run(['services', 'add', 'svc-old', '--field', 'api-key']);
  expect(add.code, add.stderr).toBe(0);
  const ln = await run(['link', 'ul', 'secret', '--', printer(home, 'ul', s.ul)]);
  expect(ln.code, ln.stderr).toBe(0);
  printer(home, 'lk', s.lk);
  const b = await makeBundle(home, [{ service: 'imp', key: 'secret', value: s.imp }]);
  return { home, ...b, ...s };
}

export type WriterName = 'services add' | 'services remove' | 'link' | 'unlink' | 'import' | 'identity' | 'export';
export const WRITERS: WriterName[] = ['services add', 'services remove', 'link', 'unlink', 'import', 'identity', 'export'];
/** Writers that seal something (so a rekey or move meanwhile refuses them); the others write plain JSON. */
export const SEALING: WriterName[] = ['link', 'unlink', 'import', 'identity'];

export function writerArgs(w: WriterName, s: WriterSetup): string[] {
  switch (w) {
    case 'services add':
      return ['services', 'add', 'svc-new', '--field', 'api-key:SVC_NEW_KEY'];
    case 'services remove':
      return ['services', 'remove', 'svc-old'];
    case 'link':
      return ['link', 'lk', 'secret', '--', join(s.home, 'print-lk.sh')];
    case 'unlink':
      return ['unlink', 'ul', 'secret'];
    case 'import':
      return ['import', s.bundle, '--identity', s.idFile, '--new-services'];
    case 'identity':
      return ['identity'];
    case 'export':
      return ['export', 'k2', '--to', s.recipient, '-o', join(s.home, `export-${Math.random().toString(36).slice(2)}.age`)];
  }
}

/** What the vault shows after a race, read with a handful of commands. */
export interface Observed {
  /** `load all --format json`: variable name → value (links run). */
  loaded: Record<string, string>;
  services: Set<string>;
  /** A second `identity`. */
  identity: CliResult;
  /** Entry lists of the export log in metadata.json. */
  exports: string[][];
}

export async function observe(run: Run, dir: string): Promise<Observed> {
  const all = await run(['load', 'all', '--format', 'json']);
  expect(all.code, all.stderr).toBe(0);
  const list = await run(['services', '--json']);
  expect(list.code, list.stderr).toBe(0);
  const identity = await run(['identity']);
  expect(identity.code, identity.stderr).toBe(0);
  const meta = JSON.parse(readFileSync(join(dir, 'metadata.json'), 'utf8')) as { exports?: { entries: string[] }[] };
  return {
    loaded: JSON.parse(all.stdout) as Record<string, string>,
    services: new Set((JSON.parse(list.stdout) as { service: string }[]).map((x) => x.service)),
    identity,
    exports: (meta.exports ?? []).map((e) => e.entries),
  };
}

/**
 * What writer w left, given its result: done (exit 0) means its effect is there, refused (exit 1,
 * "the vault changed while this command waited") means it is not. Anything else fails.
 */
export function expectWriterOutcome(w: WriterName, r: CliResult, s: WriterSetup, seen: Observed): 'done' | 'refused' {
  const done = r.code === 0;
  if (!done) {
    expect(r.stderr, `${w}: exit ${r.code}`).toContain('the vault changed while this command waited');
    expect(r.code, `${w}: ${r.stderr}`).toBe(1);
  }
  switch (w) {
    case 'services add':
      expect(seen.services.has('svc-new'), w).toBe(done);
      break;
    case 'services remove':
      expect(seen.services.has('svc-old'), w).toBe(!done);
      break;
    case 'link':
      expect(seen.loaded['LK_SECRET'], w).toBe(done ? s.lk : undefined);
      break;
    case 'unlink':
      expect(seen.loaded['UL_SECRET'], w).toBe(done ? undefined : s.ul);
      break;
    case 'import':
      expect(seen.loaded['IMP_SECRET'], w).toBe(done ? s.imp : undefined);
      break;
    case 'identity':
      // Done: the identity it printed is the vault's. Refused: none was kept, so the second run made one.
      if (done) expect(seen.identity.stdout, w).toBe(r.stdout);
      else expect(seen.identity.stderr, w).toContain('Created an age identity');
      break;
    case 'export':
      expect(seen.exports.some((e) => e.includes('k2_secret')), w).toBe(done);
      break;
  }
  return done ? 'done' : 'refused';
}

/** Each seeded value loads exactly; list shows nothing damaged; doctor is clean. */
export async function expectSeededIntact(run: Run, seen: Observed, values: ReadonlyMap<string, string>): Promise<void> {
  for (const [service, value] of values) expect(seen.loaded[`${service.toUpperCase()}_SECRET`], service).toBe(value);
  const list = await run(['list']);
  expect(list.code, list.stderr).toBe(0);
  expect(list.stdout).not.toMatch(/damaged|older-key/);
  const doctor = await run(['doctor']);
  expect(doctor.code, doctor.stdout + doctor.stderr).toBe(0);
  expect(doctor.stdout + doctor.stderr).not.toMatch(/older key|damaged/);
}

/**
 * No sealed file under dir names a key vault.json does not hold (a file vault): nothing was
 * sealed under a dropped key. Returns how many sealed files were looked at.
 */
export function expectNoDroppedKey(dir: string): number {
  const vj = JSON.parse(readFileSync(join(dir, 'vault.json'), 'utf8')) as { keyId?: string; previousKeyId?: string };
  const ids = [vj.keyId, vj.previousKeyId].filter((x): x is string => typeof x === 'string');
  expect(ids.length, 'vault.json records its key id').toBeGreaterThan(0);
  const stale: string[] = [];
  let scanned = 0;
  const scan = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const st = statSync(p);
      if (st.isDirectory()) scan(p);
      else if (st.isFile() && name !== 'vault.json') {
        let obj: unknown;
        try {
          obj = JSON.parse(readFileSync(p, 'utf8'));
        } catch {
          continue;
        }
        if (obj && typeof obj === 'object' && 'ct' in obj) {
          scanned++;
          const kid = (obj as { kid?: unknown }).kid;
          if (typeof kid !== 'string' || !ids.includes(kid)) stale.push(`${p} kid ${String(kid)}`);
        }
      }
    }
  };
  scan(dir);
  expect(stale, 'sealed under a dropped key').toEqual([]);
  return scanned;
}
