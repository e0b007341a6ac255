import { tool, type StructuredToolInterface } from '@langchain/core/tools';
import { z } from 'zod';
import type { Gateway } from '../gateway.js';
import { isGatewayError } from '../errors.js';

/** Options of {@link langchainTools}. */
export interface LangchainToolsOptions {
  actor?: string | undefined;
  /** @default (name) => name.replaceAll('.', '_') (model APIs allow `[A-Za-z0-9_-]` only) */
  nameFor?: ((gatewayName: string) => string) | undefined;
}

/**
 * A schema LangChain does not enforce: it parses anything (so LangChain never throws
 * `ToolInputParsingException` and the call always reaches the gateway), while its JSON Schema,
 * which is what `bindTools` shows the model, is the gateway's.
 */
function unenforcedSchema(jsonSchema: Readonly<Record<string, unknown>>): z.ZodType {
  const { id: _id, ...shown } = jsonSchema;
  return z.any().meta(shown);
}

/**
 * The gateway's allowed tools as LangChain structured tools (`@langchain/core`). Each returns
 * the gateway's result as JSON text, or `{"error":{"code","message"}}` when the gateway refused,
 * so the model can adjust. The arguments are passed to `gw.call` as the model gave them
 * (LangChain is handed a schema it does not enforce, carrying the gateway's JSON Schema for the
 * model): validation, policy, limits and audit all happen in the gateway, and an invalid
 * argument comes back as a `VALIDATION_FAILED` refusal with its audit record, as for the AI SDK.
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
      { name: nameFor(listed.name), description: listed.description, schema: unenforcedSchema(listed.jsonSchema) },
    ) as unknown as StructuredToolInterface,
  );
}
