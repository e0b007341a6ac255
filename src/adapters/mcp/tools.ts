import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { CallToolRequestSchema, ListToolsRequestSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { Gateway } from '../../gateway.js';
import { isGatewayError } from '../../errors.js';

/** Options of {@link registerGatewayTools}. */
export interface McpAdapterOptions {
  /** The actor recorded for calls from this server (a session or client id). */
  actor?: string | ((sessionId: string | undefined) => string | undefined) | undefined;
}

/** A gateway result as MCP content: JSON text, and structured content for objects. */
function toResult(result: unknown): CallToolResult {
  const text = result === undefined ? '' : typeof result === 'string' ? result : JSON.stringify(result);
  const structured = result !== null && typeof result === 'object' && !Array.isArray(result) ? { structuredContent: result as Record<string, unknown> } : {};
  return { content: [{ type: 'text', text }], ...structured };
}

/**
 * Serves the gateway's tools on an MCP server: `tools/list` answers with the tools the policy
 * allows (and their JSON Schemas); `tools/call` runs `gw.call`, so validation, policy, limits
 * and audit all stay in the gateway, invalid input included. A `GatewayError` becomes an
 * `isError` result carrying its code, never a protocol error. The adapter owns the server's
 * tool handlers: add host tools with `gw.register`, so they go through the same pipeline.
 *
 * @example
 * ```ts
 * const server = new McpServer({ name: 'my-agent-tools', version: '1.0.0' });
 * registerGatewayTools(server, gw, { actor: 'claude-desktop' });
 * await server.connect(new StdioServerTransport());
 * ```
 */
export function registerGatewayTools(server: McpServer, gw: Gateway, options: McpAdapterOptions = {}): void {
  const actorFor = (sessionId: string | undefined): string | undefined =>
    typeof options.actor === 'function' ? options.actor(sessionId) : options.actor;
  server.server.registerCapabilities({ tools: { listChanged: false } });
  server.server.setRequestHandler(ListToolsRequestSchema, (_request, extra) => ({
    tools: gw.listTools({ actor: actorFor(extra.sessionId) }).map((tool) => ({
      name: tool.name,
      description: tool.description,
      inputSchema: tool.jsonSchema as { type: 'object'; [key: string]: unknown },
    })),
  }));
  server.server.setRequestHandler(CallToolRequestSchema, async (request, extra): Promise<CallToolResult> => {
    try {
      const result = await gw.call(request.params.name, request.params.arguments ?? {}, { actor: actorFor(extra.sessionId), signal: extra.signal });
      return toResult(result);
    } catch (error) {
      if (!isGatewayError(error)) throw error;
      return {
        isError: true,
        content: [{ type: 'text', text: `${error.code}: ${error.message}` }],
        structuredContent: { error: { code: error.code, message: error.message } },
      };
    }
  });
}
