import { GatewayError } from '../../errors.js';

/** How tool names are shown to MCP clients: as registered, or with dots written as `_`. */
export type McpToolNames = 'dotted' | 'underscore';

/** The tool names some clients accept (the AI SDK's and OpenAI's function names). */
const SAFE_TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

/** Shown names of the given tools, and the way back. */
export interface ToolNameMap {
  /** Registered name → shown name. */
  shown: Map<string, string>;
  /** Shown name → registered name. */
  registered: Map<string, string>;
}

/**
 * Maps registered tool names to names of {@link SAFE_TOOL_NAME}, one-to-one.
 *
 * @throws GatewayError `CONFIG_INVALID` when two tools map to the same name, or a name does
 *   not fit (over 64 characters).
 */
export function toolNameMap(tools: readonly { name: string }[], mode: McpToolNames): ToolNameMap {
  const shown = new Map<string, string>();
  const registered = new Map<string, string>();
  for (const { name } of tools) {
    const safe = mode === 'underscore' ? name.replaceAll('.', '_') : name;
    if (mode === 'underscore' && !SAFE_TOOL_NAME.test(safe)) {
      throw new GatewayError('CONFIG_INVALID', `Tool ${JSON.stringify(name.slice(0, 80))} cannot be shown as a name of at most 64 letters, digits, "_" and "-".`, {
        data: { tool: name.slice(0, 256) },
      });
    }
    const other = registered.get(safe);
    if (other !== undefined && other !== name) {
      throw new GatewayError('CONFIG_INVALID', `Tools "${other}" and "${name}" would both be shown as "${safe}": rename one, or keep toolNames 'dotted'.`, {
        data: { tools: [other, name], name: safe },
      });
    }
    shown.set(name, safe);
    registered.set(safe, name);
  }
  return { shown, registered };
}
