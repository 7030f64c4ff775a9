/**
 * `mcp-tokens shell-init`: a `load_credentials <service>` shell function for wrapper scripts
 * written against the seed, which did
 *
 *     source github-token-manager.sh
 *     if ! load_credentials github; then …; exit 1; fi
 *
 * Now `source <(mcp-tokens shell-init)` (bash, zsh), `eval "$(mcp-tokens shell-init)"` (also
 * dash and other POSIX shells) or `mcp-tokens shell-init --shell fish | source` defines it. The
 * function calls the CLI that printed it by its absolute path, quoted for the shell.
 * The function runs `mcp-tokens load <service>`, evaluates the output only when that exited 0,
 * and otherwise returns load's exit status (3 = not stored), whose message went to stderr.
 * The output is held in a function-local variable, so no copy of a token is left behind in a
 * shell variable; only the exported variables remain, which is what the caller asked for.
 */
import { fishQuote, shQuote } from './format.js';

export type InitShell = 'sh' | 'bash' | 'zsh' | 'dash' | 'fish';
export const INIT_SHELLS: readonly InitShell[] = ['sh', 'bash', 'zsh', 'dash', 'fish'];

export interface ShellInitOptions {
  /**
   * How to invoke mcp-tokens, as argv words; default `mcp-tokens` (found on PATH when the function
   * runs). The CLI passes its own node executable and script (cli/invocation.ts), so the function
   * works when mcp-tokens is not on PATH (`npx mcp-tokens`, `node bin/mcp-tokens.js`).
   */
  command?: readonly string[];
}

export function renderShellInit(shell: InitShell, opts: ShellInitOptions = {}): string {
  const argv = opts.command ?? ['mcp-tokens'];
  const quote = shell === 'fish' ? fishQuote : shQuote;
  const cmd = argv.map((w) => (w === 'mcp-tokens' ? w : quote(w))).join(' ');
  return shell === 'fish' ? fishInit(cmd) : posixInit(cmd);
}

// `local` is not POSIX, but bash, zsh, dash, ksh and busybox sh all have it. The declaration
// stands alone: `local x=$(cmd)` would return local's status and hide cmd's. Service names are
// checked here too, so "$1" can never be read by load as an option.
function posixInit(cmd: string): string {
  return `# mcp-tokens shell integration: defines load_credentials <service>
load_credentials() {
  if [ "$#" -ne 1 ]; then
    echo 'usage: load_credentials <service>' >&2
    return 2
  fi
  case $1 in
    [a-z]*) ;;
    *) echo "load_credentials: invalid service name" >&2; return 2 ;;
  esac
  local __mcp_tokens_out
  __mcp_tokens_out=$(${cmd} load --format sh "$1") || return
  eval "$__mcp_tokens_out"
}
`;
}

// In fish, a command substitution's status survives `set`; its output is split into lines,
// which is lossless here because load prints one assignment per line and values hold no newline.
function fishInit(cmd: string): string {
  return `# mcp-tokens shell integration: defines load_credentials <service>
function load_credentials --description 'Export the credentials of an mcp-tokens service'
    if test (count $argv) -ne 1
        echo 'usage: load_credentials <service>' >&2
        return 2
    end
    if not string match -qr -- '^[a-z]' $argv[1]
        echo 'load_credentials: invalid service name' >&2
        return 2
    end
    set -l __mcp_tokens_out (${cmd} load --format fish $argv[1])
    set -l __mcp_tokens_rc $status
    if test $__mcp_tokens_rc -ne 0
        return $__mcp_tokens_rc
    end
    string join \\n -- $__mcp_tokens_out | source
end
`;
}
