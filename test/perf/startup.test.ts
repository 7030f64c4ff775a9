/**
 * Lazy command loading (src/cli/program.ts): only the named command's module is loaded, and
 * everything that needs the whole program (help, `help <cmd>`, suggestions) still gets it.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { buildProgram, commandName } from '../../src/cli/program.js';
import { optionValue } from '../../src/cli/argv.js';
import { ensureBuilt, runCli } from '../helpers/cli.js';

describe('commandName', () => {
  it.each([
    [['run', 'github', '--', 'npx', 'server'], 'run'],
    [['--dir', 'load', 'run', 'x'], 'run'], // 'load' is the value of --dir
    [['--backend', 'file', '--passphrase-fd', '3', 'store', 'a', 'b'], 'store'],
    [['--dir=/tmp/v', '-q', 'list'], 'list'],
    [['--no-color', 'help', 'run'], 'help'],
    [['--help'], undefined],
    [[], undefined],
    [['--', 'run'], undefined],
  ])('%j → %s', (args, want) => {
    expect(commandName(args)).toBe(want);
  });
});

describe('buildProgram', () => {
  const names = async (args: string[]) => (await buildProgram('0.0.0', args)).commands.map((c) => c.name());

  it('loads only the command being run', async () => {
    expect(await names(['run', 'github', '--', 'true'])).toEqual(['run']);
    expect(await names(['--dir', '/tmp/v', 'load', 'github'])).toEqual(['load']);
  });

  it('loads every command when none we know is named', async () => {
    const all = await names([]);
    expect(all).toEqual(expect.arrayContaining(['store', 'load', 'run', 'verify', 'list', 'delete', 'migrate', 'shell-init']));
    expect(await names(['stor'])).toEqual(all);
    expect(await names(['help', 'run'])).toEqual(all);
  });
});

describe('the built CLI', () => {
  beforeAll(() => ensureBuilt());

  it('--help lists every command', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    for (const c of ['store', 'load', 'run', 'verify', 'list', 'delete', 'backups', 'restore', 'prune', 'doctor', 'init', 'passwd', 'services', 'setup', 'shell-init']) {
      expect(r.stdout).toMatch(new RegExp(`^  ${c} `, 'm'));
    }
  });

  it('a mistyped command still gets a suggestion and exit 2', async () => {
    const r = await runCli(['stor']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("mcp-tokens: unknown command 'stor'\n  hint: did you mean store? (see: mcp-tokens --help)\n"); // our one error style
  });

  it('help for one command works both ways', async () => {
    for (const args of [['run', '--help'], ['help', 'run']]) {
      const r = await runCli(args);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('Usage: mcp-tokens run [service...] [--env NAME=service[@instance].key]... -- <command> [args...]');
    }
  });
});

describe('optionValue', () => {
  it.each([
    [['--dir', '/a', 'load'], '/a'],
    [['load', 'github', '--dir=/b'], '/b'],
    [['--dir', '/a', 'run', 'x', '--', 'srv', '--dir', '/c'], '/a'], // the child's own --dir is not ours
    [['load'], undefined],
  ])('%j → %s', (args, want) => {
    expect(optionValue(args, '--dir')).toBe(want);
  });
});
