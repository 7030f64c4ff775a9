/**
 * What the CLI loads (issue 28's hot path): bin runs dist/cli/bundle.js, our code in one file
 * (scripts/bundle.mjs), or for `load <service>` and `run <service> -- …` without options the
 * smaller dist/cli/bundle-fast.js. A `load` or `run` must load no other module of ours (but the
 * tiny dist/cli/plain-args.js bin decides with), no commander from
 * node_modules (it is in the bundle), and none of the big libraries that only some commands need
 * (zod, yaml, the TOML ones, jsonc-parser): the bundle requires those when a command first reaches the module
 * that uses them. A tracer given to `node --import` records every ES module resolved and, at exit,
 * every CommonJS module in require's cache; `services add` (which checks services.json with zod)
 * shows that the tracer sees a library required on use. `load <service>` and `run <service> -- …`
 * take main.ts's fast path, without commander; the pairs below show that they answer as commander
 * does.
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { BIN, REPO, cliEnv, collect, ensureBuilt, githubClassic, passphraseEnv, rootsArgs, runCli, tempHome, testRoots } from '../helpers/cli.js';

const ON_USE = ['zod', 'yaml', '@decimalturn/toml-patch', 'toml-eslint-parser', 'jsonc-parser'];

function tracer(out: string): string {
  const hooks = `import { appendFileSync } from 'node:fs';
export async function resolve(s, c, next) {
  const r = await next(s, c);
  if (r.url.startsWith('file:')) appendFileSync(${JSON.stringify(out)}, 'esm ' + r.url + '\\n');
  return r;
}`;
  const code = `import { register, createRequire } from 'node:module';
import { appendFileSync } from 'node:fs';
register('data:text/javascript;base64,${Buffer.from(hooks).toString('base64')}');
const cache = createRequire(${JSON.stringify(join(REPO, 'package.json'))}).cache;
const dump = () => {
  for (const k of Object.keys(cache)) appendFileSync(${JSON.stringify(out)}, 'cjs file://' + k + '\\n');
  for (const m of process.moduleLoadList) if (m.startsWith('NativeModule ') && !m.startsWith('NativeModule internal/')) appendFileSync(${JSON.stringify(out)}, 'builtin ' + m.slice(13) + '\\n');
};
process.on('exit', dump);
// run on Node >= 22.15 replaces the process with the command (process.execve): no 'exit' then.
const execve = process.execve;
if (typeof execve === 'function') process.execve = (...a) => { dump(); return execve.apply(process, a); };`;
  return `data:text/javascript;base64,${Buffer.from(code).toString('base64')}`;
}

/** Run the CLI with the tracer; what it loaded, as paths relative to the repository. */
async function traced(home: string, env: Record<string, string>, args: string[]) {
  const out = join(home, `trace-${args[0]}.txt`);
  writeFileSync(out, '');
  const child = spawn(process.execPath, [...rootsArgs(testRoots(home)), '--import', tracer(out), BIN, ...args], {
    cwd: home,
    env: cliEnv(home, env),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const r = await collect(child);
  expect(r.code, r.stderr).toBe(0);
  const lines = readFileSync(out, 'utf8').split('\n');
  const loaded = lines
    .filter((l) => l.includes('file://'))
    .map((l) => relative(REPO, decodeURIComponent(l.slice(l.indexOf('file://') + 7))));
  return {
    builtins: lines.filter((l) => l.startsWith('builtin ')).map((l) => l.slice(8)),
    ours: [...new Set(loaded.filter((p) => !p.startsWith('node_modules/') && !p.startsWith('..')))].sort(),
    packages: [...new Set(loaded.filter((p) => p.startsWith('node_modules/')).map((p) => p.split('/').slice(1, p.split('/')[1]!.startsWith('@') ? 3 : 2).join('/')))].sort(),
  };
}

/** A file vault (the suite's cheap KDF) holding github's token, in a fresh HOME. */
async function githubVault(prefix: string): Promise<{ home: string; env: Record<string, string> }> {
  ensureBuilt();
  const home = tempHome(prefix);
  const env = passphraseEnv(home);
  expect((await runCli(['init'], { home, env })).code).toBe(0);
  expect((await runCli(['store', 'github', 'token', '-'], { home, env, input: githubClassic() })).code).toBe(0);
  return { home, env };
}

describe('what a command loads', () => {
  let home: string;
  let env: Record<string, string>;
  beforeAll(async () => ({ home, env } = await githubVault('mcpt-startup-')));

  it.each([
    ['load', ['load', 'github']],
    ['run', ['run', 'github', '--', 'true']],
  ])('%s: the bundle and nothing else of ours; commander from the bundle; no library it does not use', async (_n, args) => {
    const got = await traced(home, env, args);
    expect(got.ours).toEqual(['bin/mcp-tokens.js', 'dist/cli/bundle-fast.js', 'dist/cli/plain-args.js']);
    expect(got.packages).not.toContain('commander');
    for (const p of ON_USE) expect(got.packages).not.toContain(p);
    expect(got.packages).toContain('libsodium-wrappers-sumo'); // a file vault: the tracer does see packages
    // Node's modules the bundle requires where they are used: none of these is needed here.
    for (const m of ['http', 'https', 'tls']) expect(got.builtins).not.toContain(m);
    expect(got.builtins).toContain('fs');
    // The fast path: commander (whose top requires child_process) is never evaluated for load.
    if (args[0] === 'load') expect(got.builtins).not.toContain('child_process');
  });

  it('load with an option goes through commander in the whole CLI (the checks above can fail)', async () => {
    const got = await traced(home, env, ['load', 'github', '--format', 'sh']);
    expect(got.ours).toEqual(['bin/mcp-tokens.js', 'dist/cli/bundle.js', 'dist/cli/plain-args.js']);
    expect(got.builtins).toContain('child_process');
  });

  it('services add: zod is required when the command reaches services.json\'s full check', async () => {
    const got = await traced(home, env, ['services', 'add', 'acme', '--field', 'token:ACME_TOKEN']);
    expect(got.ours).toEqual(['bin/mcp-tokens.js', 'dist/cli/bundle.js', 'dist/cli/plain-args.js']);
    expect(got.packages, JSON.stringify(got)).toContain('zod');
  });
});

describe('the fast path (load <service>, run <service> -- …) answers as commander does', () => {
  let home: string;
  let env: Record<string, string>;
  beforeAll(async () => ({ home, env } = await githubVault('mcpt-fast-')));

  // The second form of each pair has an option at its default, which sends it through commander.
  it.each([
    ['load', ['load', 'github'], ['load', 'github', '--format', 'sh']],
    ['load, a service never stored', ['load', 'hass'], ['load', 'hass', '--format', 'sh']],
    ['load, a name that is refused', ['load', 'git.hub'], ['load', 'git.hub', '--format', 'sh']],
    ['load, a typo', ['load', 'githbu'], ['load', 'githbu', '--format', 'sh']],
    ['run', ['run', 'github', '--', 'sh', '-c', 'echo "${#GITHUB_PERSONAL_ACCESS_TOKEN}"; exit 7'], ['--no-color', 'run', 'github', '--', 'sh', '-c', 'echo "${#GITHUB_PERSONAL_ACCESS_TOKEN}"; exit 7']],
    ['run, a service never stored', ['run', 'hass', '--', 'true'], ['--no-color', 'run', 'hass', '--', 'true']],
  ])('%s', async (_n, fast, slow) => {
    const [a, b] = await Promise.all([runCli(fast, { home, env }), runCli(slow, { home, env })]);
    expect({ code: a.code, stdout: a.stdout, stderr: a.stderr }).toEqual({ code: b.code, stdout: b.stdout, stderr: b.stderr });
    expect(a.stdout + a.stderr).not.toBe('');
  });
});
