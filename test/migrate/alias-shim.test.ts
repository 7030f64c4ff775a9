/**
 * A config server that read GITHUB_TOKEN is rewritten to `mcp-tokens run github -- sh -c '…' …`.
 * Run the part after `--` for real, with the environment `run` would give it: the server must
 * see its own variable name, and no argv in the chain may hold the secret.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { launchLine } from '../../src/migrate/rewrite.js';
import { CANARIES } from './tokens.js';

const run = promisify(execFile);

describe('alias shim', () => {
  it('hands the value to the name the server reads, never through argv', async () => {
    const server = [process.execPath, '-e', 'process.stdout.write(JSON.stringify([process.env.GITHUB_TOKEN, process.env.GH_HOST, process.argv]))'];
    const line = launchLine(server[0]!, server.slice(1), ['github'], [{ name: 'GITHUB_TOKEN', from: 'GITHUB_PERSONAL_ACCESS_TOKEN' }], 'mcp-tokens');
    expect(line.slice(0, 4)).toEqual(['mcp-tokens', 'run', 'github', '--']);
    expect(line.join(' ')).not.toContain(CANARIES.GITHUB);
    const [cmd, ...args] = line.slice(4);
    const { stdout } = await run(cmd!, args, { env: { PATH: process.env['PATH'] ?? '', GITHUB_PERSONAL_ACCESS_TOKEN: CANARIES.GITHUB, GH_HOST: 'x' } });
    const [token, host, argv] = JSON.parse(stdout) as [string, string, string[]];
    expect(token).toBe(CANARIES.GITHUB);
    expect(host).toBe('x');
    expect(argv.join(' ')).not.toContain(CANARIES.GITHUB);
  });
});
