import { tool, type StructuredToolInterface } from '@langchain/core/tools';
import type { Gateway } from '../gateway.js';
import { isGatewayError } from '../errors.js';

/** Options of {@link langchainTools}. */
export interface LangchainToolsOptions {
  actor?: string | undefined;
  /** @default (name) => name.replaceAll('.', '_') (model APIs allow `[A-Za-z0-9_-]` only) */
  nameFor?: ((gatewayName: string) => string) | undefined;
}

/**
 * The gateway's allowed tools as LangChain structured tools (`@langchain/core`). Each returns
 * the gateway's result as JSON text, or `{"error":{"code","message"}}` when the gateway refused,
 * so the model can adjust; validation, policy, limits and audit stay in the gateway.
 *
 * @example
 * ```ts
 * const model = chatModel.bindTools(langchainTools(gw, { actor: 'agent-1' }));
 * ```
 */
export function langchainTools(gw: Gateway, options: LangchainToolsOptions = {}): StructuredToolInterface[] {
  const nameFor = options.nameFor ?? ((name: string) => name.replaceAll('.', '_'));
  return gw.listTools({ actor: options.actor }).map((listed) =>
    tool(
      async (input: unknown, config?: { signal?: AbortSignal }) => {
        try {
          return JSON.stringify(await gw.call(listed.name, input, { actor: options.actor, signal: config?.signal }));
        } catch (error) {
          if (!isGatewayError(error)) throw error;
          return JSON.stringify({ error: { code: error.code, message: error.message } });
        }
      },
      { name: nameFor(listed.name), description: listed.description, schema: listed.jsonSchema },
    ) as unknown as StructuredToolInterface,
  );
}
