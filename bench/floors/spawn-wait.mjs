// Floor for the waiting parent: bare Node that spawns a command and waits for it, as `run` does
// on Node 20 (no process.execve): what any Node launcher holds while its child lives.
import { spawn } from 'node:child_process';

const [cmd, ...args] = process.argv.slice(2);
spawn(cmd, args, { stdio: 'inherit' }).once('exit', (code) => process.exit(code ?? 1));
