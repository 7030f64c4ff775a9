/**
 * What the CLI loads (issue 28's hot path): bin runs dist/cli/bundle.js, our code in one file
 * (scripts/bundle.mjs). A `load` or `run` must load no other module of ours, no commander from
 * node_modules (it is in the bundle), and none of the big libraries that only some commands need
 * (zod, yaml, the TOML ones, jsonc-parser): the bundle requires those when a command first reaches the module
 * that uses them. A tracer given to `node --import` records every ES module resolved and, at exit,
 * every CommonJS module in require's cache; `services add` (which checks services.json with zod)
 * shows that the tracer sees a library required on use.
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
process.on('exit', () => { for (const k of Object.keys(cache)) appendFileSync(${JSON.stringify(out)}, 'cjs file://' + k + '\\n'); });`;
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
  const loaded = readFileSync(out, 'utf8')
    .split('\n')
    .filter((l) => l.includes('file://'))
    .map((l) => relative(REPO, decodeURIComponent(l.slice(l.indexOf('file://') + 7))));
  return {
    ours: [...new Set(loaded.filter((p) => !p.startsWith('node_modules/') && !p.startsWith('..')))].sort(),
    packages: [...new Set(loaded.filter((p) => p.startsWith('node_modules/')).map((p) => p.split('/').slice(1, p.split('/')[1]!.startsWith('@') ? 3 : 2).join('/')))].sort(),
  };
}

describe('what a command loads', () => {
  let home: string;
  let env: Record<string, string>;
  beforeAll(async () => {
    ensureBuilt();
    home = tempHome('mcpt-startup-');
    env = passphraseEnv(home);
    expect((await runCli(['init'], { home, env })).code).toBe(0);
    expect((await runCli(['store', 'github', 'token', '-'], { home, env, input: githubClassic() })).code).toBe(0);
  });

  it.each([
    ['load', ['load', 'github']],
    ['run', ['run', 'github', '--', 'true']],
  ])('%s: the bundle and nothing else of ours; commander from the bundle; no library it does not use', async (_n, args) => {
    const got = await traced(home, env, args);
    expect(got.ours).toEqual(['bin/mcp-tokens.js', 'dist/cli/bundle.js']);
    expect(got.packages).not.toContain('commander');
    for (const p of ON_USE) expect(got.packages).not.toContain(p);
    expect(got.packages).toContain('libsodium-wrappers-sumo'); // a file vault: the tracer does see packages
  });

  it('services add: zod is required when the command reaches services.json\'s full check', async () => {
    const got = await traced(home, env, ['services', 'add', 'acme', '--field', 'token:ACME_TOKEN']);
    expect(got.ours).toEqual(['bin/mcp-tokens.js', 'dist/cli/bundle.js']);
    expect(got.packages, JSON.stringify(got)).toContain('zod');
  });
});
