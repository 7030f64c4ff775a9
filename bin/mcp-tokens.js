#!/usr/bin/env node
// dist/cli/bundle.js is the CLI in one file (scripts/bundle.mjs): it starts faster than tsc's modules.
import { main } from '../dist/cli/bundle.js';

process.exitCode = await main(process.argv);
