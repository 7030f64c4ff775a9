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

// COMP_WORDBREAKS splits `--format=j` into `--format`, `=`, `j`; the engine skips the `=` word.
// With the cursor right after `=`, that `=` is the current word: complete an empty word after it
// and keep the `=` in front of each candidate, since the candidate replaces the current word.
function bash(cmd: string): string {
  return `# mcp-tokens completion for bash. Install: mcp-tokens completion bash > ~/.local/share/bash-completion/completions/mcp-tokens
_mcp_tokens() {
    local cur=\${COMP_WORDS[COMP_CWORD]} prefix= line out
    local -a args=("\${COMP_WORDS[@]:1:COMP_CWORD}")
    if [[ $cur == "=" ]]; then
        prefix="="
        cur=
        args+=("")
    fi
    out=$(${cmd} __complete bash "\${args[@]}" 2>/dev/null) || return 0
    COMPREPLY=()
    case $out in
        :files)
            compopt -o filenames 2>/dev/null
            while IFS= read -r line; do COMPREPLY+=("$line"); done < <(compgen -f -- "$cur")
            ;;
        :commands)
            while IFS= read -r line; do COMPREPLY+=("$line"); done < <(compgen -c -- "$cur")
            ;;
        *)
            while IFS= read -r line; do [[ -n $line ]] && COMPREPLY+=("$prefix$line"); done <<<"$out"
            ;;
    esac
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
