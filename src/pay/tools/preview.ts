import { z } from 'zod';
import type { ResolvedConfig } from '../../config.js';
import { GatewayError, isGatewayError } from '../../errors.js';
import type { GuardedFetch } from '../../net/fetch.js';
import { agentHeaders, agentRequestFields } from '../../net/tool.js';
import { defineTool, type ToolDefinition } from '../../tools.js';
import { NO_CAP_SATS } from '../tool.js';
import { drain } from '../credentials.js';
import { checkOffer, readOffer, type Offer } from '../offers.js';
import { canonicalOrigin, configOrigin } from '../origin.js';
import { safeOptionalText } from '../server-text.js';
import { MSAT_PER_SAT, type MeteredSpendLedger } from '../spend-tracker.js';

/** What `pay.preview` tells: the price and whether paying it would be allowed now. Nothing is paid or reserved. */
export interface PayPreviewResult {
  status: number;
  paymentRequired: boolean;
  origin: string;
  offer?: {
    scheme: 'L402' | 'LSAT' | 'Payment' | 'cashu';
    amountSats: number | null;
    /** Hex public key of the Lightning payee; for ecash, the mints it takes. */
    payee: string | null;
    mints?: string[];
    description: string | null;
    /** ISO 8601; `null` for ecash, which does not expire. */
    expiresAt: string | null;
    network: string | null;
  };
  /** Whether `pay.fetch` would pay it now: the caps, the rolling budget, approval, network and expiry. */
  verdict?: { allowed: boolean; needsApproval: boolean; code: string | null; reason: string };
}

export interface PayPreviewParts {
  fetch: GuardedFetch;
  spend: MeteredSpendLedger;
  config: ResolvedConfig['payments'];
  /** Whether a person can be asked (`deps.approve`). */
  canApprove: boolean;
  hasLightning: boolean;
  hasCashu: boolean;
  now: () => number;
}

/** Longest 402 body read (and dropped), in bytes: a preview never returns a body. */
const PREVIEW_MAX_BYTES = 64 * 1024;

/**
 * The `pay.preview` tool: fetches the URL once through the guarded fetch, without credentials,
 * and reads its 402 challenge. It pays nothing and reserves nothing; it never returns the
 * body (it is not a way around `http.fetch`).
 */
