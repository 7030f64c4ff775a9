/**
 * `mcp-tokens __complete <shell> <words…>`: the hidden entry the completion scripts call on every
 * TAB. It is reached from main.ts before anything else runs (no prewarm, no passphrase provider,
 * no agent), prints candidates on stdout, never writes to stderr and always exits 0.
 */
import { homedir } from 'node:os';
import { optionValue } from '../argv.js';
import { vaultDir } from '../context.js';
import { complete, type Completion } from './engine.js';
import { vaultNames } from './names.js';

export async function runComplete(args: readonly string[]): Promise<number> {
  try {
    const [shell = 'bash', ...words] = args;
    const { buildProgram } = await import('../program.js');
    const program = await buildProgram('0'); // every command: the one being typed is not known yet
    const dir = optionValue(words.slice(0, -1), '--dir')?.replace(/^~(?=\/|$)/, homedir());
    const names = await vaultNames(vaultDir(dir === undefined ? {} : { dir }));
    process.stdout.write(render(complete(program, words.length > 0 ? words : [''], names), shell));
  } catch {
    // best effort: no candidates rather than an error in the middle of the user's command line
  }
  return 0;
}

function render(c: Completion, shell: string): string {
  if (c.kind === 'files') return ':files\n';
  if (c.kind === 'commands') return ':commands\n';
  const line = (value: string, description: string | undefined): string => {
    const d = description?.replace(/[\t\r\n]+/g, ' ').trim();
    return shell === 'bash' || !d ? value : `${value}\t${d}`;
  };
  return c.items.map((i) => `${line(i.value, i.description)}\n`).join('');
}
