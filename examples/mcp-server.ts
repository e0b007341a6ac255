// An MCP server over stdio exposing the gateway's tools: read-only files under $DATA_DIR
// (default ./data), audit log at $AUDIT_FILE (default ./audit.jsonl).
// Stdout is the MCP channel: nothing else may write to it, and Portcullis never does.
//
// In an MCP client's configuration (Claude Desktop, an IDE):
//   { "mcpServers": { "portcullis": { "command": "npx", "args": ["tsx", "examples/mcp-server.ts"], "cwd": "/path/to/portcullis" } } }
import { mkdir } from 'node:fs/promises';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { registerGatewayTools } from 'portcullis/mcp';
import { createGateway } from 'portcullis';

const dataDir = process.env.DATA_DIR ?? './data';
await mkdir(dataDir, { recursive: true });
const gw = await createGateway({
  policy: { allowTools: ['fs.*'] },
  audit: { file: process.env.AUDIT_FILE ?? './audit.jsonl' },
  connectors: { filesystem: { allowedPaths: [dataDir] } },
});
const server = new McpServer({ name: 'portcullis', version: '0.1.0' });
registerGatewayTools(server, gw, { actor: 'mcp-stdio' });
await server.connect(new StdioServerTransport());
process.on('SIGINT', () => void server.close().then(() => gw.close()));
