import { z } from 'zod';
import { agentHeaders, agentRequestFields, describeResponse, type HttpFetchResult } from '../net/tool.js';
import { defineTool, type ToolDefinition } from '../tools.js';
import type { L402Payer } from './l402-payer.js';

/**
 * The `pay.fetch` tool: `http.fetch` that pays an HTTP 402 (L402, Payment, LSAT, or NUT-24
 * ecash) within the budgets.
 * The agent may lower the cap of one call (`maxAmountSats`), never raise a limit.
 */
export function payFetchTool(payer: L402Payer, methods: readonly [string, ...string[]]): ToolDefinition<z.ZodType, HttpFetchResult> {
  return defineTool({
    name: 'pay.fetch',
    description: 'Fetches a paid API: pays its HTTP 402 (a Lightning invoice or a Cashu ecash request) within the spending limits, then returns status, headers and body.',
    inputSchema: z.strictObject({
      ...agentRequestFields(methods),
      maxAmountSats: z.number().int().positive().max(2_100_000_000_000_000).optional().describe('Refuse to pay more than this for this call'),
    }),
    async execute(args, ctx) {
      const headers = agentHeaders(args.headers, 'pay.fetch');
      const response = await payer.fetch(
        args.url,
        { method: args.method, headers, body: args.body, signal: ctx.signal, maxBytes: ctx.limits.maxBytes },
        { maxAmountSats: args.maxAmountSats, actor: ctx.actor },
      );
      const bytes = Buffer.from(await response.arrayBuffer());
      return describeResponse(response.status, response.url, response.headers, bytes);
    },
    measure: (result) => result.bytes,
  });
}
