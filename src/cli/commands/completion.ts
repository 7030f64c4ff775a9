import { Argument, Command } from 'commander';
import { data } from '../output.js';

export const completion = new Command('completion')
  .description('print a shell completion script (commands, options, service names and keys; never a value)')
  .addArgument(new Argument('<shell>', 'bash, zsh or fish').choices(['bash', 'zsh', 'fish']))
  .addHelpText(
    'after',
    `
Install (each line as pasted into that shell):
  bash  mkdir -p ~/.local/share/bash-completion/completions && mcp-tokens completion bash > ~/.local/share/bash-completion/completions/mcp-tokens
  zsh   source <(mcp-tokens completion zsh)     # in ~/.zshrc, after compinit
  fish  mkdir -p ~/.config/fish/completions && mcp-tokens completion fish > ~/.config/fish/completions/mcp-tokens.fish

Stored service names and keys come from the vault's file names and metadata.json: completing
never asks for a passphrase, never uses the keychain or the agent, and never reads a value.`,
  )
  .action(async (shell: 'bash' | 'zsh' | 'fish') => {
    const { completionScript } = await import('../completion/scripts.js');
    const { cliArgv } = await import('../invocation.js');
    data(completionScript(shell, cliArgv()));
  });
