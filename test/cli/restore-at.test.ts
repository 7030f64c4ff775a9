/**
 * `restore --at PREFIX`: a prefix that several backups share is refused with the list (exit 2,
 * nothing restored); the whole timestamp, or a prefix only one backup has, restores that one.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, githubClassic, passphraseEnv, runCli, tempHome } from '../helpers/cli.js';

beforeAll(() => ensureBuilt());

describe('restore --at', () => {
  it('refuses an ambiguous prefix and lists the matches; a whole timestamp restores that backup', async () => {
    const home = tempHome();
    const env = passphraseEnv(home);
    expect((await runCli(['init', '--backend', 'file', '--kdf', 'interactive'], { home, env })).code).toBe(0);
    const tokens = [githubClassic(), githubClassic(), githubClassic()];
    for (const t of tokens) expect((await runCli(['store', 'github', 'token', '-'], { home, env, input: t })).code).toBe(0);
    const listed = await runCli(['backups', 'github', '--json'], { home, env });
    const stamps = (JSON.parse(listed.stdout) as Array<{ timestamp: string }>).map((b) => b.timestamp).sort();
    expect(stamps).toHaveLength(2); // the first two values, each replaced once
    const year = stamps[0]!.slice(0, 4);

    const r = await runCli(['restore', 'github', 'token', '--at', year], { home, env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`--at ${year} matches 2 backups of github token:`);
    for (const s of stamps) expect(r.stderr).toContain(`  ${s}\n`);
    expect(r.stderr).toContain(`hint: give the whole timestamp, e.g. mcp-tokens restore github token --at ${stamps[1]}`);
    expect((await runCli(['load', 'github', '--format', 'json'], { home, env })).stdout).toContain(tokens[2]); // unchanged

    const ok = await runCli(['restore', 'github', 'token', '--at', stamps[0]!], { home, env });
    expect(ok.code, ok.stderr).toBe(0);
    expect((await runCli(['load', 'github', '--format', 'json'], { home, env })).stdout).toContain(tokens[0]);
  });
});
