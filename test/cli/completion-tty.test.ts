/**
 * Bash completion as a person meets it: an interactive bash 5 in a real terminal (tmux), the
 * completion script sourced, a line typed, Tab pressed, and the line read back off the screen.
 * bash's default COMP_WORDBREAKS (Debian's too) holds `@`, `=` and `:`, so bash itself splits
 * `github@work` into three words before the completion function runs; a test that sets
 * COMP_WORDS by hand (completion.test.ts) cannot see what that does to the line.
 * Without tmux the test is skipped with one SKIPPED line (a failure under CI=true).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, githubClassic, jwt, passphraseEnv, runCli, tempHome } from '../helpers/cli.js';

const TMUX = ['/usr/bin/tmux', '/bin/tmux'].find((p) => existsSync(p));
const BASH = ['/usr/bin/bash', '/bin/bash'].find((p) => existsSync(p));
const NO_TMUX = 'tmux: the interactive completion test needs tmux and bash (Debian: apt-get install tmux)';

if (!TMUX || !BASH) {
  if (process.env['CI'] === 'true') throw new Error(`CI=true and ${NO_TMUX}`);
  console.warn(`SKIPPED: ${NO_TMUX}`);
}

describe.skipIf(!TMUX || !BASH)('bash completion in an interactive bash (tmux)', () => {
  const home = tempHome('mcpt-compl-tty-');
  const socket = join(home, 'tmux.sock');
  const tmux = (...args: string[]) => spawnSync(TMUX!, ['-S', socket, '-f', '/dev/null', ...args], { encoding: 'utf8' });
  const screen = (): string[] => tmux('capture-pane', '-p', '-t', 't').stdout.split('\n').map((l) => l.trimEnd()).filter((l) => l !== '');
  const lastLine = (): string => screen().at(-1) ?? '';

  async function until(what: () => boolean, ms = 20_000): Promise<boolean> {
    for (const end = Date.now() + ms; Date.now() < end; ) {
      if (what()) return true;
      await new Promise((r) => setTimeout(r, 100));
    }
    return what();
  }

  /** Type `text`, press Tab, and return the command line once it stops changing; then clear it. */
  async function tab(text: string): Promise<string> {
    tmux('send-keys', '-t', 't', '-l', text);
    await until(() => lastLine().endsWith(text.trimEnd()));
    tmux('send-keys', '-t', 't', 'Tab');
    // The completion runs node once; the line is read when it has been still for a while.
    let line = lastLine();
    let still = 0;
    for (const end = Date.now() + 20_000; Date.now() < end && still < 15; ) {
      await new Promise((r) => setTimeout(r, 100));
      const now = lastLine();
      still = now === line ? still + 1 : 0;
      line = now;
    }
    tmux('send-keys', '-t', 't', 'C-u');
    await until(() => lastLine() === '$');
    return line;
  }

  beforeAll(async () => {
    ensureBuilt();
    const env = passphraseEnv(home);
    for (const [service, key, value] of [
      ['github', 'token', githubClassic()],
      ['github@work', 'token', githubClassic()],
      ['wikijs', 'token', jwt()],
    ] as const) {
      const r = await runCli(['store', service, key, '-'], { home, env, input: value });
      expect(r.code, r.stderr).toBe(0);
    }
    const script = await runCli(['completion', 'bash'], { home });
    expect(script.code, script.stderr).toBe(0);
    writeFileSync(join(home, 'completion.bash'), script.stdout);
    // A plain interactive bash with bash's own defaults: no rc files, no bash-completion package.
    // HISTFILE= : no ~/.bash_history written into the temp HOME while it is being removed.
    const shell = `env -i HOME=${home} PATH=/usr/bin:/bin TERM=xterm LANG=C.UTF-8 HISTFILE= PS1='$ ' ${BASH} --norc --noprofile -i`;
    const started = tmux('new-session', '-d', '-s', 't', '-x', '200', '-y', '30', '-c', home, shell);
    expect(started.status, started.stderr).toBe(0);
    expect(await until(() => lastLine() === '$')).toBe(true);
    tmux('send-keys', '-t', 't', '-l', `source ${join(home, 'completion.bash')}; printf 'breaks:%q\\n' "$COMP_WORDBREAKS"; clear`);
    tmux('send-keys', '-t', 't', 'Enter');
    expect(await until(() => screen().join('\n') === '$')).toBe(true);
  }, 120_000);

  afterAll(async () => {
    // Our own server only (its socket is in the temp HOME); wait until its bash is gone.
    const pid = Number(tmux('display-message', '-p', '-t', 't', '#{pane_pid}').stdout.trim());
    tmux('kill-server');
    await until(() => {
      if (!(pid > 0)) return true;
      try {
        process.kill(pid, 0);
        return false;
      } catch {
        return true;
      }
    }, 10_000);
  });

  it("the shell splits words at '@' (bash's default COMP_WORDBREAKS)", async () => {
    tmux('send-keys', '-t', 't', '-l', `printf '<%s>\\n' "$COMP_WORDBREAKS" | grep -c @`);
    tmux('send-keys', '-t', 't', 'Enter');
    expect(await until(() => screen().includes('1'))).toBe(true);
    tmux('send-keys', '-t', 't', '-l', 'clear');
    tmux('send-keys', '-t', 't', 'Enter');
    await until(() => screen().join('\n') === '$');
  });

  it.each([
    ['mcp-tokens run github@w', '$ mcp-tokens run github@work'],
    ['mcp-tokens store github@work t', '$ mcp-tokens store github@work token'],
    ['mcp-tokens run github@', '$ mcp-tokens run github@work'],
    ['mcp-tokens load --format=j', '$ mcp-tokens load --format=json'],
    ['mcp-tokens run github@work wi', '$ mcp-tokens run github@work wikijs'],
  ])('%s<Tab> → %s', async (typed, expected) => {
    // The screen drops trailing blanks: the space bash adds after a single match is not seen.
    expect(await tab(typed)).toBe(expected);
  }, 60_000);
});
