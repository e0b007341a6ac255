import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { ResolvedConfig } from '../../config.js';
import { GatewayError, isGatewayError } from '../../errors.js';
import { defineTool, type ToolDefinition } from '../../tools.js';
import { NO_CAP_SATS } from '../tool.js';
import { throwIfAborted } from '../abort.js';
import { decodeInvoice, type Invoice } from '../bolt11.js';
import { budgetGate } from '../budget-gate.js';
import { normaliseInvoice, overCapMessage } from '../offers.js';
import type { ApproveFn, PaymentEvent } from '../payer-types.js';
import { MSAT_PER_SAT, type MeteredSpendLedger } from '../spend-tracker.js';
import type { Wallet } from '../wallet.js';

/** What `pay.invoice` returns: what was paid. Never the preimage. */
export interface PayInvoiceToolResult {
  paid: true;
  amountSats: number;
  feeSats: number;
  paymentHash: string;
  payee: string;
}

export interface PayInvoiceParts {
  wallet: Wallet;
  spend: MeteredSpendLedger;
  config: ResolvedConfig['payments'];
  approve?: ApproveFn | undefined;
  onEvent: (event: PaymentEvent) => void;
  now: () => number;
}

/**
 * The `pay.invoice` tool: pays a BOLT11 invoice under the same rules as `pay.fetch`: network,
 * amount present, the caller's cap, expiry, the budgets (fee reserve included) and approval
 * above `maxAutoPaySats`, each payment event audited. One invoice is paid once by this tool: a
 * second call is refused, and an unknown outcome keeps its budget reserved.
 */
export function payInvoiceTool(parts: PayInvoiceParts): ToolDefinition<z.ZodType, PayInvoiceToolResult> {
  const { config } = parts;
  const maxFeeMsat = config.maxFeeSats * MSAT_PER_SAT;
  const emit = (event: PaymentEvent): void => {
    try {
      parts.onEvent(event);
    } catch {
      // the host's callback failed; the payment's own bookkeeping goes on
    }
  };
  const gate = budgetGate({ spend: parts.spend, approve: parts.approve, alwaysAskOrigins: [], approvalTimeoutMs: config.approvalTimeoutMs, emit });
  /** Payment hashes this tool paid, is paying, or whose outcome is unknown. */
  const seen = new Map<string, 'paying' | 'paid' | 'unknown'>();

  // Reported as a refused payment event and thrown, as the payer's refusals are.
  const refuse = (code: GatewayError['code'], message: string, origin: string, amountMsat?: number): GatewayError =>
    gate.refuse(code, message, origin, amountMsat === undefined ? {} : { amountMsat });

  function check(invoice: Invoice, origin: string, capSats: number | undefined): number {
    if (invoice.network !== config.network) throw refuse('WRONG_NETWORK', `The invoice is for ${invoice.network}, not ${config.network}.`, origin);
    if (invoice.amountMsat === undefined) throw refuse('AMOUNTLESS_INVOICE', 'The invoice has no amount; an agent never chooses what to pay.', origin);
    const amountMsat = invoice.amountMsat;
    if (capSats !== undefined && amountMsat > capSats * MSAT_PER_SAT) throw refuse('AMOUNT_EXCEEDS_CAP', overCapMessage(origin, amountMsat, capSats * MSAT_PER_SAT), origin, amountMsat);
    if (invoice.expiresAtMs - config.expiryMarginMs <= parts.now()) throw refuse('INVOICE_EXPIRED', 'The invoice has expired or is about to.', origin, amountMsat);
    const state = seen.get(invoice.paymentHash);
    if (state !== undefined) {
      const why = state === 'unknown' ? 'an earlier payment of it has an unknown outcome' : state === 'paid' ? 'it was paid already' : 'it is being paid';
      throw refuse(state === 'unknown' ? 'PAYMENT_OUTCOME_UNKNOWN' : 'ALREADY_PAID', `Not paying this invoice: ${why}.`, origin, amountMsat);
    }
    return amountMsat;
  }

  return defineTool({
    name: 'pay.invoice',
    description: 'Pays a BOLT11 Lightning invoice within the spending limits (per-payment cap, rolling budgets, approval above the auto-pay cap). Returns the amount, fee and payment hash.',
    inputSchema: z.strictObject({
      invoice: z.string().min(1).max(8192).describe('The BOLT11 invoice (lnbc…)'),
      maxAmountSats: z.number().int().positive().max(NO_CAP_SATS).optional().describe('Refuse to pay more than this'),
    }),
    async execute(args, ctx): Promise<PayInvoiceToolResult> {
      const bolt11 = normaliseInvoice(args.invoice, 'invoice');
      const invoice = decodeInvoice(bolt11);
      const origin = `lightning:${invoice.payee}`;
      const amountMsat = check(invoice, origin, args.maxAmountSats);
      const { paymentHash } = invoice;
      seen.set(paymentHash, 'paying');
      let reservation;
      try {
        reservation = await gate.reserve(
          { method: 'lightning', amountMsat, feeReserveMsat: maxFeeMsat, origin, description: invoice.description, actor: ctx.actor, invoice: bolt11 },
          { signal: ctx.signal, approvalTimeoutMs: ctx.limits.timeoutMs > 0 ? ctx.limits.timeoutMs : undefined },
        );
        throwIfAborted(ctx.signal, 'before the wallet was called');
      } catch (error) {
        await reservation?.release();
        seen.delete(paymentHash);
        throw error;
      }
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(new GatewayError('TIMEOUT', 'The wallet did not answer in time.')), config.paymentTimeoutMs);
      let result: { preimage: string; feesPaidMsat: number };
      try {
        result = await parts.wallet.payInvoice({ invoice: bolt11, maxFeeMsat, signal: controller.signal });
      } catch (error) {
        if (isGatewayError(error) && error.code === 'PAYMENT_FAILED') {
          await reservation.release();
          seen.delete(paymentHash);
          emit({ outcome: 'failed', origin, code: 'PAYMENT_FAILED', amountMsat, paymentHash });
          throw new GatewayError('PAYMENT_FAILED', 'The wallet could not pay the invoice; nothing was spent.', { cause: error, data: { origin, paymentHash } });
        }
        seen.set(paymentHash, 'unknown');
        emit({ outcome: 'unknown', origin, code: 'PAYMENT_OUTCOME_UNKNOWN', amountMsat, paymentHash });
        throw new GatewayError('PAYMENT_OUTCOME_UNKNOWN', 'The wallet did not confirm the payment; the budget stays reserved.', { cause: error, data: { origin, paymentHash } });
      } finally {
        clearTimeout(timer);
      }
      seen.set(paymentHash, 'paid');
      if (!/^[0-9a-f]{64}$/i.test(result.preimage) || createHash('sha256').update(Buffer.from(result.preimage, 'hex')).digest('hex') !== paymentHash) {
        emit({ outcome: 'failed', origin, code: 'PREIMAGE_MISMATCH', paymentHash });
        throw new GatewayError('PREIMAGE_MISMATCH', 'The wallet returned a preimage that does not match the payment hash; the budget stays spent.', { data: { origin, paymentHash } });
      }
      // Audit first: the money moved and the proof checks out.
      emit({ outcome: 'paid', origin, amountMsat, feeMsat: result.feesPaidMsat, paymentHash });
      await reservation.settle(result.feesPaidMsat);
      return { paid: true, amountSats: amountMsat / MSAT_PER_SAT, feeSats: result.feesPaidMsat / MSAT_PER_SAT, paymentHash, payee: invoice.payee };
    },
  });
}
