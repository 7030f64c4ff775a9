/**
 * `npm run bench -- --only scale`: what a command costs per credential as the vault grows.
 *
 * For each size N (100, 1,000 and 10,000 credentials of 12 services, one bundle, file vault at
 * `--kdf interactive` as in the table) it times `import` of the bundle into an empty vault,
 * then `list`, `load` (all), `doctor` and `rekey` on the vault it made, and (with a Secret Service)
 * `backend keychain` and back; and `backups` and `prune` with as many backups.
 *
 * Two ratios per command, both of one run: t(N)/N at 10,000 over t(N)/N at 100 (the issue's
 * words; start-up and Argon2id, paid once per command, flatter it), and the marginal cost of a
 * credential from 1,000 to 10,000 over that from 100 to 1,000 (fixed costs cancel: a command
 * whose work grows faster than its input shows here). The target (≤ 1.5×) is judged on the
 * marginal ratio, for wall time and for CPU time (user + sys of the child): wall time on this
 * shared machine is mostly waiting (fsync, other people's load).
 */
import { spawnSync } from 'node:child_process';
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, PASSPHRASE, REPO, backupTemplate, cli, fillBackups, removeTree } from './fixtures.mjs';
import { summarize } from './measure.mjs';

const { seal } = await import(join(REPO, 'dist/bundle/age.js'));
const { serializeBundle } = await import(join(REPO, 'dist/bundle/format.js'));

const SIZES = [100, 1_000, 10_000];
const TARGET = 1.5;

/** Samples per size: the big ones take minutes each on this machine. */
function runsFor(n, runs) {
  return n >= 10_000 ? 1 : n >= 1_000 ? Math.min(runs, 3) : Math.min(runs, 5);
}

/** One timed run of the CLI: wall ms and CPU ms (user + sys, GNU time of the child). */
function timed(env, args, input = '') {
  const out = join(env.MCP_TOKENS_DIR, '..', `time-${process.pid}`);
  const t0 = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '%U %S', '-o', out, process.execPath, BIN, ...args], { env, input, stdio: ['pipe', 'ignore', 'pipe'], maxBuffer: 1 << 26 });
  const wall = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`mcp-tokens ${args.join(' ')} exited ${r.status}: ${String(r.stderr).slice(0, 400)}`);
  const [u, s] = readFileSync(out, 'utf8').trim().split('\n').pop().split(' ').map(Number);
  rmSync(out, { force: true });
  return { wall, cpu: (u + s) * 1000 };
}

/** A bundle of n credentials of 12 new services, sealed to the vault's identity. */
async function bundleFor(env, n, path) {
  const recipient = cli(env, ['identity']).trim();
  const credentials = Array.from({ length: n }, (_, i) => ({ service: `svc-${i % 12}`, key: `k${i}-token`, value: `v${i}-${(i * 7919).toString(36).padStart(8, 'x')}` }));
  writeFileSync(path, await seal([recipient], serializeBundle({ createdAt: new Date().toISOString(), credentials }), false));
}

/** A fresh file vault (`--kdf interactive`) in dir, with its age identity. */
function freshVault(base, dir) {
  removeTree(dir);
  const env = { ...base, MCP_TOKENS_DIR: dir, MCP_TOKENS_PASSPHRASE: PASSPHRASE, MCP_TOKENS_BACKEND: 'file' };
  cli(env, ['init', '--kdf', 'interactive']);
  cli(env, ['identity']);
  return env;
}

/**
 * Every row at every size: { [command]: { [n]: { wall, cpu } } } (medians). `kenv`, when given,
 * is a private Secret Service session for the backend move rows.
 */
