import { describe, expect, it } from 'vitest';
import { withMcpClient } from './mcp.js';

describe('withMcpClient', () => {
  it('a server that dies before answering: the error carries what it wrote to stderr', async () => {
    const dying = { command: process.execPath, args: ['-e', "process.stderr.write('mcp-tokens: the vault is locked\\n'); process.exit(4)"] };
    await expect(withMcpClient(dying, async () => 'never')).rejects.toThrow(/--- the child's stderr ---\nmcp-tokens: the vault is locked/);
  });
});
