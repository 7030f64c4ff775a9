#!/usr/bin/env node
/**
 * `npm run bench`: whole-process timings of the built CLI against floors measured in the same
 * run (bare Node; the least a Node keychain read costs; the least a file-vault read costs at the
 * same KDF parameters) and against peers where installed. Prints one table, then each target of
 * the performance issue as met / not met. Not a test: nothing here runs in CI.
 *
 *   node bench/run.mjs [--runs 15] [--warmup 2] [--quick] [--no-profile] [--only agent|hotpath] [--out results.md]
 *
 * --only agent: just what the unlock agent's targets compare (the keychain floor, keychain and
 * default-preset file `load`/`run`, the same through the agent, the agent idle), so they can be
 * measured in one short run on a busy machine.
 * --only hotpath: likewise for the hot path's targets (keychain `load`/`run` against the keychain
 * floor, what services.json adds to `run`, python keyring, default-preset file `load` against its
 * floor), all in one round-robin group.
 *
 * --only scale: the cost per credential of import, list, load, doctor, rekey and backend moves at
 * 100, 1,000 and 10,000 credentials, and of backups and prune at 10,000 backups (lib/scale.mjs);
 * --scale-max N stops at N credentials, --scale-keychain-max N moves through the keychain up to N
 * (default 1,000: a move of 10,000 through gnome-keyring takes most of an hour here).
 *
 * Keychain rows run inside a private D-Bus session with its own gnome-keyring (started and
 * stopped here); file rows use vaults made by `init --kdf <preset>`. Everything lives in one
 * temporary directory that is removed at the end.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KEYRING_PROGRAMS, onPath, startKeyring } from './lib/keyring.mjs';
import { BIN, PASSPHRASE, REPO, userServiceVault, backupSwitch, backupTemplate, cli, dotenvxProject, fileVault, fillBackups, findDotenvx, findPython, githubToken, keychainVault, passStore, removeTree } from './lib/fixtures.mjs';
import { timeGroup } from './lib/measure.mjs';
import { agentIdle, nodeIdle, startAgent } from './lib/agent.mjs';
import { profile, renderProfile } from './lib/profile.mjs';
import { residentRss } from './lib/resident.mjs';
import { machineLine, renderReport } from './lib/report.mjs';
import { evaluateTargets, HOT_PATH } from './lib/targets.mjs';
import { measureScale, renderScale } from './lib/scale.mjs';

const opts = parseArgs(process.argv.slice(2));
const NODE = process.execPath;
const PRESETS = [
  // Argon2id dominates the slow presets (seconds per run here): fewer samples, said in the table.
  { name: 'interactive', runs: opts.runs, warmup: opts.warmup },
  { name: 'default', runs: opts.runs, warmup: opts.warmup },
  { name: 'moderate', runs: Math.min(opts.runs, 5), warmup: 1 },
  { name: 'sensitive', runs: Math.min(opts.runs, 3), warmup: 0 },
];

const root = mkdtempSync(join(tmpdir(), 'mcp-tokens-bench-'));
const cleanups = [() => removeTree(root)];
const results = {}; // id → { group, median, p10, p90, cpu, rss, n }
const jobsById = {};
const notes = [];
const started = Date.now();
const machine = machineLine();
const only = opts.only === 'agent';
// With --only agent, the rows the agent is compared with join its group: sampled round-robin
// with it, a change of load on this shared machine cannot tilt the ratios.
const agentPeers = [];

if (opts.only === 'scale') {
  try {
    await scaleOnly();
  } finally {
    for (const c of cleanups) await c();
  }
  process.exit(0);
}

// A labelled block: --only hotpath measures its group and leaves the rest (break bench).
bench: try {
  const home = join(root, 'home');
  mkdirSync(home);
  // A clean environment: no MCP_TOKENS_*, no D-Bus of the developer's session.
  const base = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, LANG: 'C.UTF-8' };
  const token = githubToken();
  const tokens = [githubToken(), githubToken()];
  const mt = (env, ...args) => ({ cmd: NODE, args: [BIN, ...args], env });
  const storeJob = (id, env) => {
    let i = 0;
    const job = { id, ...mt(env, 'store', 'github', 'token', '-'), input: tokens[0] };
    job.setup = () => (job.input = tokens[i++ % 2]); // a new value each time: a real write and a backup
    return job;
  };
  const group = (name, jobs, runs = opts.runs, warmup = opts.warmup) => {
    process.stderr.write(`bench: ${name} (${jobs.length} rows × ${runs} runs)\n`);
    for (const j of jobs) jobsById[j.id] = j;
    for (const [id, r] of Object.entries(timeGroup(jobs, { runs, warmup }))) results[id] = { ...r, group: name };
  };

  if (!only && opts.only !== 'hotpath') group('start-up', [
    { id: "node -e ''", cmd: NODE, args: ['-e', ''], env: base },
    { id: 'mcp-tokens --version', ...mt(base, '--version') },
    { id: 'mcp-tokens --help', ...mt(base, '--help') },
  ]);

  // ---- keychain ------------------------------------------------------------------------------
  let kc;
  if (process.platform === 'linux' && KEYRING_PROGRAMS.every(onPath)) {
    const session = await startKeyring();
    cleanups.unshift(() => session.stop());
    const kenv = { ...base, ...session.env };
    kc = { ...keychainVault(root, token, kenv), kenv };
    if (only) {
      agentPeers.push(
        { id: 'floor: keychain read', cmd: NODE, args: [join(REPO, 'bench/floors/keychain-read.mjs'), kc.service, 'github/token'], env: kenv },
        { id: 'keychain: load github', ...mt(kc.env, 'load', 'github') },
        { id: 'keychain: run github -- true', ...mt(kc.env, 'run', 'github', '--', 'true') },
      );
    }
  }
  // The keychain rows the hot path's targets compare (every mode but --only agent).
  const keychainJobs = () => {
    const kenv = kc.kenv;
    cli(kc.env, ['store', 'acme', 'token', '-'], 'acme-bench-token-0123456789');
    // The same user service without and with services.json: the difference is what reading and
    // checking the file adds to a run.
    const kcUser = userServiceVault(root, kenv);
    const python = findPython();
    const jobs = [
      { id: 'floor: keychain read', cmd: NODE, args: [join(REPO, 'bench/floors/keychain-read.mjs'), kc.service, 'github/token'], env: kenv },
      { id: 'floor: keychain read (addon by require)', cmd: NODE, args: [join(REPO, 'bench/floors/keychain-read-require.mjs'), kc.service, 'github/token'], env: kenv },
      { id: 'keychain: load github', ...mt(kc.env, 'load', 'github') },
      { id: 'keychain: run github -- true', ...mt(kc.env, 'run', 'github', '--', 'true') },
      { id: 'keychain: run acme -- true (no services.json)', ...mt(kc.env, 'run', 'acme', '--', 'true') },
      { id: 'keychain: run acme -- true (services.json)', ...mt(kcUser.env, 'run', 'acme', '--', 'true') },
    ];
    if (onPath('secret-tool')) jobs.push({ id: 'peer: secret-tool lookup', cmd: 'secret-tool', args: ['lookup', 'service', kc.service, 'username', 'github/token'], env: kenv });
    else notes.push('secret-tool lookup: skipped (apt-get install libsecret-tools)');
    if (python) jobs.push({ id: 'peer: python3 -m keyring get', cmd: python, args: ['-m', 'keyring', 'get', kc.service, 'github/token'], env: kenv });
    else notes.push('python3 -m keyring get: skipped (apt-get install python3-keyring)');
    return jobs;
  };
  const servicesJsonNote = () => {
    const plain = results['keychain: run acme -- true (no services.json)'];
    const withFile = results['keychain: run acme -- true (services.json)'];
    if (plain && withFile) notes.push(`services.json adds ${(withFile.median - plain.median).toFixed(1)} ms (median) to a run of a user service`);
  };
  if (!kc) notes.push(`keychain rows: skipped (need ${KEYRING_PROGRAMS.join(', ')}; Debian: apt-get install dbus gnome-keyring)`);

  if (opts.only === 'hotpath') {
    const v = fileVault(root, 'default', token, base);
    group('hot path', [
      ...(kc ? keychainJobs() : []),
      { id: 'floor: file read (default)', cmd: NODE, args: [join(REPO, 'bench/floors/file-read.mjs'), v.dir, 'github', 'token'], env: v.env },
      { id: 'file default: load github', ...mt(v.env, 'load', 'github') },
      { id: 'file default: run github -- true', ...mt(v.env, 'run', 'github', '--', 'true') },
    ]);
    servicesJsonNote();
    const targets = evaluateTargets(results, {}, undefined, undefined).filter((t) => HOT_PATH.has(t.key));
    const report = renderReport({ machine, results, resident: {}, targets, notes, profiled: [], opts, seconds: (Date.now() - started) / 1000 });
    process.stdout.write(report);
    if (opts.out) writeFileSync(opts.out, report);
    break bench;
  }

  if (kc && !only) {
    group('keychain', [...keychainJobs(), { id: 'keychain: list', ...mt(kc.env, 'list') }, storeJob('keychain: store github token', kc.env)]);
    servicesJsonNote();
  }

  // ---- file vaults, per KDF preset -------------------------------------------------------------
  const files = {};
  const dotenvx = findDotenvx();
  for (const p of PRESETS) {
    if ((opts.quick || only) && (p.name === 'moderate' || p.name === 'sensitive')) continue;
    if (only && p.name !== 'default') continue;
    const v = (files[p.name] = fileVault(root, p.name, token, base));
    const jobs = [
      { id: `floor: file read (${p.name})`, cmd: NODE, args: [join(REPO, 'bench/floors/file-read.mjs'), v.dir, 'github', 'token'], env: v.env },
      { id: `file ${p.name}: load github`, ...mt(v.env, 'load', 'github') },
      { id: `file ${p.name}: run github -- true`, ...mt(v.env, 'run', 'github', '--', 'true') },
    ];
    if (p.name === 'default' && !only) {
      jobs.push({ id: 'file default: list', ...mt(v.env, 'list') }, storeJob('file default: store github token', v.env));
      const pass = passStore(root, token);
      if (pass) {
        cleanups.unshift(pass.stop);
        jobs.push({ id: 'peer: pass show', cmd: 'pass', args: ['show', 'mcp-tokens/github-token'], env: pass.env });
      } else notes.push('pass show: skipped (apt-get install pass)');
      if (dotenvx) {
        const cwd = dotenvxProject(root, dotenvx, token);
        jobs.push({ id: 'peer: dotenvx run -- true', cmd: dotenvx, args: ['run', '--quiet', '--', 'true'], env: base, cwd });
      } else notes.push('dotenvx run: skipped (npm i -g @dotenvx/dotenvx, or set BENCH_PEERS to a prefix holding it)');
    }
    if (only) {
      agentPeers.push(...jobs.slice(1)); // load and run with the passphrase (Argon2id)
      continue;
    }
    group(`file vault, --kdf ${p.name}`, jobs, p.runs, p.warmup);
    if (p.runs < opts.runs) notes.push(`--kdf ${p.name}: ${p.runs} runs after ${p.warmup} warm-up (Argon2id takes seconds per run here)`);
  }

  // ---- the unlock agent, on the default-preset vault ---------------------------------------------
  // Its rows share the vault with the rows above; those find no agent (no XDG_RUNTIME_DIR there).
  const agent = startAgent(root, files.default);
  cleanups.unshift(agent.stop);
  group(only ? 'unlock agent and what it is compared with' : 'unlock agent (file vault, --kdf default)', [
    ...agentPeers,
    { id: 'agent: load github', ...mt(agent.env, 'load', 'github') },
    { id: 'agent: run github -- true', ...mt(agent.env, 'run', 'github', '--', 'true') },
    { id: 'agent: list', ...mt(agent.env, 'list') },
  ]);
  process.stderr.write('bench: the agent while idle\n');
  const agentCost = await agentIdle(agent.pid);
  notes.push(`the agent idle: ${agentCost.rss.toFixed(1)} MiB RSS; bare \`node -e 'setInterval(…)'\` idles at ${(await nodeIdle()).toFixed(1)} MiB here`);
  if (only) {
    const targets = evaluateTargets(results, {}, undefined, agentCost).filter((t) => t.name.includes('agent'));
    const report = renderReport({ machine, results, resident: {}, targets, notes, profiled: [], opts, seconds: (Date.now() - started) / 1000 });
    process.stdout.write(report);
    if (opts.out) writeFileSync(opts.out, report);
  } else {
    // ---- scale: 10,000 backups -------------------------------------------------------------------
    // On the keychain vault when there is one: no KDF there to hide O(n) work in the noise.
    const scaleVault = kc ?? files.interactive;
    cli(scaleVault.env, ['store', 'github', 'token', '-'], tokens[1]); // makes a real backup to copy
    const template = backupTemplate(scaleVault.dir, join(root, 'backup-template'));
    const dirs = { empty: join(root, 'backups-empty'), '10k': join(root, 'backups-10k'), prune: join(root, 'backups-prune') };
    mkdirSync(dirs.empty, { mode: 0o700 });
    mkdirSync(dirs.prune, { mode: 0o700 });
    fillBackups(template, dirs['10k'], 10_000);
    removeTree(join(scaleVault.dir, 'backups'));
    const use = backupSwitch(scaleVault.dir, dirs);
    const on = (which, job) => {
      const j = { ...job };
      j.setup = () => {
        use(which);
        job.setup?.();
        j.input = job.input; // storeJob's setup picks the value on the original
      };
      return j;
    };
    const kind = kc ? 'keychain' : 'file interactive';
    group(`scale (${kind} vault)`, [
      on('empty', storeJob('store, empty backups/', scaleVault.env)),
      on('10k', storeJob('store, 10,000 backups', scaleVault.env)),
      on('empty', { id: 'load, empty backups/', ...mt(scaleVault.env, 'load', 'github') }),
      on('10k', { id: 'load, 10,000 backups', ...mt(scaleVault.env, 'load', 'github') }),
    ]);
    const pruneJob = {
      id: 'prune of 10,000 backups',
      ...mt(scaleVault.env, 'prune', '--older-than', '90d'),
      setup: () => {
        use('prune');
        removeTree(join(scaleVault.dir, 'backups'));
        fillBackups(template, join(scaleVault.dir, 'backups'), 10_000);
      },
    };
    group(`scale (${kind} vault)`, [pruneJob], 5, 0);
    notes.push('prune: 5 runs (each re-creates 10,000 backups, untimed)');

    // ---- what run leaves resident while the server lives ------------------------------------------
    process.stderr.write('bench: resident RSS of run while its child sleeps\n');
    const resident = {};
    const sleeper = ['--', 'sleep', '30'];
    resident['floor: node spawning a child'] = await residentRss({ cmd: NODE, args: [join(REPO, 'bench/floors/spawn-wait.mjs'), 'sleep', '30'], env: base });
    if (kc) resident['keychain: run github'] = await residentRss({ cmd: NODE, args: [BIN, 'run', 'github', ...sleeper], env: kc.env });
    resident['file default: run github'] = await residentRss({ cmd: NODE, args: [BIN, 'run', 'github', ...sleeper], env: files.default.env });
    if (dotenvx) resident['peer: dotenvx run'] = await residentRss({ cmd: dotenvx, args: ['run', '--quiet', ...sleeper], env: base, cwd: join(root, 'dotenvx') });

    // ---- never a child without its credentials ----------------------------------------------------
    const marker = join(root, 'child-ran');
    const bad = { ...files.default.env, MCP_TOKENS_PASSPHRASE: `${PASSPHRASE} (wrong)` };
    const r = spawnSync(NODE, [BIN, 'run', 'github', '--', 'touch', marker], { env: bad, stdio: 'ignore' });
    const safety = { code: r.status, childRan: existsSync(marker) };

    const targets = evaluateTargets(results, resident, safety, agentCost);
    // Where the time goes, for the rows the start-up targets are about: one profiled run each.
    const profiled = [];
    if (opts.profile) {
      process.stderr.write('bench: profiles\n');
      const ids = ["node -e ''", 'mcp-tokens --help', 'floor: keychain read', 'keychain: load github', 'floor: file read (interactive)', 'file interactive: load github'];
      for (const id of ids.filter((i) => jobsById[i] && jobsById[i].cmd === NODE)) profiled.push(renderProfile(id, profile(jobsById[id])));
    }
    const report = renderReport({ machine, results, resident, targets, notes, profiled, opts, seconds: (Date.now() - started) / 1000 });
    process.stdout.write(report);
    if (opts.out) writeFileSync(opts.out, report);
  }
} finally {
  for (const c of cleanups) await c();
}

/** --only scale: the scale rows alone (lib/scale.mjs), with a private Secret Service for the backend moves. */
async function scaleOnly() {
  const home = join(root, 'home');
  mkdirSync(home);
  const base = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, LANG: 'C.UTF-8' };
  let kenv;
  if (process.platform === 'linux' && KEYRING_PROGRAMS.every(onPath)) {
    const session = await startKeyring();
    cleanups.unshift(() => session.stop());
    kenv = session.env;
    notes.push(`backend moves through gnome-keyring up to ${opts.scaleKeychainMax.toLocaleString('en-US')} credentials (--scale-keychain-max N for more)`);
  } else notes.push(`backend move rows: skipped (need ${KEYRING_PROGRAMS.join(', ')})`);
  const rows = await measureScale({ root, base, kenv, runs: opts.runs, log: (m) => process.stderr.write(`bench: ${m}\n`), maxKeychain: opts.scaleKeychainMax, maxSize: opts.scaleMax, failures: notes });
  notes.push(`total bench time ${((Date.now() - started) / 1000).toFixed(0)} s`);
  const report = renderScale(rows, { machine, notes });
  process.stdout.write(report);
  if (opts.out) writeFileSync(opts.out, report);
}

function parseArgs(argv) {
  const o = { runs: 15, warmup: 2, quick: false, out: undefined, profile: true, only: undefined, scaleKeychainMax: 1_000, scaleMax: 10_000 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--runs') o.runs = Number(argv[++i]);
    else if (a === '--warmup') o.warmup = Number(argv[++i]);
    else if (a === '--quick') o.quick = true;
    else if (a === '--out') o.out = argv[++i];
    else if (a === '--no-profile') o.profile = false;
    else if (a === '--only') {
      o.only = argv[++i];
      if (o.only !== 'agent' && o.only !== 'hotpath' && o.only !== 'scale') throw new Error('--only takes: agent, hotpath, scale');
    } else if (a === '--scale-keychain-max') o.scaleKeychainMax = Number(argv[++i]);
    else if (a === '--scale-max') o.scaleMax = Number(argv[++i]);
    else throw new Error(`unknown option ${a}; usage: node bench/run.mjs [--runs N] [--warmup N] [--quick] [--no-profile] [--only agent|hotpath|scale] [--scale-max N] [--scale-keychain-max N] [--out FILE]`);
  }
  if (!(o.runs >= 1)) throw new Error('--runs must be at least 1');
  return o;
}
