import { Headers } from 'undici';
import { GatewayError, isGatewayError } from '../errors.js';
import type { GuardedFetch, GuardedRequestInit } from '../net/fetch.js';
import type { BudgetGate } from './budget-gate.js';
import type { CashuOffer } from './cashu-request.js';
import { abortError, throwIfAborted } from './abort.js';
import { overCapMessage } from './offers.js';
import { formatSats } from './server-text.js';
import { canonicalOrigin } from './origin.js';
import type { PayFetchOptions, PaymentEvent } from './payer-types.js';
import { MSAT_PER_SAT, type LedgerReservation } from './spend-tracker.js';
import type { CashuWallet, OutgoingToken } from './wallets/cashu/wallet.js';

export interface CashuPayerOptions {
  fetch: GuardedFetch;
  wallet: CashuWallet;
  gate: BudgetGate;
  /** Largest fee (our swap's and the payee's input fee) per payment, in sats. */
  maxFeeSats: number;
  emit: (event: PaymentEvent) => void;
}

/** Pays NUT-24 offers from the Cashu wallet. */
export interface CashuPayer {
  /** The mint this offer would be paid from, or `undefined` when no allowed mint holds enough. */
  mintFor(offer: CashuOffer): Promise<string | undefined>;
  /** Pays the offer and sends the request again with the token in `X-Cashu`, once; `origin` is `url`'s canonical origin. */
  pay(url: URL, origin: string, init: GuardedRequestInit, offer: CashuOffer, callOptions: PayFetchOptions): Promise<Response>;
}

/**
 * The payee redeemed the token but the request got no answer (the caller's signal ended it, or
 * the connection failed): the caller is told what was paid, so that it does not pay again
 * unknowingly. The code stays the abort's own (`TIMEOUT`/`ABORTED`) when the caller stopped it,
 * else `UPSTREAM_ERROR`; `data.paidMsat` says what was paid, as for a paid request that failed.
 */
function paidThenNoAnswer(cause: unknown, signal: AbortSignal | undefined, origin: string, token: OutgoingToken): GatewayError {
  const paidMsat = (token.amountSat - token.feeSat) * MSAT_PER_SAT;
  const paid = `Paid ${formatSats(paidMsat)} in ecash to ${origin} (the payee redeemed the token)`;
  const data = { origin, paidMsat, feeMsat: token.feeSat * MSAT_PER_SAT, mint: token.mint, method: 'cashu', tokenOutcome: 'spent' };
  if (signal?.aborted === true) {
    const stopped = abortError(signal, 'while the paid request was under way');
    const timedOut = stopped.code === 'TIMEOUT';
    return new GatewayError(stopped.code, `${paid}, then the call was ${timedOut ? 'out of time' : 'aborted'} before it answered. Calling again pays again.`, {
      cause: signal.reason ?? cause,
      data: { ...data, stage: 'while the paid request was under way' },
    });
  }
  return new GatewayError('UPSTREAM_ERROR', `${paid}, then the request failed without an answer. Calling again pays again.`, { cause, data });
}

/**
 * The NUT-24 payer. Before paying it checks the amount against the caller's cap and the
 * budget (approval included), and that a mint of the request is one the wallet deals with.
 * It makes a token that redeems to exactly the amount (the payee's input fee included), sends
 * it in `X-Cashu` (never retried, and never followed through a redirect: a 3xx ends the call),
 * and settles by the answer: accepted → spent; a 402, a redirect, an error or no answer → the
 * token is taken back unless the payee redeemed it (or kept pending for `reconcile()` when the
 * mint cannot say), so nothing is paid for nothing. The caller's signal is checked before the
 * budget and just before the token is made; once made, its outcome is always settled.
 */
