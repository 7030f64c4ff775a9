/**
 * The completion engine against the real commander program, in-process: every command and option
 * the program has is offered (so completion cannot drift from the CLI), and the parsing of the
 * words before the cursor (option values, `--`, `=`, nested commands, instances) picks the right
 * candidates. The shells' wiring is tested in completion.test.ts.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Command } from 'commander';
import { buildProgram } from '../../src/cli/program.js';
import { complete, type Completion, type Names } from '../../src/cli/completion/engine.js';
import { vaultNames } from '../../src/cli/completion/names.js';
import { tempHome } from '../helpers/cli.js';

let program: Command;
beforeAll(async () => {
  program = await buildProgram('0');
});

const names: Names = {
  types: new Map([
    ['github', { fields: ['token', 'api'], description: 'GitHub' }],
    ['proxmox', { fields: ['token', 'host', 'user', 'fingerprint', 'ca'], description: 'Proxmox' }],
    ['openai', { fields: ['api-key'], description: 'OpenAI' }],
  ]),
  stored: new Map([
    ['github', new Set(['token'])],
    ['github@work', new Set(['token', 'extra'])],
    ['mine', new Set(['secret'])],
  ]),
  user: ['openai'],
  backups: new Map([['github_token', ['20261201T101500000Z', '20261130T090000000Z']]]),
};

function values(c: Completion): string[] {
  if (c.kind !== 'words') return [`:${c.kind}`];
  return c.items.map((i) => i.value);
}

const at = (...words: string[]): string[] => values(complete(program, words, names));

describe('derived from the commander program', () => {
  it('offers every command, and every option of every command', () => {
    const top = at('');
    for (const cmd of program.commands) {
      expect(top).toContain(cmd.name());
      const opts = at(cmd.name(), '-');
      for (const o of cmd.options) expect(opts, `${cmd.name()} ${o.flags}`).toContain(o.long ?? o.short);
      for (const o of program.options) expect(opts).toContain(o.long ?? o.short); // globals everywhere
      for (const sub of cmd.commands) expect(at(cmd.name(), '')).toContain(sub.name());
    }
    expect(top).toContain('completion');
    expect(top).not.toContain('__complete');
  });

  it.each([
    [['load', '--format', ''], ['sh', 'fish', 'dotenv', 'json']],
    [['init', '--kdf', 'mo'], ['moderate']],
    [['setup', '--shell', ''], ['bash', 'zsh', 'fish']],
    [['shell-init', '--shell', 'd'], ['dash']],
    [['completion', ''], ['bash', 'zsh', 'fish']],
    [['backend', ''], ['keychain', 'file']],
    [['--backend', ''], ['auto', 'keychain', 'file']],
    [['load', '--format=j'], ['--format=json']],
    [['load', '--format', '=', 'f'], ['fish']], // bash's split of --format=f
    [['load', '--f'], ['--format']],
  ])('choices: %j → %j', (words, expected) => {
    expect(at(...words)).toEqual(expected);
  });
});

describe('service names, keys and instances', () => {
  it.each([
    [['load', ''], ['all', 'github', 'proxmox', 'openai', 'github@work', 'mine']],
    [['verify', 'g'], ['github', 'github@work']],
    [['store', ''], ['github', 'proxmox', 'openai', 'github@work', 'mine']],
    [['run', 'github', ''], ['github', 'proxmox', 'openai', 'github@work', 'mine']], // run takes several
    [['run', 'github@'], ['github@work']],
    [['store', 'github', ''], ['token', 'api']],
    [['store', 'github@work', ''], ['token', 'api', 'extra']],
    [['delete', 'mine', ''], ['secret']],
    [['restore', 'proxmox', 'f'], ['fingerprint']],
    [['services', 'remove', ''], ['openai']],
    [['setup', '--services', 'github,h'], []],
    [['setup', '--services', 'github,o'], ['github,openai']],
    [['--dir', '/x', '-q', 'load', 'mi'], ['mine']],
    [['restore', 'github', 'token', '--at', ''], ['20261201T101500000Z', '20261130T090000000Z']],
    [['restore', 'github', 'token', '--at', '202611'], ['20261130T090000000Z']],
    [['restore', 'mine', 'secret', '--at', ''], []],
  ])('%j → %j', (words, expected) => {
    expect(at(...words)).toEqual(expected);
  });

  it('an option value is not a command: after `--dir load` the command is still to come', () => {
    expect(at('--dir', 'load', '')).toContain('store');
    expect(at('--dir', 'load', '')).not.toContain('all');
  });

  it('never offers a value: the value position is empty, or file names for proxmox ca', () => {
    expect(at('store', 'github', 'token', '')).toEqual([]);
    expect(at('store', 'proxmox', 'ca', '')).toEqual([':files']);
  });
});

describe('the words before the cursor', () => {
  it.each([
    [['run', 'github', '--', ''], [':commands']],
    [['run', 'github', '--', 'npx', ''], [':files']],
    [['link', 'github', 'token', '--', 'pa'], [':commands']],
    [['--dir', ''], [':files']],
    [['import', ''], [':files']],
    [['migrate', '--env-file', ''], [':files']],
    [['store', 'github', 'token', 'x', ''], []],
    [['nosuch', ''], []],
    [['help', 'ba'], ['backend', 'backups']],
  ])('%j → %j', (words, expected) => {
    expect(at(...words)).toEqual(expected);
  });
});

describe('vaultNames: names without unlocking', () => {
  it('entry files and metadata.json give stored names; reserved entries and other files are left out', async () => {
    const dir = join(tempHome('mcpt-compl-names-'), 'vault');
    mkdirSync(dir, { mode: 0o700 });
    for (const f of ['github@work_token', 'mcp-tokens_links', 'vault.json', 'README', 'Bad_Name']) writeFileSync(join(dir, f), 'x', { mode: 0o600 });
    mkdirSync(join(dir, 'backups'), { mode: 0o700 });
    for (const f of ['hass_url.20261130T090000000Z.backup', 'hass_url.20261201T101500000Z.backup', 'junk']) writeFileSync(join(dir, 'backups', f), 'x', { mode: 0o600 });
    writeFileSync(join(dir, 'metadata.json'), JSON.stringify({ v: 1, entries: { hass_url: {}, 'mcp-tokens_age-identity': {} } }), { mode: 0o600 });
    const n = await vaultNames(dir);
    expect([...n.stored.keys()].sort()).toEqual(['github@work', 'hass']);
    expect([...n.types.keys()]).toEqual(expect.arrayContaining(['github', 'hass', 'proxmox', 'wikijs']));
    expect(n.backups.get('hass_url')).toEqual(['20261201T101500000Z', '20261130T090000000Z']); // newest first
  });

  it('an unreadable or missing vault gives the built-in services only', async () => {
    const n = await vaultNames('/nonexistent/mcp-tokens-vault');
    expect(n.stored.size).toBe(0);
    expect(n.types.has('github')).toBe(true);
  });
});
