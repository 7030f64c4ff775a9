/**
 * The entry of dist/cli/bundle-fast.js (scripts/bundle.mjs): bin loads it instead of the whole
 * CLI when cli/plain-args.ts accepts the arguments, so a `load <service>` or `run <service> -- …`
 * compiles only the code those two need (~240 KB instead of ~590 KB).
 */
import { plainCommand } from './plain-args.js';
import { begin, quietOnClosedOutput, runPlain } from './plain.js';

export async function main(argv: string[]): Promise<number> {
  const args = argv.slice(2);
  const plain = plainCommand(args);
  if (plain === undefined) throw new Error(`internal: bin chose the fast path for arguments it does not take`);
  process.umask(0o077);
  quietOnClosedOutput();
  await begin(args);
  return runPlain(plain);
}
