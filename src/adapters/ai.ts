import { jsonSchema, tool, type Tool } from 'ai';
import type { Gateway } from '../gateway.js';
import { isGatewayError } from '../errors.js';

/** Options of {@link aiTools}. */
export interface AiToolsOptions {
  /** The actor recorded for these calls. */
  actor?: string | undefined;
  /**
   * The name the model sees. Model APIs allow `[A-Za-z0-9_-]` only, so dots become `_`.
   * @default (name) => name.replaceAll('.', '_')
   */
  nameFor?: ((gatewayName: string) => string) | undefined;
}

/** What a tool returns to the model when the gateway refused or failed: the stable code and the message. */
export interface AiToolError {
  error: { code: string; message: string };
}

/**
 * The gateway's allowed tools as a Vercel AI SDK `tools` object. Validation, policy, limits and
 * audit stay in the gateway (the input schema is passed as JSON Schema, not re-validated here);
 * a refusal comes back to the model as `{ error: { code, message } }` so it can adjust.
 *
 * @example
 * ```ts
 * const { text } = await generateText({ model, tools: aiTools(gw, { actor: 'agent-1' }), prompt });
 * ```
 */
export function aiTools(gw: Gateway, options: AiToolsOptions = {}): Record<string, Tool> {
  const nameFor = options.nameFor ?? ((name: string) => name.replaceAll('.', '_'));
  const tools: Record<string, Tool> = {};
  for (const listed of gw.listTools({ actor: options.actor })) {
    tools[nameFor(listed.name)] = tool({
      description: listed.description,
      inputSchema: jsonSchema<unknown>(listed.jsonSchema as Parameters<typeof jsonSchema>[0]),
      execute: async (input: unknown, { abortSignal }): Promise<unknown> => {
        try {
          return await gw.call(listed.name, input, { actor: options.actor, signal: abortSignal });
        } catch (error) {
          if (!isGatewayError(error)) throw error;
          const refusal: AiToolError = { error: { code: error.code, message: error.message } };
          return refusal;
        }
      },
    });
  }
  return tools;
}
