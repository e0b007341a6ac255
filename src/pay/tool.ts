import { z } from 'zod';
import { isGatewayError } from '../errors.js';
import { agentHeaders, agentRequestFields, describeResponse, hopCheck, type HttpFetchResult } from '../net/tool.js';
import { parseAgentUrl, urlFacts } from '../policy/rules/url-facts.js';
import { defineTool, type ToolContext, type ToolDefinition } from '../tools.js';
import type { ChallengeFacts, L402Payer } from './l402-payer.js';
import { formatSats } from './server-text.js';

/** What `pay.fetch` returns: the response, and when this call paid but the paid request failed, what was paid. */
export interface PayFetchResult extends HttpFetchResult {
  /** Set when this call paid and the server then did not succeed: the credential is kept, a retry does not pay again. */
  payment?: { paidSats: number; paymentHash?: string | undefined; note: string } | undefined;
}

/** The largest `maxAmountSats` (all bitcoin, in sats, times 1000). */
export const NO_CAP_SATS = 2_100_000_000_000_000;

/**
 * The `pay.fetch` tool: `http.fetch` that pays an HTTP 402 (L402, Payment, LSAT, or NUT-24
 * ecash) within the budgets.
 * The agent may lower the cap of one call (`maxAmountSats`), never raise a limit. A person's
 * approval is waited for no longer than the call's own timeout.
 */
export function payFetchTool(payer: L402Payer, methods: readonly [string, ...string[]]): ToolDefinition<z.ZodType, PayFetchResult> {
  return defineTool({
    name: 'pay.fetch',
    description: 'Fetches a paid API: pays its HTTP 402 (a Lightning invoice or a Cashu ecash request) within the spending limits, then returns status, headers and body.',
    inputSchema: z.strictObject({
      ...agentRequestFields(methods),
      maxAmountSats: z.number().int().positive().max(NO_CAP_SATS).optional().describe('Refuse to pay more than this for this call'),
    }),
    async execute(args, ctx): Promise<PayFetchResult> {
      const headers = agentHeaders(args.headers, 'pay.fetch');
      let response: Response;
      let payment: PayFetchResult['payment'];
      try {
        response = await payer.fetch(
          args.url,
          { method: args.method, headers, body: args.body, signal: ctx.signal, maxBytes: ctx.limits.maxBytes, onHop: hopCheck(ctx) },
          { maxAmountSats: args.maxAmountSats, actor: ctx.actor, approvalTimeoutMs: ctx.limits.timeoutMs > 0 ? ctx.limits.timeoutMs : undefined, beforePay: challengeCheck(ctx) },
        );
      } catch (error) {
        // Paid, then the server failed: the agent gets the answer and is told what was paid.
        const paid = isGatewayError(error) && error.code === 'UPSTREAM_ERROR' ? (error as { response?: Response }).response : undefined;
        const data = (isGatewayError(error) ? error.data : undefined) as { paidMsat?: number; paymentHash?: string } | undefined;
        if (paid === undefined || data?.paidMsat === undefined) throw error;
        response = paid;
        payment = {
          paidSats: data.paidMsat / 1000,
          ...(data.paymentHash === undefined ? {} : { paymentHash: data.paymentHash }),
          note: `This call paid ${formatSats(data.paidMsat)}, then the server answered ${paid.status}. The credential is kept: calling again does not pay again.`,
        };
      }
      const bytes = Buffer.from(await response.arrayBuffer());
      const result: PayFetchResult = describeResponse(response.status, response.url, response.headers, bytes);
      return payment === undefined ? result : { ...result, payment };
    },
    measure: (result) => result.bytes,
    // Argument rules see the request's URL facts and, at the call, the most it may pay
    // (`amountSats`: its maxAmountSats, which the payer enforces). What the 402 asks is known only
    // when it arrives: the payer decides the challenge again (challengeCheck) before reserving or
    // paying, with its real amount, `paymentScheme` and `paymentMethod`. Those facts, and the
    // amount of a call without a cap, are missing at the call: only allow rules may pass on them
    // then (compile.ts, PENDING_FACTS); deny and approve rules on them decide at the 402.
    canonicalize: (args) => ({ facts: { ...urlFacts(parseAgentUrl(args.url), args.method), ...(args.maxAmountSats === undefined ? {} : { amountSats: args.maxAmountSats }) } }),
  });
}

/**
 * The payer's `beforePay` of a call decided by argument rules: the challenge's facts replace
 * the call's (`amountSats` the invoice's or ecash request's, rounded up; `origin` canonical)
 * and the rules decide again. A refusal is POLICY_DENIED naming the rule, or APPROVAL_REQUIRED
 * when an approval given for the call does not cover what the 402 asks.
 */
function challengeCheck(ctx: ToolContext): ((challenge: ChallengeFacts) => void) | undefined {
  const canonical = ctx.canonical;
  if (canonical === undefined) return undefined;
  return (challenge) =>
    canonical.recheck({
      origin: urlFacts(new URL(challenge.origin), 'GET').origin as string,
      amountSats: challenge.amountSats,
      paymentScheme: challenge.scheme,
      paymentMethod: challenge.method,
    });
}
