import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { CallToolRequestSchema, ListToolsRequestSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { Gateway } from '../../gateway.js';
import { GatewayError, isGatewayError } from '../../errors.js';
import { toolNameMap, type McpToolNames } from './names.js';

export type { McpToolNames } from './names.js';

/** Options of {@link registerGatewayTools}. */
export interface McpAdapterOptions {
  /** The actor recorded for calls from this server (a session or client id). */
  actor?: string | ((sessionId: string | undefined) => string | undefined) | undefined;
  /**
   * How tool names are shown to clients. `'dotted'`: as registered (`fs.readFile`).
   * `'underscore'`: dots written as `_` (`fs_readFile`), for clients that only accept
   * `^[a-zA-Z0-9_-]{1,64}$`; `tools/call` maps the name back, and two tools that would share a
   * name (`a.b` and `a_b`), or a name over 64 characters, are refused with `CONFIG_INVALID`.
   * @default 'dotted'
   */
  toolNames?: McpToolNames | undefined;
}

/** A gateway result as MCP content: JSON text, and structured content for objects. */
function toResult(result: unknown): CallToolResult {
  const text = result === undefined ? '' : typeof result === 'string' ? result : JSON.stringify(result);
  const structured = result !== null && typeof result === 'object' && !Array.isArray(result) ? { structuredContent: result as Record<string, unknown> } : {};
  return { content: [{ type: 'text', text }], ...structured };
}

function errorResult(error: GatewayError): CallToolResult {
  return {
    isError: true,
    content: [{ type: 'text', text: `${error.code}: ${error.message}` }],
    structuredContent: { error: { code: error.code, message: error.message } },
  };
}

/**
 * Serves the gateway's tools on an MCP server: `tools/list` answers with the tools the policy
 * allows (and their JSON Schemas); `tools/call` runs `gw.call`, so validation, policy, limits
 * and audit all stay in the gateway, invalid input included. A `GatewayError` becomes an
 * `isError` result carrying its code, never a protocol error. The adapter owns the server's
 * tool handlers: add host tools with `gw.register`, so they go through the same pipeline.
 *
 * @throws GatewayError `CONFIG_INVALID` with `toolNames: 'underscore'` when two tools the
 *   policy allows map to the same name, or a name is over 64 characters.
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
  const mode = options.toolNames ?? 'dotted';
  if (mode !== 'dotted' && mode !== 'underscore') throw new GatewayError('CONFIG_INVALID', 'toolNames must be "dotted" or "underscore".');
  // Checked once now (every tool the policy allows, whoever asks), and again on each request
  // for tools registered later.
  if (mode === 'underscore') toolNameMap(gw.listTools(), mode);
  server.server.registerCapabilities({ tools: { listChanged: false } });
  server.server.setRequestHandler(ListToolsRequestSchema, (_request, extra) => {
    const listed = gw.listTools({ actor: actorFor(extra.sessionId) });
    const names = mode === 'dotted' ? undefined : toolNameMap(listed, mode);
    return {
      tools: listed.map((tool) => ({
        name: names?.shown.get(tool.name) ?? tool.name,
        description: tool.description,
        inputSchema: tool.jsonSchema as { type: 'object'; [key: string]: unknown },
      })),
    };
  });
  server.server.setRequestHandler(CallToolRequestSchema, async (request, extra): Promise<CallToolResult> => {
    try {
      const actor = actorFor(extra.sessionId);
      let name = request.params.name;
      // A shown name maps back to the tool; any other name goes to the gateway as it is, which
      // refuses and audits it (unknown, or not allowed) like every call.
      if (mode !== 'dotted') name = toolNameMap(gw.listTools({ actor }), mode).registered.get(name) ?? name;
      const result = await gw.call(name, request.params.arguments ?? {}, { actor, signal: extra.signal });
      return toResult(result);
    } catch (error) {
      if (!isGatewayError(error)) throw error;
      return errorResult(error);
    }
  });
}
