/**
 * A real MCP client session over stdio whose failures show the server side: the child's stderr
 * (mcp-tokens' own messages, or the server's) is collected and, when the connection or a call
 * fails ("MCP error -32000: Connection closed" says nothing of why), appended to the error.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport, type StdioServerParameters } from '@modelcontextprotocol/sdk/client/stdio.js';

export interface McpSession {
  client: Client;
  /** Everything the child wrote to stderr so far. */
  stderr(): string;
}

/**
 * Start `params` (stderr is always piped), connect, run `fn`, close. Any error thrown on the way
 * carries the child's stderr in its message.
 */
export async function withMcpClient<T>(params: Omit<StdioServerParameters, 'stderr'>, fn: (s: McpSession) => Promise<T>, name = 'mcp-tokens-test'): Promise<T> {
  const transport = new StdioClientTransport({ ...params, stderr: 'pipe' });
  let err = '';
  transport.stderr?.on('data', (b: Buffer) => {
    err += b.toString('utf8');
  });
  const client = new Client({ name, version: '1.0.0' });
  const session: McpSession = { client, stderr: () => err };
  try {
    await client.connect(transport);
    return await fn(session);
  } catch (e) {
    // Give the child a moment to flush what it said on its way out.
    await new Promise((r) => setTimeout(r, 100));
    throw withStderr(e, err);
  } finally {
    await client.close().catch(() => undefined);
  }
}

function withStderr(e: unknown, stderr: string): unknown {
  if (!(e instanceof Error)) return e;
  e.message += stderr.trim() ? `\n--- the child's stderr ---\n${stderr.trimEnd()}` : "\n(the child wrote nothing to stderr)";
  return e;
}