export function createCashuPayer(options: CashuPayerOptions): CashuPayer {
  const { wallet, gate, emit } = options;
  const maxFeeMsat = options.maxFeeSats * MSAT_PER_SAT;

  /** The request's mints this wallet deals with, normalised. */
  const acceptedMints = (offer: CashuOffer): string[] => offer.mints.flatMap((url) => wallet.accepts(url) ?? []);

  const mintFor = (offer: CashuOffer): Promise<string | undefined> => wallet.mintHolding(offer.amountSat, acceptedMints(offer));

  /** After the payee's answer was not an acceptance: take the token back unless it was redeemed. */
  async function settleUnaccepted(token: OutgoingToken, reservation: LedgerReservation, origin: string, rejected: boolean): Promise<'spent' | 'reclaimed' | 'unknown'> {
    const outcome = await wallet.reclaim(token.id).catch(() => 'unknown' as const);
    if (outcome === 'reclaimed') await reservation.release();
    if (outcome === 'spent') {
      await reservation.settle(token.feeSat * MSAT_PER_SAT);
      const amountMsat = (token.amountSat - token.feeSat) * MSAT_PER_SAT;
      const feeMsat = token.feeSat * MSAT_PER_SAT;
      emit(
        rejected
          ? { outcome: 'rejected-after-payment', origin, code: 'PAID_BUT_REJECTED', amountMsat, feeMsat, method: 'cashu', mint: token.mint }
          : { outcome: 'paid', origin, amountMsat, feeMsat, method: 'cashu', mint: token.mint },
      );
    }
    if (outcome === 'unknown') emit({ outcome: 'unknown', origin, code: 'PAYMENT_OUTCOME_UNKNOWN', amountMsat: token.amountSat * MSAT_PER_SAT, method: 'cashu', mint: token.mint });
    return outcome;
  }

  return {
    mintFor,
    async pay(url, origin, init, offer, callOptions) {
      const signal = init.signal ?? undefined;
      const amountMsat = offer.amountSat * MSAT_PER_SAT;
      if (callOptions.maxAmountSats !== undefined && offer.amountSat > callOptions.maxAmountSats) {
        throw gate.refuse('AMOUNT_EXCEEDS_CAP', overCapMessage(origin, amountMsat, callOptions.maxAmountSats * MSAT_PER_SAT), origin, { amountMsat, capMsat: callOptions.maxAmountSats * MSAT_PER_SAT }, 'cashu');
      }
      if (acceptedMints(offer).length === 0) {
        throw gate.refuse('MINT_NOT_ALLOWED', `${origin} takes ecash only from mints this wallet does not deal with.`, origin, { amountMsat, mints: offer.mints }, 'cashu');
      }
      const mint = await mintFor(offer);
      if (mint === undefined) {
        throw gate.refuse('INSUFFICIENT_FUNDS', `The ecash wallet holds less than ${offer.amountSat} sats at the mints that ${origin} accepts.`, origin, { amountMsat }, 'cashu');
      }
      const reservation = await gate.reserve({
        method: 'cashu',
        amountMsat,
        feeReserveMsat: maxFeeMsat,
        origin,
        description: offer.description,
        actor: callOptions.actor,
        invoice: offer.encoded,
        mint,
      }, { signal, approvalTimeoutMs: callOptions.approvalTimeoutMs });
      if (signal?.aborted === true) {
        await reservation.release();
        emit({ outcome: 'refused', origin, code: 'ABORTED', amountMsat, method: 'cashu', mint });
        throwIfAborted(signal, 'before the ecash was made');
      }
      let token: OutgoingToken;
      try {
        token = await wallet.send(offer.amountSat, { mint, includeFees: true, maxFeeSat: options.maxFeeSats, reclaimOnReconcile: true });
      } catch (error) {
        if (isGatewayError(error) && error.code === 'PAYMENT_OUTCOME_UNKNOWN') {
          emit({ outcome: 'unknown', origin, code: error.code, amountMsat, method: 'cashu', mint });
        } else {
          await reservation.release();
          emit({ outcome: 'failed', origin, code: isGatewayError(error) ? error.code : 'PAYMENT_FAILED', amountMsat, method: 'cashu', mint });
        }
        throw error;
      }
      const headers = new Headers(init.headers);
      headers.set('x-cashu', token.token);
      let response: Response;
      try {
        // Ecash is for this origin only: the paid request is never followed through a redirect.
        response = await options.fetch(url, { ...init, headers: Object.fromEntries(headers), retries: 0, redirect: 'manual' });
      } catch (error) {
        const outcome = await settleUnaccepted(token, reservation, origin, false);
        if (outcome === 'unknown') {
          throw new GatewayError('PAYMENT_OUTCOME_UNKNOWN', 'The request carrying the ecash failed and the mint could not say whether the token was redeemed; it stays held. Call reconcile() on the Cashu wallet later.', { cause: error, data: { origin, mint } });
        }
        if (outcome === 'spent') throw paidThenNoAnswer(error, signal, origin, token);
        throw error;
      }
      if (response.ok) {
        // Audit first: the payee took the ecash; nothing after this may lose the record.
        emit({ outcome: 'paid', origin, amountMsat, feeMsat: token.feeSat * MSAT_PER_SAT, method: 'cashu', mint });
        const settled = await Promise.allSettled([reservation.settle(token.feeSat * MSAT_PER_SAT), wallet.confirm(token.id)]);
        const failed = settled.find((result) => result.status === 'rejected');
        if (failed === undefined) return response;
        const paidMsat = (token.amountSat - token.feeSat) * MSAT_PER_SAT;
        const error = new GatewayError('TOOL_FAILED', `Paid ${formatSats(paidMsat)} in ecash to ${origin}, which accepted it (${response.status}), but the payment could not be booked; it is recorded as paid. The answer is on the error's "response" property.`, {
          cause: failed.reason,
          data: { origin, status: response.status, paidMsat, mint, method: 'cashu' },
        });
        Object.defineProperty(error, 'response', { value: response, enumerable: false });
        throw error;
      }
      if (response.status >= 300 && response.status < 400) {
        await response.arrayBuffer().catch(() => undefined);
        const outcome = await settleUnaccepted(token, reservation, origin, false);
        const location = response.headers.get('location');
        let to = 'elsewhere';
        try {
          to = location === null ? to : canonicalOrigin(new URL(location, url));
        } catch {
          // an unreadable location: still not followed
        }
        const kept = outcome === 'reclaimed' ? 'the token is back in the wallet' : outcome === 'spent' ? 'the payee had redeemed the token' : 'the token is held for reconcile()';
        throw new GatewayError('REDIRECT_BLOCKED', `${origin} redirected the request carrying ecash (to ${to}); ecash is never sent on, and the call ends here: ${kept}.`, {
          data: { origin, mint, status: response.status, tokenOutcome: outcome },
        });
      }
      if (response.status !== 402) {
        // Not a plain acceptance (an error): the payee may or may not have redeemed the token;
        // the mint knows. Redeemed and then failed: the caller is told what was paid.
        const outcome = await settleUnaccepted(token, reservation, origin, false);
        if (outcome !== 'spent' || response.status < 400) return response;
        const paidMsat = (token.amountSat - token.feeSat) * MSAT_PER_SAT;
        const error = new GatewayError('UPSTREAM_ERROR', `Paid ${formatSats(paidMsat)} in ecash to ${origin} (the payee redeemed the token), then it answered ${response.status}.`, {
          data: { origin, status: response.status, paidMsat, mint, method: 'cashu' },
        });
        Object.defineProperty(error, 'response', { value: response, enumerable: false });
        throw error;
      }
      await response.arrayBuffer().catch(() => undefined);
      const outcome = await settleUnaccepted(token, reservation, origin, true);
      throw new GatewayError(
        'PAID_BUT_REJECTED',
        outcome === 'reclaimed'
          ? `${origin} answered 402 again to the ecash; it had not redeemed the token, which is back in the wallet. Not paying again.`
          : `${origin} answered 402 again to the ecash${outcome === 'spent' ? ' after redeeming it' : ''}; not paying again.`,
        { data: { origin, mint, tokenOutcome: outcome } },
      );
    },
  };
}
