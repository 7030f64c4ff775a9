/**
 * Every client's rewritten server really starts (issue 26). A HOME holds the whole client corpus
 * (test/migrate/clients/corpus.ts: each file as its client writes it, the GitHub server being
 * test/fixtures/mcp-env-server.mjs); `mcp-tokens migrate` runs through the built CLI with
 * `mcp-tokens` on its PATH, as after an install. Then, for each client, the rewritten file is read
 * by a parser of the client's own format (tomllib, PyYAML, jsonc-parser, JSON.parse), the GitHub
 * entry is taken as that client reads it (Goose's `cmd`/`envs`, opencode's command list and
 * `environment`, Zed's older `command: {path, args, env}`, Continue's older `transport`, the
 * others' `command`/`args`/`env`), and started as the client starts it: the
 * SDK's StdioClientTransport, which passes its default environment (HOME, LOGNAME, PATH, SHELL,
 * TERM, USER) and the entry's `env`, nothing else. The server must report the migrated token (by
 * its hash) and the file must hold no plaintext token.
 *
 * One vault for the whole corpus (one token, stored once): real Argon2id parameters, since the
 * command a client starts gets no MCP_TOKENS_INSECURE_TEST_KDF, unlocked by the agent, as a user
 * whose clients start servers without a passphrase. HOME and PATH given to the transport stand for
 * the user's own (this test's HOME; the `mcp-tokens` shim first on PATH, test/helpers/cli.ts
 * shimBin, which carries the test's stand-in for /run/user/<uid> in its argv).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, ensureBuilt, githubClassic, shimBin, type CliResult } from '../helpers/cli.js';
import { withMcpClient } from '../helpers/mcp.js';
import { agentVault, cli, unlockVault, type AgentVault } from '../agent/support.js';
import { TEST_KDF_VARIABLE } from '../../src/crypto/kdf.js';
import { CORPUS, githubEntries, launchOf, materialize } from '../migrate/clients/corpus.js';
import { at, parseCorpus } from '../migrate/clients/parse.js';

const SERVER = join(REPO, 'test/fixtures/mcp-env-server.mjs');
const sha = (v: string) => createHash('sha256').update(v, 'utf8').digest('hex');

beforeAll(() => ensureBuilt());

describe('every client in the corpus: migrate, then start the rewritten server as the client does', () => {
  const token = githubClassic();
  let v: AgentVault;
  let path: string;
  let migrate: CliResult;
  let parsed: Map<string, unknown>;

  beforeAll(async () => {
    const saved = process.env[TEST_KDF_VARIABLE];
    delete process.env[TEST_KDF_VARIABLE];
    try {
      v = await agentVault([]);
    } finally {
      if (saved !== undefined) process.env[TEST_KDF_VARIABLE] = saved;
    }
    for (const f of CORPUS) {
      const file = join(v.home, f.rel);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, materialize(f.text, { token, node: process.execPath, server: SERVER }), { mode: 0o600 });
    }
    path = `${shimBin(v.home)}:${process.env['PATH'] ?? '/usr/bin:/bin'}`;
    migrate = await cli(v, ['migrate'], { withPassphrase: true, env: { PATH: path } });
    parsed = parseCorpus(v.home, CORPUS);
    await unlockVault(v);
  }, 120_000);

  afterAll(async () => {
    if (v) await cli(v, ['lock']);
  });

  it('migrate rewrote every file and says what it left (exit 1: the corpus holds credentials it cannot move)', () => {
    expect(migrate.code, migrate.stderr).toBe(1);
    expect(migrate.stderr).not.toMatch(/is not on this PATH/);
    expect(migrate.stderr + migrate.stdout).not.toContain(token);
    for (const f of CORPUS) expect(readFileSync(join(v.home, f.rel), 'utf8'), f.rel).not.toContain(token);
  });

  const entries = CORPUS.flatMap((f) => githubEntries(f).map((e) => [`${f.client}, ${f.rel} ${e.server.join('.')}`, f, e] as const));
  it.each(entries)('%s: the rewritten server starts through mcp-tokens run and gets the token', async (_label, f, { server, shape }) => {
    const launch = launchOf(shape, at(parsed.get(f.rel), server));
    expect([launch.command, ...launch.args]).toEqual(['mcp-tokens', 'run', 'github', '--', process.execPath, SERVER]);
    const report = await withMcpClient({ command: launch.command, args: launch.args, env: { HOME: v.home, PATH: path, ...launch.env } }, async ({ client }) => {
      const r = await client.callTool({ name: 'env_report', arguments: { names: ['GITHUB_PERSONAL_ACCESS_TOKEN', 'MCP_TOKENS_PASSPHRASE_FILE'] } });
      return (r.structuredContent as { report: unknown }).report;
    }, 'migrate-clients-start');
    expect(report).toEqual([
      { name: 'GITHUB_PERSONAL_ACCESS_TOKEN', set: true, sha256: sha(token) },
      { name: 'MCP_TOKENS_PASSPHRASE_FILE', set: false },
    ]);
  });
});
