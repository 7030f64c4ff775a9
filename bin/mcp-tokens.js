#!/usr/bin/env node
// The CLI in one file (scripts/bundle.mjs): it starts faster than tsc's modules. `load <service>`
// and `run <service> -- …` without options (dist/cli/plain-args.js says) need only the smaller of
// its two bundles; one process loads one of them, never both.
import { plainCommand } from '../dist/cli/plain-args.js';

const { main } = plainCommand(process.argv.slice(2)) ? await import('../dist/cli/bundle-fast.js') : await import('../dist/cli/bundle.js');
process.exitCode = await main(process.argv);
