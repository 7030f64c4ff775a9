import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatExports } from '../../src/launch/format.js';
import { renderShellInit } from '../../src/launch/shell-init.js';
import { requireShell } from '../helpers/shells.js';
import { hostileValues, runShell, SHELLS, tempDir, type TestShell } from './helpers.js';

const VALUE = hostileValues()['FISH_ESCAPE']! + hostileValues()['CMD_SUBST_QUOTED']!;

/**
 * A stand-in for the CLI (the real `load` is wired by the CLI layer and tested there): service
 * `github` prints prepared export lines, anything else fails like a missing credential (exit 3).
 */
function fakeCli(dir: string): string {
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'out.sh'), formatExports([['GITHUB_PERSONAL_ACCESS_TOKEN', VALUE]], 'sh'));
  writeFileSync(join(bin, 'out.fish'), formatExports([['GITHUB_PERSONAL_ACCESS_TOKEN', VALUE]], 'fish'));
  const fake = join(bin, 'mcp-tokens');
  writeFileSync(
    fake,
    `#!/bin/sh
echo "$*" >> "$(dirname "$0")/calls"
last=""; fmt=sh
for a in "$@"; do case "$prev" in --format) fmt=$a ;; esac; prev=$a; last=$a; done
if [ "$last" != github ]; then
  echo "No credentials stored for $last" >&2
  echo "export SHOULD_NOT_BE_EVALUATED=1"
  exit 3
fi
cat "$(dirname "$0")/out.$fmt"
`,
  );
  chmodSync(fake, 0o755);
  return fake;
}

function script(shell: TestShell): string {
  if (shell === 'fish') {
    return `mcp-tokens shell-init | source
if not load_credentials hass
    echo "missing: the wrapper would stop here"
end
load_credentials hass; echo "missing-direct rc=$status"
set -q SHOULD_NOT_BE_EVALUATED; and echo evaluated-on-failure
load_credentials '-x'; echo "bad-name rc=$status"
load_credentials; echo "no-arg rc=$status"
if load_credentials github
    printf '%s' "$GITHUB_PERSONAL_ACCESS_TOKEN" > result
end
set -q __mcp_tokens_out; and echo leaked-output-variable
true
`;
  }
  return `eval "$(mcp-tokens shell-init)"
if ! load_credentials hass; then echo "missing: the wrapper would stop here"; fi
load_credentials hass; echo "missing-direct rc=$?"
[ -n "\${SHOULD_NOT_BE_EVALUATED+x}" ] && echo evaluated-on-failure
load_credentials '-x'; echo "bad-name rc=$?"
load_credentials; echo "no-arg rc=$?"
if load_credentials github; then printf '%s' "$GITHUB_PERSONAL_ACCESS_TOKEN" > result; fi
[ -n "\${__mcp_tokens_out+x}" ] && echo leaked-output-variable
true
`;
}

describe('shell-init: load_credentials for seed-era wrapper scripts', () => {
  it.for(SHELLS)('%s: non-zero when missing, exports on success, output never evaluated on failure', (shell, { skip }) => {
    requireShell(shell, skip);
    const dir = tempDir();
    const fake = fakeCli(dir);
    // `mcp-tokens shell-init` itself is simulated: the fake CLI answers "shell-init" with our text.
    writeFileSync(join(dir, 'bin', 'init'), renderShellInit(shell === 'fish' ? 'fish' : shell));
    const wrapper = readFileSync(fake, 'utf8').replace(
      '#!/bin/sh\n',
      `#!/bin/sh\nif [ "$1" = shell-init ]; then cat "$(dirname "$0")/init"; exit 0; fi\n`,
    );
    writeFileSync(fake, wrapper);
    const r = runShell(shell, script(shell), dir, { PATH: `${join(dir, 'bin')}:/usr/bin:/bin` });
    expect(r.stderr).toContain('No credentials stored for hass');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('missing: the wrapper would stop here');
    expect(r.stdout).toContain('missing-direct rc=3');
    expect(r.stdout).toContain('bad-name rc=2');
    expect(r.stdout).toContain('no-arg rc=2');
    expect(r.stdout).not.toContain('evaluated-on-failure');
    expect(r.stdout).not.toContain('leaked-output-variable');
    expect(readFileSync(join(dir, 'result'), 'utf8')).toBe(VALUE);
    const calls = readFileSync(join(dir, 'bin', 'calls'), 'utf8');
    expect(calls).not.toContain('-x'); // a bad name never reaches the CLI as an option
    expect(calls).toContain(shell === 'fish' ? 'load --format fish github' : 'load --format sh github');
  });

  it('quotes an explicit command, word by word', () => {
    const argv = ['/opt/node js/node', "/opt/it's/mcp-tokens.js"];
    expect(renderShellInit('bash', { command: argv })).toContain(`$('/opt/node js/node' '/opt/it'\\''s/mcp-tokens.js' load`);
    expect(renderShellInit('fish', { command: argv })).toContain(`('/opt/node js/node' '/opt/it\\'s/mcp-tokens.js' load`);
  });
});
