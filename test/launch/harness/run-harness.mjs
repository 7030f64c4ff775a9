// A stand-in for `mcp-tokens run` in its own process, so tests can signal it without touching
// the test runner: node run-harness.mjs <compiled run.js> <command> [args…]
// The extra environment arrives in HARNESS_EXTRA_ENV (JSON), never in argv, and is removed from
// this process's own environment before the child starts. HARNESS_EXECVE=1 allows process.execve.
import { pathToFileURL } from 'node:url';

const [runModule, command, ...args] = process.argv.slice(2);
const extra = JSON.parse(process.env.HARNESS_EXTRA_ENV ?? '{}');
delete process.env.HARNESS_EXTRA_ENV;
const { runWithEnv } = await import(pathToFileURL(runModule).href);
try {
  const code = await runWithEnv(command, args, extra, { execve: process.env.HARNESS_EXECVE === '1' });
  process.exit(code);
} catch (e) {
  process.stderr.write(`harness: ${e.code ?? 'ERROR'}: ${e.message}\n`);
  process.exit(typeof e.exitCode === 'number' ? e.exitCode : 99);
}
