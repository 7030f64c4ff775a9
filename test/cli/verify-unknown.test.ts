/** `verify` of a service with nothing stored is a failure (exit 3), with a "did you mean" for a typo. */
import { beforeAll, describe, expect, it } from 'vitest';
import { closest } from '../../src/cli/suggest.js';
import { ensureBuilt, githubClassic, passphraseEnv, runCli, tempHome } from '../helpers/cli.js';

beforeAll(() => ensureBuilt());

describe('verify of a service that is not stored', () => {
  it('a typo exits 3 with "did you mean github?", JSON or not; an unstored built-in exits 3 too', async () => {
    const home = tempHome();
    const env = passphraseEnv(home);
    expect((await runCli(['init', '--kdf', 'interactive'], { home, env })).code).toBe(0);
    const stored = await runCli(['store', 'github', 'token', '-'], { home, env, input: githubClassic() });
    expect(stored.code, stored.stderr).toBe(0);
    for (const args of [['verify', 'githb'], ['verify', 'githb', '--json', '--offline']]) {
      const r = await runCli(args, { home, env });
      expect(r.code, r.stderr).toBe(3);
      expect(r.stderr).toContain('No credentials stored for githb');
      expect(r.stderr).toContain('did you mean github?');
      expect(r.stdout).not.toMatch(/"ok": ?true/);
    }
    const hass = await runCli(['verify', 'hass', '--offline'], { home, env });
    expect(hass.code).toBe(3);
    expect(hass.stderr).toContain('No credentials stored for hass');
  });

  it('closest() suggests only near names', () => {
    expect(closest('githb', ['github', 'hass'])).toBe('github');
    expect(closest('wikjs', ['github', 'wikijs'])).toBe('wikijs');
    expect(closest('zzz', ['github', 'hass'])).toBeUndefined();
    expect(closest('github', ['github'])).toBeUndefined();
  });
});
