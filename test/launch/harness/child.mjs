// The program the harness launches. Modes (argv[2]):
//   exit N          exit with code N
//   env             print the names and values of its environment as JSON on stdout
//   bytes N         write N bytes cycling through 0..255 to stdout
//   wait-signal     announce "ready <pid>" on stderr, then on SIGINT/SIGTERM/SIGHUP write
//                   "got <SIG>" to stderr and exit 40 + the signal number
//   wait-die        announce "ready <pid>" and wait with default signal handling
import { writeSync } from 'node:fs';
import { constants } from 'node:os';

const [mode, arg] = process.argv.slice(2);
if (mode === 'exit') process.exit(Number(arg));
if (mode === 'env') {
  process.stdout.write(JSON.stringify(process.env));
} else if (mode === 'bytes') {
  const buf = Buffer.alloc(Number(arg));
  for (let i = 0; i < buf.length; i++) buf[i] = i % 256;
  process.stdout.write(buf);
} else if (mode === 'wait-signal' || mode === 'wait-die') {
  if (mode === 'wait-signal') {
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
      process.on(sig, () => {
        writeSync(2, `got ${sig}\n`);
        process.exit(40 + constants.signals[sig]);
      });
    }
  }
  setInterval(() => undefined, 1000);
  writeSync(2, `ready ${process.pid}\n`);
}
