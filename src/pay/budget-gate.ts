import { GatewayError, type ErrorCode } from '../errors.js';
import { abortError, throwIfAborted } from './abort.js';
import { configOrigin } from './origin.js';
import type { ApprovalRequest, ApproveFn, PaymentEvent } from './payer-types.js';
import { MAX_INVOICE_CHARS, safeOptionalText, safeServerText } from './server-text.js';
import { isSpendRefusal, type LedgerReservation, type SpendLedger } from './spend-tracker.js';

/** How one call waits: its signal (the caller's deadline) and its own approval limit. */
export interface GateCall {
  signal?: AbortSignal | null | undefined;
  approvalTimeoutMs?: number | undefined;
}

/** What both payers (L402/Payment over Lightning, NUT-24 over Cashu) ask before paying. */
export interface BudgetGate {
  /**
   * Reserves a payment in the budget, asking a person first for an "always ask" origin and
   * when the amount is over `maxAutoPaySats`. The call's signal is checked before and after the
   * approval and handed to `approve`; the wait is bounded by it.
   * @throws GatewayError (a refusal, already reported; or the call's TIMEOUT/ABORTED)
   */
  reserve(request: Omit<ApprovalRequest, 'reason'>, call?: GateCall): Promise<LedgerReservation>;
  /** Reports a refusal as an event (with `method` when it is Cashu) and returns it, to throw. */
  refuse(code: ErrorCode, message: string, origin: string, data?: Record<string, unknown>, method?: PaymentEvent['method']): GatewayError;
}

export interface BudgetGateOptions {
  spend: SpendLedger;
  approve?: ApproveFn | undefined;
  /** Canonicalised here: `https://API.example.com./` is `https://api.example.com`. */
  alwaysAskOrigins?: readonly string[] | undefined;
  /** @default 25000 */
  approvalTimeoutMs?: number | undefined;
  emit: (event: PaymentEvent) => void;
}

/** Default longest wait for a person, in ms: under the default call timeout (30 s). */
export const DEFAULT_APPROVAL_TIMEOUT_MS = 25_000;

/** Read through a call, so that a check after an `await` is not narrowed away. */
const isAborted = (signal: AbortSignal | undefined): boolean => signal?.aborted === true;

export function budgetGate(options: BudgetGateOptions): BudgetGate {
  const alwaysAsk = new Set((options.alwaysAskOrigins ?? []).map((entry) => configOrigin(entry, 'alwaysAskOrigins')));
  const approvalTimeoutMs = options.approvalTimeoutMs ?? DEFAULT_APPROVAL_TIMEOUT_MS;

  function refuse(code: ErrorCode, message: string, origin: string, data: Record<string, unknown> = {}, method?: PaymentEvent['method']): GatewayError {
    options.emit({ outcome: 'refused', origin, code, ...(typeof data.amountMsat === 'number' ? { amountMsat: data.amountMsat } : {}), ...(method === undefined ? {} : { method }) });
    return new GatewayError(code, message, { data: { origin, ...data } });
  }

  /** Asks `approve`; false on a decline, an error or the approval timeout; throws when the call is stopped. */
  async function askPerson(request: ApprovalRequest, call: GateCall): Promise<boolean> {
    if (options.approve === undefined) return false;
    const controller = new AbortController();
    const callSignal = call.signal ?? undefined;
    const limitMs = Math.min(approvalTimeoutMs, call.approvalTimeoutMs ?? Number.POSITIVE_INFINITY);
    const onCallAbort = (): void => controller.abort(callSignal?.reason);
    callSignal?.addEventListener('abort', onCallAbort, { once: true });
    const timer = setTimeout(() => controller.abort(new Error('approval timeout')), limitMs);
    try {
      const answer = Promise.resolve()
        .then(() => options.approve?.(request, { signal: controller.signal }) ?? false)
        .then((value) => value === true);
      answer.catch(() => undefined);
      const stopped = new Promise<boolean>((resolve) => controller.signal.addEventListener('abort', () => resolve(false), { once: true }));
      const approved = await Promise.race([answer, stopped]).catch(() => false);
      throwIfAborted(callSignal, 'while waiting for approval');
      return approved && !controller.signal.aborted;
    } finally {
      clearTimeout(timer);
      callSignal?.removeEventListener('abort', onCallAbort);
      if (!controller.signal.aborted) controller.abort(new Error('approval finished'));
    }
  }

  return {
    refuse,
    async reserve(raw, call = {}) {
      // What approve() sees of the server's choosing is escaped: the description, and the invoice or request as received.
      const request = { ...raw, description: safeOptionalText(raw.description), invoice: safeServerText(raw.invoice, MAX_INVOICE_CHARS) };
      const { amountMsat, feeReserveMsat, origin, actor } = request;
      const signal = call.signal ?? undefined;
      throwIfAborted(signal, 'before the payment was reserved');
      const refusal = (limit: string, reason: string): GatewayError =>
        refuse('APPROVAL_REQUIRED', `Payment refused: ${reason}.`, origin, { amountMsat, limit, description: request.description ?? null }, request.method);
      let approved = false;
      if (alwaysAsk.has(origin)) {
        approved = await askPerson({ ...request, reason: 'always-ask' }, call);
        if (!approved) throw refusal('alwaysAskOrigins', `every payment to ${origin} needs a person's approval, and it was not given`);
      }
      let result = await options.spend.tryReserve({ amountMsat, feeReserveMsat, origin, actor, approved });
      if (isSpendRefusal(result) && result.code === 'APPROVAL_REQUIRED' && !approved && (await askPerson({ ...request, reason: 'over-auto-pay-cap' }, call))) {
        result = await options.spend.tryReserve({ amountMsat, feeReserveMsat, origin, actor, approved: true });
      }
      if (isSpendRefusal(result)) {
        throw refuse(result.code, `Payment refused: ${result.reason}.`, origin, { amountMsat, limit: result.limit, description: request.description ?? null }, request.method);
      }
      if (isAborted(signal)) {
        // Approved, but the caller has gone meanwhile: nothing is paid.
        await result.release();
        throw abortError(signal as AbortSignal, 'after the approval, before paying');
      }
      return result;
    },
  };
}
