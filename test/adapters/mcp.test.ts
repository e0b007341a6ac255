import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { registerGatewayTools } from '../../src/adapters/mcp/index.js';
import { createGateway, defineTool } from '../../src/index.js';
import { readAudit } from '../helpers/audit.js';
import { tempDir } from '../helpers/temp-dir.js';

async function connected(auditFile: string) {
  const gw = await createGateway({ policy: { allowTools: ['demo.*'], denyTools: ['demo.secret'] }, audit: { file: auditFile } });
  gw.register(defineTool({ name: 'demo.add', description: 'Adds.', inputSchema: z.strictObject({ a: z.number(), b: z.number() }), execute: ({ a, b }) => ({ sum: a + b }) }));
  gw.register(defineTool({ name: 'demo.secret', description: 'Never.', inputSchema: z.object({}), execute: () => 'leaked' }));
  const server = new McpServer({ name: 'portcullis-test', version: '1.0.0' });
  registerGatewayTools(server, gw, { actor: 'mcp-client' });
  const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
  await server.connect(serverTransport);
  const client = new Client({ name: 'test-client', version: '1.0.0' });
  await client.connect(clientTransport);
  return { gw, client, server };
}

describe('MCP adapter', () => {
  it('lists only the allowed tools, with their JSON Schemas, and calls them through the gateway', async () => {
    await using dir = await tempDir();
    const { gw, client, server } = await connected(dir.join('audit.jsonl'));
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual(['demo.add']);
    expect(tools[0]?.inputSchema).toMatchObject({ type: 'object', properties: { a: { type: 'number' }, b: { type: 'number' } } });
    const result = await client.callTool({ name: 'demo.add', arguments: { a: 2, b: 3 } });
    expect(result).toMatchObject({ content: [{ type: 'text', text: '{"sum":5}' }], structuredContent: { sum: 5 } });
    expect(result.isError).toBeFalsy();
    await client.close();
    await server.close();
    await gw.close();
    expect((await readAudit(dir.join('audit.jsonl')))[0]).toMatchObject({ tool: 'demo.add', actor: 'mcp-client', decision: 'allow' });
  });

  it('turns a denial and invalid input into isError results with the code, audited by the gateway', async () => {
    await using dir = await tempDir();
    const { gw, client, server } = await connected(dir.join('audit.jsonl'));
    const denied = await client.callTool({ name: 'demo.secret', arguments: {} });
    expect(denied).toMatchObject({ isError: true, structuredContent: { error: { code: 'POLICY_DENIED' } } });
    expect(JSON.stringify(denied)).not.toContain('leaked');
    const invalid = await client.callTool({ name: 'demo.add', arguments: { a: 'two', b: 3 } });
    expect(invalid).toMatchObject({ isError: true, structuredContent: { error: { code: 'VALIDATION_FAILED' } } });
    const unknown = await client.callTool({ name: 'nope', arguments: {} });
    expect(unknown).toMatchObject({ isError: true, structuredContent: { error: { code: 'TOOL_NOT_FOUND' } } });
    await client.close();
    await server.close();
    await gw.close();
    const records = await readAudit(dir.join('audit.jsonl'));
    expect(records.map((r) => r.error_code)).toEqual(['POLICY_DENIED', 'VALIDATION_FAILED', 'TOOL_NOT_FOUND']);
  });
});