export function payPreviewTool(parts: PayPreviewParts, methods: readonly [string, ...string[]]): ToolDefinition<z.ZodType, PayPreviewResult> {
  const alwaysAsk = new Set(parts.config.alwaysAskOrigins.map((entry) => configOrigin(entry, 'alwaysAskOrigins')));
  return defineTool({
    name: 'pay.preview',
    description: 'Shows what a paid URL would cost (scheme, amount, payee, expiry) and whether the spending limits and approval rules would let pay.fetch pay it. Pays nothing.',
    inputSchema: z.strictObject({
      ...agentRequestFields(methods),
      maxAmountSats: z.number().int().positive().max(NO_CAP_SATS).optional().describe('The cap you would pass to pay.fetch'),
    }),
    async execute(args, ctx): Promise<PayPreviewResult> {
      const headers = agentHeaders(args.headers, 'pay.preview');
      let url: URL;
      try {
        url = new URL(args.url);
      } catch {
        throw new GatewayError('VALIDATION_FAILED', 'Invalid arguments for pay.preview: url is not an absolute URL.');
      }
      const origin = canonicalOrigin(url);
      const response = await parts.fetch(url, { method: args.method, headers, body: args.body, signal: ctx.signal, maxBytes: PREVIEW_MAX_BYTES, retries: 0 });
      await drain(response);
      if (response.status !== 402) return { status: response.status, paymentRequired: false, origin };
      // As pay.fetch: a 402 reached through a redirect to another origin is not this origin's to ask.
      const answeredBy = response.url === '' ? origin : canonicalOrigin(response.url);
      if (answeredBy !== origin) {
        return { status: 402, paymentRequired: true, origin, verdict: { allowed: false, needsApproval: false, code: 'INVALID_CHALLENGE', reason: `A redirect to ${answeredBy} answered 402; pay.fetch would not pay another origin than the one asked.` } };
      }
      const capMsat = args.maxAmountSats === undefined ? undefined : args.maxAmountSats * MSAT_PER_SAT;
      const cashuHeader = response.headers.get('x-cashu');
      if (cashuHeader !== null && (response.headers.get('www-authenticate') === null || (!parts.hasLightning && parts.hasCashu))) {
        return { status: 402, paymentRequired: true, origin, ...(await cashuPreview(cashuHeader, origin, capMsat)) };
      }
      let offer: Offer;
      try {
        offer = readOffer(response.headers.get('www-authenticate'), origin);
      } catch (error) {
        if (!isGatewayError(error)) throw error;
        return { status: 402, paymentRequired: true, origin, verdict: { allowed: false, needsApproval: false, code: error.code, reason: error.message } };
      }
      const { invoice } = offer;
      const shown: PayPreviewResult['offer'] = {
        scheme: offer.scheme,
        amountSats: invoice.amountMsat === undefined ? null : invoice.amountMsat / MSAT_PER_SAT,
        payee: invoice.payee,
        description: safeOptionalText(invoice.description) ?? null,
        expiresAt: new Date(Math.min(invoice.expiresAtMs, offer.payment?.expiresAtMs ?? Number.POSITIVE_INFINITY)).toISOString(),
        network: invoice.network,
      };
      try {
        checkOffer(offer, { origin, network: parts.config.network, expiryMarginMs: parts.config.expiryMarginMs, nowMs: parts.now(), capMsat });
      } catch (error) {
        if (!isGatewayError(error)) throw error;
        return { status: 402, paymentRequired: true, origin, offer: shown, verdict: { allowed: false, needsApproval: false, code: error.code, reason: error.message } };
      }
      return { status: 402, paymentRequired: true, origin, offer: shown, verdict: await budgetVerdict(invoice.amountMsat ?? 0, parts.config.maxFeeSats * MSAT_PER_SAT, origin) };
    },
  });

  /** The budget and approval rules, read without reserving anything. */
  async function budgetVerdict(amountMsat: number, feeMsat: number, origin: string): Promise<NonNullable<PayPreviewResult['verdict']>> {
    const { maxAutoPaySats, maxSpendPerMinuteSats } = parts.config;
    const needsApproval = alwaysAsk.has(origin) || amountMsat > maxAutoPaySats * MSAT_PER_SAT;
    const leftMsat = maxSpendPerMinuteSats * MSAT_PER_SAT - (await parts.spend.spentLastMinuteMsat());
    if (amountMsat + feeMsat > leftMsat) {
      return { allowed: false, needsApproval, code: 'SPEND_LIMIT_EXCEEDED', reason: `With the routing fee reserve it would exceed what is left of the per-minute budget (${Math.max(0, Math.floor(leftMsat / MSAT_PER_SAT))} sats).` };
    }
    if (needsApproval && !parts.canApprove) {
      return { allowed: false, needsApproval, code: 'APPROVAL_REQUIRED', reason: alwaysAsk.has(origin) ? `Every payment to ${origin} needs a person's approval, and none can be asked.` : `Above maxAutoPaySats (${maxAutoPaySats}), and no person can be asked.` };
    }
    return {
      allowed: true,
      needsApproval,
      code: null,
      reason: needsApproval ? 'pay.fetch would ask a person first.' : 'Within the caps; pay.fetch would pay it (other budgets, per origin, actor or day, are checked when paying).',
    };
  }

  async function cashuPreview(header: string, origin: string, capMsat: number | undefined): Promise<Pick<PayPreviewResult, 'offer' | 'verdict'>> {
    const { readCashuOffer } = await import('../cashu-request.js');
    try {
      const offer = readCashuOffer(header, origin);
      const shown: PayPreviewResult['offer'] = { scheme: 'cashu', amountSats: offer.amountSat, payee: null, mints: offer.mints.map((mint) => safeOptionalText(mint) ?? ''), description: safeOptionalText(offer.description) ?? null, expiresAt: null, network: null };
      const amountMsat = offer.amountSat * MSAT_PER_SAT;
      if (capMsat !== undefined && amountMsat > capMsat) {
        return { offer: shown, verdict: { allowed: false, needsApproval: false, code: 'AMOUNT_EXCEEDS_CAP', reason: `${origin} asks ${offer.amountSat} sats, over the cap given.` } };
      }
      return { offer: shown, verdict: await budgetVerdict(amountMsat, 0, origin) };
    } catch (error) {
      if (!isGatewayError(error)) throw error;
      return { verdict: { allowed: false, needsApproval: false, code: error.code, reason: error.message } };
    }
  }
}
