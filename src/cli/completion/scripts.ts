/**
 * The completion scripts `mcp-tokens completion bash|zsh|fish` prints. Each is a thin wrapper:
 * it hands the words on the command line to `mcp-tokens __complete <shell> <words…>` (engine.ts)
 * and offers what comes back, one candidate a line (`value<TAB>description` for zsh and fish),
 * or lets the shell complete file names (`:files`) or command names (`:commands`).
 * The CLI is called by its absolute path (invocation.ts), quoted for the shell, with stderr
 * discarded: a completion never prints an error into the command line being edited.
 */
import { fishQuote, shQuote } from '../../launch/format.js';

export type CompletionShell = 'bash' | 'zsh' | 'fish';
export const COMPLETION_SHELLS: readonly CompletionShell[] = ['bash', 'zsh', 'fish'];

export function completionScript(shell: CompletionShell, cli: readonly string[]): string {
  switch (shell) {
    case 'bash':
      return bash(cli.map(shQuote).join(' '));
    case 'zsh':
      return zsh(cli.map(shQuote).join(' '));
    case 'fish':
      return fish(cli.map(fishQuote).join(' '));
  }
}

// COMP_WORDS is split at COMP_WORDBREAKS as well as at blanks: bash's default (and Debian's)
// holds `@`, `=` and `:`, so `github@work` arrives as `github`, `@`, `work` and `--format=j` as
// `--format`, `=`, `j`. The words are rebuilt from COMP_LINE up to COMP_POINT, split at blanks
// only (pieces with no blank between them are one word), and the engine sees `github@w`. Bash
// then replaces only the last piece (after the last break character), so each candidate loses
// the part of the word before that piece: `github@work` is offered as `@work` in place of `@w`
// (readline keeps the `@` in the word it replaces) and `json` in place of the `j` of `--format=j`.
function bash(cmd: string): string {
  return `# mcp-tokens completion for bash. Install: mcp-tokens completion bash > ~/.local/share/bash-completion/completions/mcp-tokens
_mcp_tokens() {
    local line gap piece= strip= cur out i
    local -a words=()
    if [[ -n \${COMP_LINE-} ]]; then
        line=\${COMP_LINE:0:COMP_POINT}
        for ((i = 0; i <= COMP_CWORD; i++)); do
            gap=\${line%%[![:blank:]]*}
            line=\${line:\${#gap}}
            if ((i < COMP_CWORD)); then piece=\${COMP_WORDS[i]}; else piece=$line; fi
            line=\${line:\${#piece}}
            if ((i > 0)) && [[ -z $gap ]]; then words[\${#words[@]}-1]+=$piece; else words+=("$piece"); fi
        done
    else
        words=("\${COMP_WORDS[@]:0:COMP_CWORD+1}")
        piece=\${COMP_WORDS[COMP_CWORD]}
    fi
    cur=\${words[\${#words[@]}-1]}
    strip=\${cur:0:\${#cur}-\${#piece}}
    # Readline keeps a break character of rl_special_prefixes ($ and @ in bash) in the word it
    # replaces: after github@ the word is @w, not w.
    [[ -n $piece && ( $strip == *@ || $strip == *\$ ) ]] && strip=\${strip:0:\${#strip}-1}
    out=$(${cmd} __complete bash "\${words[@]:1}" 2>/dev/null) || return 0
    COMPREPLY=()
    case $out in
        :files)
            compopt -o filenames 2>/dev/null
            out=$(compgen -f -- "$cur")
            ;;
        :commands)
            out=$(compgen -c -- "$cur")
            ;;
    esac
    while IFS= read -r line; do
        [[ -n $line && $line == "$strip"* ]] && COMPREPLY+=("\${line:\${#strip}}")
    done <<<"$out"
    return 0
}
complete -F _mcp_tokens mcp-tokens
`;
}

// Works sourced (`source <(mcp-tokens completion zsh)` after compinit) and as an autoloaded
// `_mcp-tokens` file in $fpath, where the file's body runs as the function on first use.
function zsh(cmd: string): string {
  return `#compdef mcp-tokens
# mcp-tokens completion for zsh. Install: source <(mcp-tokens completion zsh) in ~/.zshrc, after compinit
_mcp-tokens() {
    local -a lines values shown
    local line
    lines=("\${(@f)$(${cmd} __complete zsh "\${(@)words[2,CURRENT]}" 2>/dev/null)}")
    case "\${lines[1]-}" in
        :files) _files; return ;;
        :commands) _command_names -e; return ;;
    esac
    for line in "\${lines[@]}"; do
        [[ -n $line ]] || continue
        values+=("\${line%%$'\\t'*}")
        if [[ $line == *$'\\t'* ]]; then shown+=("\${line%%$'\\t'*}  -- \${line#*$'\\t'}"); else shown+=("$line"); fi
    done
    (( \${#values} )) || return 1
    compadd -l -d shown -a values
}
if [[ "\${funcstack[1]-}" == _mcp-tokens ]]; then
    _mcp-tokens "$@"
else
    compdef _mcp-tokens mcp-tokens
fi
`;
}

function fish(cmd: string): string {
  return `# mcp-tokens completion for fish. Install: mcp-tokens completion fish > ~/.config/fish/completions/mcp-tokens.fish
function __mcp_tokens_complete
    set -l words (commandline -opc)
    set -l cur (commandline -ct)
    set -l out (${cmd} __complete fish $words[2..-1] "$cur" 2>/dev/null)
    or return 0
    switch "$out[1]"
        case :files
            __fish_complete_path "$cur"
        case :commands
            complete -C "$cur"
        case '*'
            printf '%s\\n' $out
    end
end
complete -c mcp-tokens -f -a '(__mcp_tokens_complete)'
`;
}
