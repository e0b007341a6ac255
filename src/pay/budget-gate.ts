import { GatewayError, type ErrorCode } from '../errors.js';
import type { ApprovalRequest, PaymentEvent } from './l402-payer.js';
import { isSpendRefusal, type LedgerReservation, type SpendLedger } from './spend-tracker.js';

/** What both payers (L402/Payment over Lightning, NUT-24 over Cashu) ask before paying. */
export interface BudgetGate {
  /**
   * Reserves a payment in the budget, asking a person first for an "always ask" origin and
   * when the amount is over `maxAutoPaySats`. @throws GatewayError (a refusal, already reported)
   */
  reserve(request: Omit<ApprovalRequest, 'reason'>): Promise<LedgerReservation>;
  /** Reports a refusal as an event (with `method` when it is Cashu) and returns it, to throw. */
  refuse(code: ErrorCode, message: string, origin: string, data?: Record<string, unknown>, method?: PaymentEvent['method']): GatewayError;
}

export interface BudgetGateOptions {
  spend: SpendLedger;
  approve?: ((request: ApprovalRequest) => Promise<boolean>) | undefined;
  alwaysAskOrigins?: readonly string[] | undefined;
  approvalTimeoutMs?: number | undefined;
  emit: (event: PaymentEvent) => void;
}

export function budgetGate(options: BudgetGateOptions): BudgetGate {
  const alwaysAsk = new Set(options.alwaysAskOrigins ?? []);

  function refuse(code: ErrorCode, message: string, origin: string, data: Record<string, unknown> = {}, method?: PaymentEvent['method']): GatewayError {
    options.emit({ outcome: 'refused', origin, code, ...(typeof data.amountMsat === 'number' ? { amountMsat: data.amountMsat } : {}), ...(method === undefined ? {} : { method }) });
    return new GatewayError(code, message, { data: { origin, ...data } });
  }

  async function askPerson(request: ApprovalRequest): Promise<boolean> {
    if (options.approve === undefined) return false;
    return withTimeout(options.approve(request), options.approvalTimeoutMs ?? 120_000).catch(() => false);
  }

  return {
    refuse,
    async reserve(request) {
      const { amountMsat, feeReserveMsat, origin, actor } = request;
      const refusal = (limit: string, reason: string): GatewayError =>
        refuse('APPROVAL_REQUIRED', `Payment refused: ${reason}.`, origin, { amountMsat, limit, description: request.description ?? null }, request.method);
      let approved = false;
      if (alwaysAsk.has(origin)) {
        approved = await askPerson({ ...request, reason: 'always-ask' });
        if (!approved) throw refusal('alwaysAskOrigins', `every payment to ${origin} needs a person's approval, and it was not given`);
      }
      let result = await options.spend.tryReserve({ amountMsat, feeReserveMsat, origin, actor, approved });
      if (isSpendRefusal(result) && result.code === 'APPROVAL_REQUIRED' && !approved && (await askPerson({ ...request, reason: 'over-auto-pay-cap' }))) {
        result = await options.spend.tryReserve({ amountMsat, feeReserveMsat, origin, actor, approved: true });
      }
      if (isSpendRefusal(result)) {
        throw refuse(result.code, `Payment refused: ${result.reason}.`, origin, { amountMsat, limit: result.limit, description: request.description ?? null }, request.method);
      }
      return result;
    },
  };
}

export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timeout')), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
