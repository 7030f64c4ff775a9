#!/usr/bin/env node
/**
 * Randomised soak (issue 10): several processes run random writes at once against ONE vault,
 * through the built CLI, for a bounded time; then every value a successful command left must
 * load with exactly that value, doctor must be clean and no blob may be sealed under a key the
 * vault no longer holds.
 *
 *   node test/soak/soak.mjs [--seconds N] [--procs P] [--keychain] [--seed S] [--json] [--keep]
 *   npm run soak -- --seconds 300
 *
 * --keychain adds `backend keychain` / `backend file` moves; it needs a Secret Service on the
 * session bus (DBUS_SESSION_BUS_ADDRESS), e.g. test/soak/soak.test.ts starts a private one, or:
 *   dbus-run-session -- sh -c 'echo pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null;
 *                              npm run soak -- --keychain --seconds 120'
 *
 * The oracle. Each worker owns two services (w<i>a, w<i>b; one key `secret` each) and is the
 * only one to store/delete/restore them, so what each holds follows from that worker's own
 * commands in order. Per service we keep the set of states {current value, backups newest
 * last} it may be in: a command that exited 0 moved every state forward (and rules out states
 * in which it could not have succeeded); a command that exited non-zero may or may not have
 * written, so both the old and the new states stay possible. The shared-state commands
 * (rekey, passwd with the same passphrase, prune of backups older than 90 days, backend moves)
 * must never change any value, so they do not touch the model at all. Exit 1 with "the vault
 * changed while this command waited", LOCKED, a not-found delete/restore or "an interrupted
 * rekey must finish" are refusals (counted, not loss); anything else non-zero is a failure.
 *
 * The newer writers run too, each on what its worker owns: `services add`/`services remove`
 * (services w<i>x<n> in services.json: each must be defined, or not, as the worker's last
 * successful command left it), `link`/`unlink` (service w<i>l, linked to a script that prints a
 * value: the link must give the value of the last successful link, or nothing after an unlink),
 * `import --overwrite` (a bundle sealed to a soak identity holding a new value of w<i>i: modelled
 * as a store), `identity` (every successful run prints the same recipient, and so does one run
 * at the end) and `export all` (each successful export has its record in metadata.json's log).
 *
 * Readers run among them (no lock; they follow a vault that changes under them): `load` and `run`
 * of one of the worker's own services must give a value that service may hold at that moment
 * (or not-found exactly when it may hold nothing), and `list --json` must show every entry
 * readable and the worker's services present or absent as its model allows. A reader that gives
 * up because the vault kept changing is a refusal; a wrong value, a not-found for a service that
 * must hold a value, "damaged" or any other error is a loss.
 *
 * --keep leaves the vault directory for inspection.
 *
 * Output: operation counts per op (ok / refused / failed) and the verdict on stderr; with
 * --json, one JSON object on stdout. Exit 0 when nothing was lost, 1 otherwise.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = join(REPO, 'bin', 'mcp-tokens.js');
const PASSPHRASE = 'soak passphrase, long enough';

function parseArgs(argv) {
  const o = { seconds: 20, procs: 3, keychain: false, json: false, keep: false, seed: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--seconds') o.seconds = Number(val());
    else if (a === '--procs') o.procs = Number(val());
    else if (a === '--seed') o.seed = Number(val());
    else if (a === '--keychain') o.keychain = true;
    else if (a === '--json') o.json = true;
    else if (a === '--keep') o.keep = true;
    else throw new Error(`unknown argument ${a} (use --seconds N --procs P --keychain --seed S --json --keep)`);
  }
  if (!(o.seconds > 0) || !(o.procs >= 1 && o.procs <= 16)) throw new Error('--seconds must be > 0 and --procs 1..16');
  return o;
}

/** A small seeded PRNG (mulberry32): --seed repeats a run's command choices (not its timing). */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function runCli(args, env, input) {
  return new Promise((res) => {
    const child = spawn(process.execPath, [BIN, ...args], { env, cwd: env.HOME, stdio: ['pipe', 'pipe', 'pipe'] });
    const out = [];
    const err = [];
    child.stdout.on('data', (b) => out.push(b));
    child.stderr.on('data', (b) => err.push(b));
    child.stdin.on('error', () => {});
    child.stdin.end(input ?? '');
    const timer = setTimeout(() => child.kill('SIGKILL'), 180_000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      res({ code, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}

/** ok / refused (a clean refusal that writes nothing by design) / failed. */
function classify(op, r) {
  if (r.code === 0) return 'ok';
  const e = r.stderr;
  if (r.code === 1 && /the vault changed while this command waited/.test(e)) return 'refused';
  if (/the vault is busy|could not take the lock/.test(e)) return 'refused';
  if (r.code === 2 && /an interrupted rekey must finish|interrupted move|already/.test(e)) return 'refused';
  if (r.code === 3 && (op === 'delete' || op === 'restore' || op === 'unlink' || op === 'services remove')) return 'refused';
  // passwd dealt to a worker while a move has the vault in the keychain: refused, nothing written
  // ("has no passphrase"; a move landing after passwd opened is caught by the transaction instead).
  if (r.code === 2 && op === 'passwd' && /keeps its credentials in the OS keychain and has no passphrase/.test(e)) return 'refused';
  // A reader whose vault changed under it three times in a row (rekeys, moves) gives up cleanly.
  if (r.code === 1 && /the vault kept changing while this command read it/.test(e)) return 'refused';
  // `export all` while every worker's values happen to be deleted finds nothing to seal: it wrote
  // nothing. (A move emptying the backend under it is no excuse: readers read again, see openForRead.)
  if (r.code === 3 && op === 'export' && /nothing to export/.test(e)) return 'refused';
  return 'failed';
}

// ---- the model: per service, a set of possible states {cur, backups} -------------------------

const key = (s) => JSON.stringify(s);
function apply(states, f) {
  const out = new Map();
  for (const s of states.values()) {
    const n = f(s);
    if (n !== undefined) out.set(key(n), n);
  }
  return out;
}
const storeT = (v) => (s) => ({ cur: v, backups: s.cur === null ? s.backups : [...s.backups, s.cur] });
const deleteT = (s) => (s.cur === null ? undefined : { cur: null, backups: [...s.backups, s.cur] });
const linkT = (v) => () => v;
const unlinkT = (s) => (s === null ? undefined : null);
const restoreT = (s) =>
  s.backups.length === 0 ? undefined : { cur: s.backups[s.backups.length - 1], backups: s.cur === null ? s.backups : [...s.backups, s.cur] };

function advance(states, t, ok) {
  const next = apply(states, t);
  if (ok) return next; // empty means the model says it could not have succeeded: reported below
  return new Map([...states, ...next]);
}

// ---- the run ---------------------------------------------------------------------------------

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const seed = o.seed ?? randomBytes(4).readUInt32BE(0);
  const home = mkdtempSync(join(tmpdir(), 'mcpt-soak-'));
  const dir = join(home, 'vault');
  const pwFile = join(home, 'passphrase');
  writeFileSync(pwFile, `${PASSPHRASE}\n`, { mode: 0o600 });
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    LANG: 'C.UTF-8',
    MCP_TOKENS_DIR: dir,
    MCP_TOKENS_PASSPHRASE_FILE: pwFile,
    // passwd re-sets the same passphrase: vault.json is rewritten (new salt, new wrap) under
    // the others' feet, while every process keeps a passphrase that opens the vault.
    MCP_TOKENS_NEW_PASSPHRASE_FILE: pwFile,
    MCP_TOKENS_LOCK_TIMEOUT_MS: '60000',
    NO_COLOR: '1',
  };
  // Under the test suite, its cheap Argon2id (src/crypto/kdf.ts); `npm run soak` alone uses the real one.
  if (process.env.MCP_TOKENS_INSECURE_TEST_KDF) env.MCP_TOKENS_INSECURE_TEST_KDF = process.env.MCP_TOKENS_INSECURE_TEST_KDF;
  if (o.keychain) {
    for (const v of ['DBUS_SESSION_BUS_ADDRESS', 'XDG_RUNTIME_DIR', 'XDG_DATA_HOME', 'XDG_CONFIG_HOME', 'XDG_CACHE_HOME']) {
      if (process.env[v] !== undefined) env[v] = process.env[v];
    }
    if (!env.DBUS_SESSION_BUS_ADDRESS) throw new Error('--keychain needs a Secret Service on the session bus (DBUS_SESSION_BUS_ADDRESS)');
    env.MCP_TOKENS_KEYCHAIN_SERVICE = `mcp-tokens-soak-${randomBytes(4).toString('hex')}`;
  }
  const log = (line) => process.stderr.write(`soak: ${line}\n`);
  const counts = {};
  const count = (op, c) => {
    counts[op] ??= { ok: 0, refused: 0, failed: 0 };
    counts[op][c]++;
  };
  const failures = [];
  const anomalies = [];
  const readLost = []; // what readers got that no model state allows
  const journal = []; // every command: worker, op, args, exit, class

  const init = await runCli(['--backend', 'file', 'init', '--kdf', 'interactive'], env);
  if (init.code !== 0) throw new Error(`init failed: ${init.stderr}`);

  // Bundles for import are sealed here, with the built code, to one soak identity (not the
  // vault's: `identity` runs as an op of its own); link targets are scripts in home.
  const age = await import(join(REPO, 'dist/bundle/age.js'));
  const bundleFormat = await import(join(REPO, 'dist/bundle/format.js'));
  const soakIdentity = await age.newIdentity();
  const soakRecipient = await age.recipientOf(soakIdentity);
  const idFile = join(home, 'soak.key');
  writeFileSync(idFile, `${soakIdentity}\n`, { mode: 0o600 });
  const files = join(home, 'files');
  mkdirSync(files, { mode: 0o700 });

  const newer = [['services add', 4], ['services remove', 3], ['link', 4], ['unlink', 2], ['import', 4], ['identity', 2], ['export', 2]];
  const readers = [['load', 5], ['run', 3], ['list', 3]];
  const ops = o.keychain
    ? [['store', 24], ['delete', 8], ['restore', 8], ['rekey', 7], ['passwd', 7], ['prune', 5], ['backend keychain', 6], ['backend file', 6], ...newer, ...readers]
    : [['store', 28], ['delete', 10], ['restore', 10], ['rekey', 8], ['passwd', 8], ['prune', 6], ...newer, ...readers];
  const total = ops.reduce((s, [, w]) => s + w, 0);

  const models = new Map(); // service -> states (stored values, and imported ones)
  const linkModels = new Map(); // link service -> set of possible values (null: not linked)
  const defined = new Map(); // services.json name -> 'yes' | 'no' | 'maybe'
  const recipients = new Set(); // what successful `identity` runs printed: one value, or a loss
  const exportsRun = { ok: 0, all: 0 };
  const deadline = Date.now() + o.seconds * 1000;

  const worker = async (w) => {
    const rand = rng(seed + w * 7919);
    const mine = [`w${w}a`, `w${w}b`];
    const imported = `w${w}i`;
    const linked = `w${w}l`;
    for (const s of [...mine, imported]) models.set(s, new Map([[key({ cur: null, backups: [] }), { cur: null, backups: [] }]]));
    linkModels.set(linked, new Map([[key(null), null]]));
    let n = 0;
    // The first commands (even past the deadline, so a slow machine still runs each op at least
    // once): two stores on one service (so it has a value and a backup for delete and restore),
    // then the other ops dealt out across the workers, so one worker's rekey or passwd overlaps
    // the others' writes; then random, weighted, on either service.
    const others = ops.map(([op]) => op).filter((op) => op !== 'store');
    const cover = ['store', 'store', ...others.filter((_, j) => j % o.procs === w % o.procs)];
    for (let i = 0; Date.now() < deadline || i < cover.length; i++) {
      let pick = rand() * total;
      const op = i < cover.length ? cover[i] : (ops.find(([, wt]) => (pick -= wt) < 0)?.[0] ?? 'store');
      const service = i < cover.length ? mine[0] : mine[Math.floor(rand() * mine.length)];
      let args;
      let input;
      let t;
      let target = service; // the model a transition applies to
      let after; // bookkeeping of the newer writers, given the result
      let read; // a reader's check of what it got against the worker's model
      if (op === 'services add') {
        const name = `w${w}x${++n}`;
        args = ['services', 'add', name, '--field', 'api-key'];
        after = (r) => defined.set(name, r.code === 0 ? 'yes' : 'maybe');
      } else if (op === 'services remove') {
        const candidates = [...defined].filter(([name, st]) => name.startsWith(`w${w}x`) && st !== 'no').map(([name]) => name);
        const name = candidates.length > 0 ? candidates[Math.floor(rand() * candidates.length)] : `w${w}x0`;
        args = ['services', 'remove', name];
        after = (r) => defined.set(name, r.code === 0 || r.code === 3 ? 'no' : 'maybe');
      } else if (op === 'link') {
        const v = `link${w}-${++n}-${randomBytes(6).toString('hex')}`;
        const script = join(files, `print-${w}-${n}.sh`);
        writeFileSync(script, `#!/bin/sh\nprintf '%s\\n' '${v}'\n`, { mode: 0o755 });
        args = ['link', linked, 'secret', '--', script];
        t = linkT(v);
        target = linked;
      } else if (op === 'unlink') {
        args = ['unlink', linked, 'secret'];
        t = unlinkT;
        target = linked;
      } else if (op === 'import') {
        const v = `imp${w}-${++n}-${randomBytes(6).toString('hex')}`;
        const bundle = join(files, `bundle-${w}-${n}.age`);
        const plain = bundleFormat.serializeBundle({ createdAt: new Date().toISOString(), credentials: [{ service: imported, key: 'secret', value: v }] });
        writeFileSync(bundle, await age.seal([soakRecipient], plain, false), { mode: 0o600 });
        args = ['import', bundle, '--identity', idFile, '--overwrite', '--new-services'];
        t = storeT(v);
        target = imported;
      } else if (op === 'identity') {
        args = ['identity'];
        after = (r) => r.code === 0 && recipients.add(r.stdout.trim());
      } else if (op === 'export') {
        args = ['export', 'all', '--to', soakRecipient, '-o', join(files, `export-${w}-${++n}.age`)];
        after = (r) => {
          exportsRun.all++;
          if (r.code === 0) exportsRun.ok++;
        };
      } else if (op === 'load' || op === 'run') {
        const variable = `${service.toUpperCase()}_SECRET`;
        args =
          op === 'load'
            ? ['load', service, '--format', 'json']
            : ['run', service, '--', process.execPath, '-e', `process.stdout.write(JSON.stringify({ v: process.env[${JSON.stringify(variable)}] ?? null }))`];
        read = (r) => {
          const possible = new Set([...models.get(service).values()].map((st) => st.cur));
          let got;
          if (r.code === 0) got = op === 'load' ? (JSON.parse(r.stdout)[variable] ?? null) : JSON.parse(r.stdout).v;
          else if (r.code === 3) got = null;
          else return;
          if (!possible.has(got)) {
            readLost.push(`${args.slice(0, 2).join(' ')} (worker ${w}) read ${got ?? 'nothing'}, expected ${[...possible].map((p) => p ?? 'nothing').join(' or ')}`);
          }
        };
      } else if (op === 'list') {
        args = ['list', '--json'];
        read = (r) => {
          if (r.code !== 0) return;
          const entries = JSON.parse(r.stdout).entries;
          for (const e of entries.filter((x) => x.status !== 'ok')) readLost.push(`list (worker ${w}) shows ${e.service} ${e.key} ${e.status}`);
          for (const s of mine) {
            const present = entries.some((x) => x.service === s && x.key === 'secret');
            const possible = new Set([...models.get(s).values()].map((st) => st.cur !== null));
            if (!possible.has(present)) readLost.push(`list (worker ${w}) shows ${s} ${present ? 'present' : 'absent'}, which it cannot be`);
          }
        };
      } else if (op === 'store') {
        const v = `v${w}-${++n}-${randomBytes(6).toString('hex')}`;
        args = ['store', service, 'secret', '-'];
        input = v;
        t = storeT(v);
      } else if (op === 'delete') {
        args = ['delete', service, 'secret'];
        t = deleteT;
      } else if (op === 'restore') {
        args = ['restore', service, 'secret'];
        t = restoreT;
      } else if (op === 'prune') args = ['prune', '--older-than', '90d'];
      else if (op === 'backend keychain') args = ['backend', 'keychain'];
      else if (op === 'backend file') args = ['backend', 'file', '--kdf', 'interactive'];
      else args = [op];
      const r = await runCli(args, env, input);
      // A reader that found nothing (exit 3) did its job; whether nothing was right is read()'s call.
      const c = read && r.code === 3 && op !== 'list' ? 'ok' : classify(op, r);
      count(op, c);
      journal.push({ w, op: args.join(' '), exit: r.code ?? r.signal, class: c });
      if (c === 'failed') failures.push({ w, args, code: r.code, signal: r.signal, stderr: r.stderr.trim().split('\n').slice(0, 3).join(' | ') });
      after?.(r);
      if (c === 'ok') read?.(r);
      if (t) {
        const m = linkModels.has(target) ? linkModels : models;
        const before = m.get(target);
        const next = advance(before, t, r.code === 0);
        if (next.size === 0) {
          anomalies.push(`${args.join(' ')} exited 0, but in no possible state of ${target} could it have succeeded`);
          m.set(target, before);
        } else m.set(target, next);
      }
    }
  };

  const started = Date.now();
  log(`seed ${seed}, ${o.procs} workers, ${o.seconds}s${o.keychain ? ', keychain session (backend moves)' : ''}, vault ${dir}`);
  await Promise.all(Array.from({ length: o.procs }, (_, w) => worker(w)));
  const soakMs = Date.now() - started;

  // ---- checks --------------------------------------------------------------------------------
  const lost = [...readLost];
  // One `load all` reads every value (custom services export <SERVICE>_SECRET); a service it
  // lacks is not found. Per-service loads only to explain a failing `load all`.
  const checkValues = async (when) => {
    const r = await runCli(['load', 'all', '--format', 'json'], env);
    let all;
    if (r.code === 0) all = JSON.parse(r.stdout);
    else if (r.code === 3) all = {};
    else {
      lost.push(`${when}: load all exited ${r.code}: ${r.stderr.trim().split('\n')[0]}`);
      for (const service of models.keys()) {
        const one = await runCli(['load', service, '--format', 'json'], env);
        if (one.code !== 0 && one.code !== 3) lost.push(`${when}: load ${service} exited ${one.code}: ${one.stderr.trim().split('\n')[0]}`);
      }
      return;
    }
    for (const [service, states] of models) {
      const possible = new Set([...states.values()].map((s) => s.cur));
      const got = all[`${service.toUpperCase()}_SECRET`] ?? null;
      if (!possible.has(got)) {
        lost.push(`${when}: ${service} holds ${got ?? 'nothing'}, expected ${[...possible].map((p) => p ?? 'nothing').join(' or ')}`);
      }
    }
    for (const [service, states] of linkModels) {
      const possible = new Set(states.values());
      const got = all[`${service.toUpperCase()}_SECRET`] ?? null;
      if (!possible.has(got)) lost.push(`${when}: link ${service} gives ${got ?? 'nothing'}, expected ${[...possible].map((p) => p ?? 'nothing').join(' or ')}`);
    }
    const svc = await runCli(['services', '--json'], env);
    if (svc.code !== 0) lost.push(`${when}: services exited ${svc.code}: ${svc.stderr.trim().split('\n')[0]}`);
    else {
      const names = new Set(JSON.parse(svc.stdout).map((x) => x.service));
      for (const [name, st] of defined) {
        if (st === 'yes' && !names.has(name)) lost.push(`${when}: services.json lost ${name}`);
        if (st === 'no' && names.has(name)) lost.push(`${when}: services.json still defines the removed ${name}`);
      }
    }
    const id = await runCli(['identity'], env);
    if (id.code !== 0) lost.push(`${when}: identity exited ${id.code}: ${id.stderr.trim().split('\n')[0]}`);
    else if (recipients.size > 0 && !recipients.has(id.stdout.trim())) lost.push(`${when}: identity prints ${id.stdout.trim()}, not the identity earlier runs printed`);
    else recipients.add(id.stdout.trim());
    if (recipients.size > 1) lost.push(`${when}: identity printed ${recipients.size} different recipients: ${[...recipients].join(', ')}`);
    let logged = 0;
    try {
      logged = (JSON.parse(readFileSync(join(dir, 'metadata.json'), 'utf8')).exports ?? []).length;
    } catch {
      /* no metadata.json: no record */
    }
    // Each successful export has its record (the log keeps its newest 200).
    if (logged < Math.min(exportsRun.ok, 200) || logged > exportsRun.all) lost.push(`${when}: the export log holds ${logged} records for ${exportsRun.ok} successful of ${exportsRun.all} exports`);
  };
  await checkValues('after the soak');
  const doctor = await runCli(['doctor'], env);
  const doctorOut = `${doctor.stdout}${doctor.stderr}`;
  const doctorOk = doctor.code === 0 && !/older key|damaged/i.test(doctorOut);

  // Kid scan against vault.json's key ids. A keychain vault keeps its key in the keychain, so
  // it is moved back to files first (the data key moves with it; stragglers would stay stragglers).
  let backendAtEnd = JSON.parse(readFileSync(join(dir, 'vault.json'), 'utf8')).backend;
  let moveBack;
  if (backendAtEnd === 'keychain') {
    moveBack = await runCli(['backend', 'file', '--kdf', 'interactive'], env);
    if (moveBack.code !== 0) lost.push(`final backend file failed: exit ${moveBack.code}: ${moveBack.stderr.trim()}`);
  }
  const vj = JSON.parse(readFileSync(join(dir, 'vault.json'), 'utf8'));
  const ids = [vj.keyId, vj.previousKeyId].filter((x) => typeof x === 'string');
  const stale = [];
  let scanned = 0;
  const scan = (d) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const st = statSync(p);
      if (st.isDirectory()) scan(p);
      else if (st.isFile() && name !== 'vault.json') {
        let obj;
        try {
          obj = JSON.parse(readFileSync(p, 'utf8'));
        } catch {
          continue;
        }
        if (obj && typeof obj === 'object' && 'ct' in obj) {
          scanned++;
          if (typeof obj.kid !== 'string' || !ids.includes(obj.kid)) stale.push(`${p.slice(dir.length + 1)} kid ${obj.kid ?? '(none: v1)'}`);
        }
      }
    }
  };
  if (ids.length === 0) lost.push('vault.json records no keyId');
  else scan(dir);
  // After the move back, every value must still load (the move carried them all).
  if (moveBack?.code === 0) await checkValues('after the move back to files');

  const exact = [...models.values(), ...linkModels.values()].filter((s) => s.size === 1).length;
  const result = {
    seed,
    procs: o.procs,
    seconds: o.seconds,
    soakMs,
    keychain: o.keychain,
    backendAtEnd,
    counts,
    commands: journal.length,
    servicesExact: exact,
    services: models.size + linkModels.size,
    blobsScanned: scanned,
    lost,
    anomalies,
    staleBlobs: stale,
    doctor: { code: doctor.code, ok: doctorOk, out: doctorOk ? '' : doctorOut.trim() },
    failures,
  };
  const pass = lost.length === 0 && anomalies.length === 0 && stale.length === 0 && doctorOk && failures.length === 0;

  log(`${journal.length} commands in ${(soakMs / 1000).toFixed(1)}s; backend at end: ${backendAtEnd}`);
  log(`${'op'.padEnd(17)} ${'ok'.padStart(5)} ${'refused'.padStart(8)} ${'failed'.padStart(7)}`);
  for (const [op, c] of Object.entries(counts).sort()) log(`${op.padEnd(17)} ${String(c.ok).padStart(5)} ${String(c.refused).padStart(8)} ${String(c.failed).padStart(7)}`);
  log(`${exact}/${models.size + linkModels.size} services and links with one possible value; ${scanned} sealed blobs scanned against ${ids.join(', ')}`);
  for (const l of lost) log(`LOST ${l}`);
  for (const a of anomalies) log(`ANOMALY ${a}`);
  for (const s of stale) log(`SEALED UNDER A DROPPED KEY ${s}`);
  if (!doctorOk) log(`DOCTOR exit ${doctor.code}: ${doctorOut.trim()}`);
  for (const f of failures.slice(0, 20)) log(`FAILED w${f.w} ${f.args.join(' ')}: exit ${f.code ?? f.signal}: ${f.stderr}`);
  log(pass ? 'PASS: nothing lost' : `FAIL (--seed ${seed} repeats the command choices; the interleaving is the machine's)`);
  if (o.json) process.stdout.write(`${JSON.stringify(result)}\n`);
  if (o.keep) log(`kept ${home}`);
  else rmSync(home, { recursive: true, force: true });
  process.exitCode = pass ? 0 : 1;
}

main().catch((e) => {
  process.stderr.write(`soak: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exitCode = 2;
});
