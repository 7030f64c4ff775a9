/**
 * `export` never writes a binary bundle to a terminal: run under util-linux `script`, which gives
 * the CLI a real pseudo-terminal as stdout. The refusal comes before the vault is opened.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { BIN, cliEnv, ensureBuilt, tempHome } from '../helpers/cli.js';
import { requireTools } from '../helpers/tools.js';

const SCRIPT = requireTools('util-linux', ['script'], 'terminal tests with script(1)');
const R = 'age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p';

describe.skipIf(!SCRIPT)('export to a terminal', () => {
  const onTty = (args: string) => {
    const home = tempHome('mcpt-tty-');
    const r = spawnSync('script', ['-qec', `${process.execPath} ${BIN} ${args}; echo "rc=$?"`, '/dev/null'], { env: cliEnv(home), encoding: 'utf8' });
    return r.stdout;
  };

  it('binary is refused (exit 2) with a hint', () => {
    ensureBuilt();
    const out = onTty(`export --to ${R}`);
    expect(out).toContain('refusing to write a binary bundle to a terminal');
    expect(out).toContain('--armor');
    expect(out).toMatch(/rc=2\s*$/);
  });

  it('--armor is allowed to reach the terminal (it then needs a vault: exit 3 here, not 2)', () => {
    const out = onTty(`export --armor --to ${R}`);
    expect(out).not.toContain('refusing');
    expect(out).toMatch(/rc=3\s*$/);
  });
});