export async function measureScale({ root, base, kenv, runs, log, maxKeychain = 1_000, maxSize = 10_000, failures }) {
  const rows = {};
  const put = (cmd, n, samples) => {
    rows[cmd] ??= {};
    rows[cmd][n] = { wall: summarize(samples.map((s) => s.wall)).median, cpu: summarize(samples.map((s) => s.cpu)).median, n: samples.length };
    log(`scale: ${cmd} at ${n.toLocaleString('en-US')}: ${rows[cmd][n].wall.toFixed(0)} ms wall, ${rows[cmd][n].cpu.toFixed(0)} ms CPU (median of ${samples.length})`);
  };
  for (const n of SIZES.filter((s) => s <= maxSize)) {
    const k = runsFor(n, runs);
    log(`scale: ${n.toLocaleString('en-US')} credentials (${k} run${k === 1 ? '' : 's'})`);
    const dir = join(root, `scale-${n}`);
    const bundle = join(root, `scale-${n}.age`);
    const template = join(root, `scale-${n}-empty`);
    await bundleFor(freshVault(base, template), n, bundle);
    const imports = [];
    const env = { ...base, MCP_TOKENS_DIR: dir, MCP_TOKENS_PASSPHRASE: PASSPHRASE, MCP_TOKENS_BACKEND: 'file' };
    for (let i = 0; i < k; i++) {
      removeTree(dir);
      cpSync(template, dir, { recursive: true }); // an empty vault holding the bundle's identity
      imports.push(timed(env, ['--quiet', 'import', '--new-services', bundle]));
    }
    put('import', n, imports);
    for (const [name, args] of [['list', ['list']], ['load (all)', ['load']], ['doctor', ['doctor']]]) {
      put(name, n, Array.from({ length: k }, () => timed(env, args)));
    }
    put('rekey', n, Array.from({ length: k }, () => timed(env, ['--quiet', 'rekey'])));
    if (kenv && n <= maxKeychain) {
      const kc = { ...env, ...kenv, MCP_TOKENS_KEYCHAIN_SERVICE: `mcp-tokens-bench-scale-${n}` };
      const there = [];
      const back = [];
      try {
        for (let i = 0; i < k; i++) {
          there.push(timed(kc, ['--quiet', 'backend', 'keychain']));
          back.push(timed(kc, ['--quiet', 'backend', 'file', '--kdf', 'interactive']));
        }
        put('backend keychain', n, there);
        put('backend file', n, back);
      } catch (e) {
        // The keyring daemon's failure at this size is a result too: recorded, and the rest goes on.
        log(`scale: backend moves at ${n.toLocaleString('en-US')} failed: ${e.message}`);
        failures?.push(`backend moves at ${n.toLocaleString('en-US')} credentials failed after ${there.length} of ${k} into the keychain and ${back.length} back: ${e.message.replace(/\s+/g, ' ').slice(0, 500)}`);
      }
    }
    removeTree(dir);
    removeTree(template);
  }
  // Backups: 100 and 10,000 of one credential (hard links to one real sealed backup, from 2020).
  const dir = join(root, 'scale-backups');
  const env = freshVault(base, dir);
  cli(env, ['store', 'github', 'token', '-'], 'ghp_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa');
  cli(env, ['store', 'github', 'token', '-'], 'ghp_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb');
  const template = backupTemplate(dir, join(root, 'scale-backup-template'));
  for (const n of SIZES.filter((s) => s <= maxSize)) {
    const k = runsFor(n, runs);
    log(`scale: ${n.toLocaleString('en-US')} backups`);
    const fill = () => {
      removeTree(join(dir, 'backups'));
      fillBackups(template, join(dir, 'backups'), n);
    };
    fill();
    put('backups (listing)', n, Array.from({ length: k }, () => timed(env, ['backups'])));
    put('prune', n, Array.from({ length: k }, () => (fill(), timed(env, ['--quiet', 'prune', '--older-than', '90d']))));
  }
  removeTree(dir);
  return rows;
}

/** Cost per item of the step from a to b items: (t(b) − t(a)) / (b − a). */
function slope(row, a, b, what) {
  const ta = row[a]?.[what];
  const tb = row[b]?.[what];
  return ta === undefined || tb === undefined ? undefined : (tb - ta) / (b - a);
}

/** The scale table, the ratios and the targets, as Markdown. */
export function renderScale(rows, { machine, notes }) {
  const lines = [`Machine: ${machine}.`, '', '| command | n | median wall ms | median CPU ms | runs | wall ms / n | CPU ms / n |', '| --- | ---: | ---: | ---: | ---: | ---: | ---: |'];
  const f = (v, d = 1) => (v === undefined ? 'n/a' : v.toFixed(d));
  for (const [cmd, byN] of Object.entries(rows)) {
    for (const [n, r] of Object.entries(byN)) {
      const nn = Number(n);
      lines.push(`| ${cmd} | ${nn.toLocaleString('en-US')} | ${f(r.wall, 0)} | ${f(r.cpu, 0)} | ${r.n} | ${f(r.wall / nn, 2)} | ${f(r.cpu / nn, 2)} |`);
    }
  }
  lines.push(
    '',
    `| command | wall: t/n at 10,000 ÷ at 100 | CPU: t/n at 10,000 ÷ at 100 | wall ms per credential, 100→1,000 / 1,000→10,000 | CPU ms per credential, 100→1,000 / 1,000→10,000 | marginal ratio wall / CPU | target ≤ ${TARGET}× (marginal) |`,
    '| --- | ---: | ---: | ---: | ---: | ---: | --- |',
  );
  const x = (v) => (v === undefined || !Number.isFinite(v) ? 'n/a' : `${v.toFixed(2)}×`);
  for (const [cmd, byN] of Object.entries(rows)) {
    const flat = (what) => (byN[10_000] && byN[100] ? byN[10_000][what] / 10_000 / (byN[100][what] / 100) : undefined);
    const small = (what) => slope(byN, 100, 1_000, what);
    const big = (what) => slope(byN, 1_000, 10_000, what);
    // A step too small to measure (≤ 0: below GNU time's 10 ms, or noise) is not a ratio.
    const ratio = (what) => (small(what) !== undefined && big(what) !== undefined && small(what) > 0 ? big(what) / small(what) : undefined);
    const [w, c] = [ratio('wall'), ratio('cpu')];
    const status = !byN[10_000] ? 'skipped (no 10,000 row)' : c === undefined ? 'n/a (CPU step from 100 to 1,000 too small to measure)' : c <= TARGET && (w === undefined || w <= TARGET) ? 'met' : c <= TARGET ? '**not met** (wall only)' : '**not met**';
    lines.push(`| ${cmd} | ${x(flat('wall'))} | ${x(flat('cpu'))} | ${f(small('wall'), 2)} / ${f(big('wall'), 2)} | ${f(small('cpu'), 3)} / ${f(big('cpu'), 3)} | ${x(w)} / ${x(c)} | ${status} |`);
  }
  if (notes.length) lines.push('', 'Notes:', '', ...notes.map((n) => `- ${n}`));
  lines.push('');
  return lines.join('\n');
}
