/**
 * The access log on a keychain vault (issue 29): the records go to the vault directory, sealed
 * under the keychain's vault-key, and read back with no passphrase.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { githubClassic } from '../helpers/cli.js';
import { keychainCli, requireKeyringOrSkip } from './keychain-harness.js';

const RUN = requireKeyringOrSkip();

describe.skipIf(!RUN)('access log, keychain vault', () => {
  const kc = keychainCli();
  const token = githubClassic();

  it('load and run append sealed records to the vault directory; log reads them; no value in the file', async () => {
    expect((await kc.run(['store', 'github', 'token', '-'], { input: token })).code).toBe(0);
    expect((await kc.run(['load', 'github'])).code).toBe(0);
    const run = await kc.run(['run', 'github', '--', 'true']);
    expect(run.code, run.stderr).toBe(0);
    const log = await kc.run(['log', '--json']);
    expect(log.code, log.stderr).toBe(0);
    const { records, problems } = JSON.parse(log.stdout) as { records: Array<{ cmd: string; names: string[]; program?: string }>; problems: string[] };
    expect(problems).toEqual([]);
    expect(records.map((r) => [r.cmd, r.names, r.program ?? null])).toEqual([
      ['load', ['github_token'], null],
      ['run', ['github_token'], 'true'],
    ]);
    const text = readFileSync(join(kc.dir, 'access.log'), 'utf8');
    expect(text).not.toContain(token);
    expect(text).not.toContain('github_token');
  });
});
