import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { StdioServerParameters } from '@modelcontextprotocol/sdk/client/stdio.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { compileForNode, REPO, tempDir } from './helpers.js';
import { withMcpClient } from '../helpers/mcp.js';

const FIXTURE = join(REPO, 'test/fixtures/mcp-env-server.mjs');
const HARNESS = join(REPO, 'test/launch/harness/run-harness.mjs');
const SECRET = "ghp_canary'$(touch pwned)`x` é🔑 \\ end";
const sha256 = (v: string): string => createHash('sha256').update(v, 'utf8').digest('hex');

interface Report {
  report: Array<{ name: string; set: boolean; sha256?: string }>;
}

async function callEnvReport(params: Omit<StdioServerParameters, 'stderr'>, names: string[]): Promise<{ raw: string; report: Report }> {
  return withMcpClient(params, async ({ client }) => {
    const tools = await client.listTools();
    expect(tools.tools.map((t) => t.name)).toContain('env_report');
    const result = await client.callTool({ name: 'env_report', arguments: { names } });
    expect(result.isError).toBeFalsy();
    return { raw: JSON.stringify(result), report: result.structuredContent as unknown as Report };
  });
}

describe('the MCP env fixture, driven by the SDK client', () => {
  it('launched directly: reports set/unset and the hash of the value, never the value', async () => {
    const transport = {
      command: process.execPath,
      args: [FIXTURE],
      env: { MCP_TEST_SECRET: SECRET, PATH: process.env['PATH'] ?? '' },
    };
    const { raw, report } = await callEnvReport(transport, ['MCP_TEST_SECRET', 'MCP_TEST_UNSET']);
    expect(report.report).toEqual([
      { name: 'MCP_TEST_SECRET', set: true, sha256: sha256(SECRET) },
      { name: 'MCP_TEST_UNSET', set: false },
    ]);
    expect(raw).not.toContain('ghp_canary');
  });

  it('launched through runWithEnv: the credential arrives, JSON-RPC passes untouched, no passphrase leaks', async () => {
    const runJs = compileForNode('src/launch/run.ts', tempDir('mcpt-build-'));
    const transport = {
      command: process.execPath,
      args: [HARNESS, runJs, process.execPath, FIXTURE],
      env: {
        PATH: process.env['PATH'] ?? '',
        HARNESS_EXTRA_ENV: JSON.stringify({ GITHUB_PERSONAL_ACCESS_TOKEN: SECRET }),
        MCP_TOKENS_PASSPHRASE: 'canary-passphrase',
        MCP_TOKENS_PASSPHRASE_FILE: '/run/credentials/x',
      },
    };
    const names = ['GITHUB_PERSONAL_ACCESS_TOKEN', 'MCP_TOKENS_PASSPHRASE', 'MCP_TOKENS_PASSPHRASE_FILE', 'HARNESS_EXTRA_ENV'];
    const { raw, report } = await callEnvReport(transport, names);
    expect(report.report).toEqual([
      { name: 'GITHUB_PERSONAL_ACCESS_TOKEN', set: true, sha256: sha256(SECRET) },
      { name: 'MCP_TOKENS_PASSPHRASE', set: false },
      { name: 'MCP_TOKENS_PASSPHRASE_FILE', set: false },
      { name: 'HARNESS_EXTRA_ENV', set: false },
    ]);
    expect(raw).not.toContain('ghp_canary');
  });
});
