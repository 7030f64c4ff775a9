/**
 * The agent ends with the login: logind (and elogind) remove $XDG_RUNTIME_DIR when the user's last
 * session ends, and an agent whose socket or token file is gone locks at once (inotify, no
 * polling). No logind here, so the test removes the directory as logind would.
 */
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, githubClassic } from '../helpers/cli.js';
import { agentVault, cli, pidAlive, status, unlockVault, until } from './support.js';

beforeAll(() => ensureBuilt());

describe('the agent locks when it cannot be reached any more', () => {
  it('the runtime directory removed (logout of the last session): the agent exits, commands need the passphrase', async () => {
    const v = await agentVault([['github', 'token', githubClassic()]]);
    const s = await unlockVault(v);
    expect((await cli(v, ['load', 'github'])).code).toBe(0);
    rmSync(v.run, { recursive: true, force: true });
    expect(await until(() => !pidAlive(s.pid!))).toBe(true);
    const load = await cli(v, ['load', 'github']);
    expect(load.code).toBe(4);
  });

  it('its socket removed: the agent exits and leaves no token behind', async () => {
    const v = await agentVault([['github', 'token', githubClassic()]]);
    const s = await unlockVault(v);
    const dir = join(v.run, 'mcp-tokens');
    const sock = readdirSync(dir).find((n) => n.endsWith('.sock'))!;
    rmSync(join(dir, sock));
    expect(await until(() => !pidAlive(s.pid!))).toBe(true);
    expect(readdirSync(dir)).toEqual([]);
    expect((await status(v)).unlocked).toBe(false);
  });

  it('its token file removed: the agent exits', async () => {
    const v = await agentVault([['github', 'token', githubClassic()]]);
    const s = await unlockVault(v);
    const dir = join(v.run, 'mcp-tokens');
    rmSync(join(dir, readdirSync(dir).find((n) => n.endsWith('.token'))!));
    expect(await until(() => !pidAlive(s.pid!))).toBe(true);
    expect(readdirSync(dir)).toEqual([]);
  });
});
