import { GatewayError, isGatewayError } from '../errors.js';
import type { GuardedRequestInit } from '../net/fetch.js';
import type { StoredRecord } from '../store/credential-store.js';
import { explainAbort, raceAbort, throwIfAborted } from './abort.js';
import { canonicalOrigin, configOrigin } from './origin.js';
import type { ChallengeFacts, L402Payer, L402PayerOptions, PayFetchOptions, PaymentEvent, PendingPayment, WalletOrder } from './payer-types.js';
import { formatSats } from './server-text.js';
import { CredentialCache, drain, provenCredential, scopeOf, withAuthorization, type L402Credential, type ProofOffer } from './credentials.js';
import { checkOffer, readOffer, type Offer } from './offers.js';
import { budgetGate, type BudgetGate } from './budget-gate.js';
import { MSAT_PER_SAT, type LedgerReservation } from './spend-tracker.js';
import type { Wallet } from './wallet.js';
import { createCashuPayer } from './cashu-payer.js';
import { invoiceFlights } from './invoice-flight.js';
import type { CashuOffer } from './cashu-request.js';

const NO_WALLET: Wallet = {
  payInvoice: () => Promise.reject(new GatewayError('PAYMENT_FAILED', 'No wallet is configured: pass one to createGateway(config, { wallet }) or { cashu }.')),
};

export type { ApprovalContext, ApprovalRequest, ApproveFn, ChallengeFacts, L402Payer, L402PayerOptions, PayFetchOptions, PaymentEvent, PendingPayment, WalletOrder } from './payer-types.js';

/** A GatewayError that also carries the paid credential (never in its message or JSON). */
function withCredential(error: GatewayError, credential: L402Credential): GatewayError {
  Object.defineProperty(error, 'credential', { value: credential, enumerable: false });
  return error;
}

/** What a single flight hands every request in it: the credential, and whether it was paid for now. */
interface Bought {
  credential: L402Credential;
  /** Paid in this flight (else found in the cache, bought earlier). */
  paid: boolean;
  amountMsat: number;
}

/**
 * Creates the L402 payer. Before paying it refuses, each with its own code: an amount over the
 * caller's cap, an amountless, expired or wrong-network invoice, a token that commits to
 * another payment hash, a budget overrun, a challenge reached through a redirect to another
 * origin. Origins are canonical everywhere (budgets, approvals, scopes, audit). The caller's
 * signal is checked before reserving, after approval and just before the wallet; once the
 * wallet is called, the outcome is recorded and a credential kept even if the caller has gone.
 * It writes a pending record before paying, records `paid` as soon as the preimage checks out,
 * never pays twice for one endpoint at a time (single flight), and never loops on a 402.
 */
export function createL402Payer(options: L402PayerOptions): L402Payer {
  const now = options.now ?? Date.now;
  const network = options.network ?? 'bitcoin';
  const maxFeeMsat = (options.maxFeeSats ?? 10) * MSAT_PER_SAT;
  const expiryMarginMs = options.expiryMarginMs ?? 30_000;
  const paymentTimeoutMs = options.paymentTimeoutMs ?? 60_000;
  const cache = new CredentialCache(options.store, now);
  const inFlight = new Map<string, Promise<Bought>>();
  const reservations = new Map<string, LedgerReservation>();
  /** Pending records, also kept here so `resume` works without a store, within this process. */
  const pendingRecords = new Map<string, StoredRecord>();
  /** Payment hashes whose `paid` is recorded but whose credential is not kept yet (resume must not record twice). */
  const recordedPaid = new Set<string>();
  /** One invoice is paid by one wallet call at a time, and once, whatever the endpoint. */
  const flights = invoiceFlights();
  // A throwing onEvent must not stop the bookkeeping of a payment (keeping its credential).
  const emit = (event: PaymentEvent): void => {
    try {
      options.onEvent?.(event);
    } catch {
      // the host's callback failed; the payment's own records go on
    }
  };
  // Invoices are paid by the Lightning wallet, else melted from ecash.
  const lightning: Wallet = options.wallet ?? options.cashu ?? NO_WALLET;
  const orderByOrigin = new Map<string, WalletOrder>(Object.entries(options.walletOrderByOrigin ?? {}).map(([origin, order]) => [configOrigin(origin, 'walletOrderByOrigin'), order]));

  const gate = budgetGate({ spend: options.spend, approve: options.approve, alwaysAskOrigins: options.alwaysAskOrigins, approvalTimeoutMs: options.approvalTimeoutMs, emit });
  const refuse = (...args: Parameters<BudgetGate['refuse']>): GatewayError => gate.refuse(...args);

  /**
   * Reads and checks the 402's offer; any refusal is reported as an event, then thrown. The
   * call's `beforePay` decides it first (its refusal names its rule, whatever the cap says);
   * a refusal it gives is returned instead when `skippable` (another method is on offer).
   */
  async function acceptableOffer(response: Response, origin: string, callOptions: PayFetchOptions, skippable: boolean): Promise<Offer | { refusal: Error }> {
    try {
      const offer = readOffer(response.headers.get('www-authenticate'), origin);
      const { amountMsat } = offer.invoice;
      if (amountMsat !== undefined) {
        const refusal = await policyRefusal(callOptions, { scheme: offer.scheme, method: 'lightning', amountSats: Math.ceil(amountMsat / MSAT_PER_SAT), origin });
        if (refusal !== undefined && skippable) return { refusal };
        if (refusal !== undefined) throw refusal;
      }
      const capMsat = callOptions.maxAmountSats === undefined ? undefined : callOptions.maxAmountSats * MSAT_PER_SAT;
      checkOffer(offer, { origin, network, expiryMarginMs, nowMs: now(), capMsat });
      return offer;
    } catch (error) {
      if (isGatewayError(error)) {
        const amountMsat = (error.data as { amountMsat?: unknown } | undefined)?.amountMsat;
        emit({ outcome: 'refused', origin, code: error.code, ...(typeof amountMsat === 'number' ? { amountMsat } : {}) });
      }
      throw error;
    }
  }

  /** What the call's `beforePay` says of a challenge: its refusal (thrown), or `undefined` to pay. */
  async function policyRefusal(callOptions: PayFetchOptions, challenge: ChallengeFacts): Promise<Error | undefined> {
    if (callOptions.beforePay === undefined) return undefined;
    try {
      await callOptions.beforePay(challenge);
      return undefined;
    } catch (error) {
      return error instanceof Error ? error : new GatewayError('POLICY_DENIED', 'The payment was refused by the call\'s own check.', { data: { origin: challenge.origin } });
    }
  }

  /** A NUT-24 offer as `beforePay` sees it. */
  const ecashChallenge = (offer: CashuOffer, origin: string): ChallengeFacts => ({ scheme: 'cashu', method: 'cashu', amountSats: offer.amountSat, origin });

  /**
   * The credential for one offer, paying its invoice unless this payer already has (or is
   * paying) it: one invoice handed to several endpoints is paid once, by one wallet call, and
   * the others get their own credential from its preimage (`paid: false`: they paid nothing).
   * An invoice whose earlier payment has an unknown outcome is not paid again: resume it.
   */
  async function credentialFor(offer: Offer, url: URL, origin: string, signal: AbortSignal | undefined, callOptions: PayFetchOptions): Promise<{ credential: L402Credential; paid: boolean }> {
    const { paymentHash } = offer.invoice;
    const got = await flights.run(paymentHash, signal, async () => {
      const pendingId = `pending:${paymentHash}`;
      const pendingRecord = pendingRecords.get(pendingId) ?? (await options.store?.get(pendingId));
      if (pendingRecord !== undefined) {
        const amountMsat = offer.invoice.amountMsat ?? 0;
        emit({ outcome: 'refused', origin, code: 'PAYMENT_OUTCOME_UNKNOWN', amountMsat, paymentHash });
        throw new GatewayError('PAYMENT_OUTCOME_UNKNOWN', 'An earlier payment of this invoice has an unknown outcome; not paying it again. Call pay.resume(pending) once the outcome is known.', {
          data: { origin, pending: { id: pendingId, url: String(pendingRecord.url), paymentHash, amountMsat } satisfies PendingPayment },
        });
      }
      return pay(offer, url, origin, signal, callOptions);
    });
    if ('paid' in got) return { credential: got.paid, paid: true };
    const credential = credentialFrom({ ...offer, challengeParams: offer.payment?.params }, got.known, origin);
    await cache.save(url, credential).catch(() => undefined);
    return { credential, paid: false };
  }

  /** Pays one offer: budget (and approval), pending record, wallet, preimage check, `paid`, then the stores. */
  async function pay(offer: Offer, url: URL, origin: string, signal: AbortSignal | undefined, callOptions: PayFetchOptions): Promise<L402Credential> {
    const amountMsat = offer.invoice.amountMsat ?? 0;
    const reservation = await gate.reserve(
      { method: 'lightning', amountMsat, feeReserveMsat: maxFeeMsat, origin, description: offer.invoice.description, actor: callOptions.actor, invoice: offer.bolt11 },
      { signal, approvalTimeoutMs: callOptions.approvalTimeoutMs },
    ).catch((error: unknown) => {
      if (isGatewayError(error) && (error.code === 'TIMEOUT' || error.code === 'ABORTED')) emit({ outcome: 'refused', origin, code: error.code, amountMsat });
      throw error;
    });
    const { paymentHash } = offer.invoice;
    const pendingId = `pending:${paymentHash}`;
    const record: StoredRecord = {
      url: url.href,
      token: offer.token,
      scheme: offer.scheme,
      challenge: offer.payment === undefined ? null : JSON.stringify(offer.payment.params),
      invoice: offer.bolt11,
      paymentHash,
      amountMsat,
    };
    try {
      await options.store?.put(pendingId, record);
      // The last moment to stop: after this the wallet is called and the outcome is always kept.
      throwIfAborted(signal, 'before the wallet was called');
    } catch (error) {
      await reservation.release();
      await options.store?.delete(pendingId).catch(() => undefined);
      emit({ outcome: 'refused', origin, code: isGatewayError(error) ? error.code : 'TOOL_FAILED', amountMsat, paymentHash });
      if (isGatewayError(error)) throw error;
      throw new GatewayError('TOOL_FAILED', 'The pending record could not be written before paying; nothing was paid.', { cause: error, data: { origin, paymentHash } });
    }
    pendingRecords.set(pendingId, record);
    reservations.set(paymentHash, reservation);
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new GatewayError('TIMEOUT', 'The wallet did not answer in time.')), paymentTimeoutMs);
    let preimage: string;
    let feesPaidMsat: number;
    try {
      ({ preimage, feesPaidMsat } = await lightning.payInvoice({ invoice: offer.bolt11, maxFeeMsat, signal: controller.signal }));
    } catch (error) {
      if (isGatewayError(error) && error.code === 'PAYMENT_FAILED') {
        // The wallet knows nothing was paid: give the budget back and forget the pending record.
        await reservation.release();
        // Only this call's own entries go (a payment of the same invoice may be recorded too).
        if (reservations.get(paymentHash) === reservation) reservations.delete(paymentHash);
        if (pendingRecords.get(pendingId) === record) {
          pendingRecords.delete(pendingId);
          await options.store?.delete(pendingId);
        }
        emit({ outcome: 'failed', origin, code: 'PAYMENT_FAILED', amountMsat, paymentHash });
        throw new GatewayError('PAYMENT_FAILED', 'The wallet could not pay the invoice; nothing was spent.', { cause: error, data: { origin, paymentHash } });
      }
      emit({ outcome: 'unknown', origin, code: 'PAYMENT_OUTCOME_UNKNOWN', amountMsat, paymentHash });
      const pending: PendingPayment = { id: pendingId, url: url.href, paymentHash, amountMsat };
      throw new GatewayError('PAYMENT_OUTCOME_UNKNOWN', 'The wallet did not confirm the payment; the budget stays reserved. Call pay.resume(pending) once the outcome is known.', {
        cause: error,
        data: { origin, pending },
      });
    } finally {
      clearTimeout(timer);
    }
    const credential = credentialFrom({ ...offer, challengeParams: offer.payment?.params }, preimage, origin);
    // Audit first: the money moved and the proof checks out; nothing after this may lose the record.
    emit({ outcome: 'paid', origin, amountMsat, feeMsat: feesPaidMsat, paymentHash });
    recordedPaid.add(paymentHash);
    flights.remember(paymentHash, credential.preimage);
    await keep(url, origin, credential, { pendingId, paymentHash, amountMsat, feeMsat: feesPaidMsat });
    return credential;
  }

  /** After a payment: settle the budget, keep the credential, drop the pending record; a failure here keeps the pending id. */
  async function keep(url: URL, origin: string, credential: L402Credential, paid: { pendingId: string; paymentHash: string; amountMsat: number; feeMsat: number }): Promise<void> {
    const { pendingId, paymentHash, amountMsat } = paid;
    try {
      await reservations.get(paymentHash)?.settle(paid.feeMsat);
      reservations.delete(paymentHash);
      await cache.save(url, credential);
      await options.store?.delete(pendingId);
      pendingRecords.delete(pendingId);
      recordedPaid.delete(paymentHash);
    } catch (error) {
      const pending: PendingPayment = { id: pendingId, url: url.href, paymentHash, amountMsat };
      throw withCredential(
        new GatewayError('TOOL_FAILED', `Paid ${formatSats(amountMsat)} to ${origin}, but keeping the credential failed; the payment is recorded. pay.resume(pending) presents it without paying again; the credential is on the error's "credential" property.`, {
          cause: error,
          data: { origin, paymentHash, amountMsat, pending },
        }),
        credential,
      );
    }
  }

  /** The credential that `preimage` proves paid for; a wrong preimage is recorded and refused. */
  function credentialFrom(offer: ProofOffer, preimage: string, origin: string): L402Credential {
    const credential = provenCredential(offer, preimage);
    if (credential !== undefined) return credential;
    emit({ outcome: 'failed', origin, code: 'PREIMAGE_MISMATCH', paymentHash: offer.invoice.paymentHash });
    throw new GatewayError('PREIMAGE_MISMATCH', 'The wallet returned a preimage that does not match the payment hash; nothing was cached or sent, and the budget stays spent.', {
      data: { origin, paymentHash: offer.invoice.paymentHash },
    });
  }

  /**
   * Sends the request with the credential, once, never retried. A 402 again: a credential paid
   * for now is PAID_BUT_REJECTED; one found in the cache is evicted and `undefined` returned (pay).
   * For the request that paid (`payer`), a failure (4xx/5xx) is an UPSTREAM_ERROR saying what was paid.
   */
  async function present(url: URL, origin: string, init: GuardedRequestInit, bought: Bought, payer: boolean): Promise<Response | undefined> {
    const { credential } = bought;
    const response = await options.fetch(url, { ...init, headers: withAuthorization(init, credential), retries: 0 });
    if (response.status === 402) {
      await drain(response);
      await cache.evictCredential(url, credential);
      if (!bought.paid) return undefined;
      if (!payer) {
        // Paid by the request this one joined: that request records the rejection, once.
        throw withCredential(
          new GatewayError('PAID_BUT_REJECTED', `${origin} answered 402 again to a credential another request just paid for; not paying again. The credential is on the error's "credential" property.`, {
            data: { origin, paymentHash: credential.paymentHash },
          }),
          credential,
        );
      }
      emit({ outcome: 'rejected-after-payment', origin, code: 'PAID_BUT_REJECTED', paymentHash: credential.paymentHash });
      throw withCredential(
        new GatewayError('PAID_BUT_REJECTED', `${origin} answered 402 again to a paid credential (${formatSats(bought.amountMsat)} paid); not paying again. The credential is on the error's "credential" property.`, {
          data: { origin, paymentHash: credential.paymentHash, paidMsat: bought.amountMsat },
        }),
        credential,
      );
    }
    if (payer && bought.paid && response.status >= 400) {
      const error = withCredential(
        new GatewayError('UPSTREAM_ERROR', `Paid ${formatSats(bought.amountMsat)} to ${origin}, then it answered ${response.status}. The credential is kept (and on the error's "credential" property): a retry does not pay again.`, {
          data: { origin, status: response.status, paymentHash: credential.paymentHash, paidMsat: bought.amountMsat },
        }),
        credential,
      );
      Object.defineProperty(error, 'response', { value: response, enumerable: false });
      throw error;
    }
    return response;
  }

  const cashuPayer = options.cashu === undefined ? undefined : createCashuPayer({ fetch: options.fetch, wallet: options.cashu, gate, maxFeeSats: maxFeeMsat / MSAT_PER_SAT, emit });

  /**
   * The NUT-24 offer to pay instead of the Lightning challenge, if any: when the 402 has only an
   * `X-Cashu` request, or both and the order for this origin puts Cashu first (always, without
   * a Lightning wallet: melting costs a routing fee that NUT-24 does not) and an accepted mint
   * holds enough. An unreadable `X-Cashu` next to a Lightning challenge is ignored; alone, it
   * is a refusal.
   */
  async function ecashOffer(response: Response, origin: string, lightningRefused = false): Promise<CashuOffer | undefined> {
    const header = response.headers.get('x-cashu');
    if (header === null || cashuPayer === undefined) return undefined;
    const alone = response.headers.get('www-authenticate') === null;
    const order = options.wallet === undefined || lightningRefused ? 'cashu-first' : (orderByOrigin.get(origin) ?? options.walletOrder ?? 'lightning-first');
    if (!alone && order !== 'cashu-first') return undefined;
    // Loaded on first use: hosts without ecash never load the Cashu library.
    const { readCashuOffer } = await import('./cashu-request.js');
    let offer: CashuOffer;
    try {
      offer = readCashuOffer(header, origin);
    } catch (error) {
      if (!alone) return undefined;
      if (isGatewayError(error)) emit({ outcome: 'refused', origin, code: error.code, method: 'cashu' });
      throw error;
    }
    return alone || lightningRefused || (await cashuPayer.mintFor(offer)) !== undefined ? offer : undefined;
  }

  async function fetchPaying(url: URL, origin: string, init: GuardedRequestInit, callOptions: PayFetchOptions): Promise<Response> {
    throwIfAborted(init.signal, 'before the request');
    const cached = await cache.find(url, { origin });
    if (cached !== undefined) {
      const response = await options.fetch(url, { ...init, headers: withAuthorization(init, cached.credential) });
      if (response.status !== 402) {
        emit({ outcome: 'reused', origin, paymentHash: cached.credential.paymentHash });
        return response;
      }
      // Not accepted here (expired, or bought for another endpoint): forget it here only, then pay.
      await drain(response);
      await cache.evictCredential(url, cached.credential);
      return payAndPresent(url, origin, init, callOptions, response);
    }
    const response = await options.fetch(url, init);
    if (response.status !== 402) return response;
    return payAndPresent(url, origin, init, callOptions, response);
  }

  return {
    cashu: options.cashu,
    async fetch(input, init = {}, callOptions = {}) {
      const url = new URL(String(input));
      try {
        return await fetchPaying(url, canonicalOrigin(url), init, callOptions);
      } catch (error) {
        throw explainAbort(error, init.signal);
      }
    },

    async resume(pendingOrId, preimage, init = {}) {
      const id = typeof pendingOrId === 'string' ? pendingOrId : pendingOrId.id;
      const record = pendingRecords.get(id) ?? (await options.store?.get(id));
      if (record === undefined) throw new GatewayError('VALIDATION_FAILED', 'No pending payment with that id (in this process, or in the credential store).');
      const url = new URL(String(record.url));
      const origin = canonicalOrigin(url);
      const paymentHash = String(record.paymentHash);
      let proof = preimage;
      if (proof === undefined && lightning.lookupPayment !== undefined) {
        proof = (await lightning.lookupPayment(paymentHash, { signal: AbortSignal.timeout(paymentTimeoutMs) }))?.preimage;
      }
      if (proof === undefined) {
        throw new GatewayError('PAYMENT_OUTCOME_UNKNOWN', 'The outcome of the payment is still unknown; the budget stays reserved.', { data: { origin, pending: { id, paymentHash } } });
      }
      const scheme = record.scheme === 'LSAT' || record.scheme === 'Payment' ? record.scheme : 'L402';
      const challengeParams = typeof record.challenge === 'string' ? (JSON.parse(record.challenge) as Record<string, string>) : undefined;
      const credential = credentialFrom({ scheme, token: String(record.token), invoice: { paymentHash }, challengeParams }, proof, origin);
      flights.remember(paymentHash, credential.preimage);
      const amountMsat = typeof record.amountMsat === 'number' ? record.amountMsat : 0;
      // The outcome is known now: paid (the routing fee is not known, the whole reserve counts).
      if (!recordedPaid.has(paymentHash)) emit({ outcome: 'paid', origin, amountMsat, feeMsat: maxFeeMsat, paymentHash });
      await keep(url, origin, credential, { pendingId: id, paymentHash, amountMsat, feeMsat: maxFeeMsat });
      try {
        const response = await present(url, origin, init, { credential, paid: true, amountMsat }, true);
        return response ?? Promise.reject(new Error('unreachable: a paid credential never asks to pay again'));
      } catch (error) {
        throw explainAbort(error, init.signal);
      }
    },
  };

  /** A challenge `beforePay` refused: reported as an event, then thrown as it came. */
  function refusedByPolicy(refusal: Error | undefined, origin: string, amountMsat: number | undefined, method: 'lightning' | 'cashu'): Error {
    emit({ outcome: 'refused', origin, code: isGatewayError(refusal) ? refusal.code : 'POLICY_DENIED', ...(amountMsat === undefined ? {} : { amountMsat }), method });
    return refusal ?? new GatewayError('POLICY_DENIED', 'The payment was refused by the call\'s own check.', { data: { origin } });
  }

  /**
   * Pays the 402's offer (or shares a payment under way for the same endpoint) and presents the
   * credential. A credential found rather than paid for that gets a 402 is evicted, and then
   * this request pays, once.
   */
  async function payAndPresent(url: URL, origin: string, init: GuardedRequestInit, callOptions: PayFetchOptions, response: Response): Promise<Response> {
    await drain(response);
    // A 402 that appears only after a redirect to another origin is not this origin's to ask.
    const answeredBy = response.url === '' ? origin : canonicalOrigin(response.url);
    if (answeredBy !== origin) {
      throw refuse('INVALID_CHALLENGE', `A redirect to ${answeredBy} answered 402; not paying another origin than the one asked.`, origin);
    }
    // The call's `beforePay` decides each challenge before anything is reserved; with both on
    // offer, a method it refuses is skipped for the other (the wallet order applies otherwise).
    const hasChallenge = response.headers.get('www-authenticate') !== null;
    const ecash = await ecashOffer(response, origin);
    if (ecash !== undefined && cashuPayer !== undefined) {
      const refusal = await policyRefusal(callOptions, ecashChallenge(ecash, origin));
      if (refusal === undefined) return cashuPayer.pay(url, origin, init, ecash, callOptions);
      if (!hasChallenge) throw refusedByPolicy(refusal, origin, ecash.amountSat * MSAT_PER_SAT, 'cashu');
    }
    const read = await acceptableOffer(response, origin, callOptions, ecash === undefined && response.headers.get('x-cashu') !== null && cashuPayer !== undefined);
    if ('refusal' in read) {
      const other = await ecashOffer(response, origin, true).catch(() => undefined);
      const refusal = other === undefined ? read.refusal : await policyRefusal(callOptions, ecashChallenge(other, origin));
      if (other === undefined || refusal !== undefined || cashuPayer === undefined) throw refusedByPolicy(refusal, origin, undefined, other === undefined ? 'lightning' : 'cashu');
      return cashuPayer.pay(url, origin, init, other, callOptions);
    }
    const offer = read;
    const signal = init.signal ?? undefined;
    const { endpoint } = scopeOf(url, origin);
    for (let round = 0; ; round++) {
      const mayReuse = round === 0;
      // Single flight per endpoint: concurrent requests to one unpaid endpoint share one payment.
      // Not for `Payment`: its credential is single use, so each request pays for itself.
      const shared = offer.scheme !== 'Payment';
      let flight = shared ? inFlight.get(endpoint) : undefined;
      const joined = flight !== undefined;
      if (flight === undefined) {
        // Inside the flight only a credential bought for this very endpoint is taken (another
        // request's payment may have finished meanwhile); with a shared store the endpoint is
        // locked across processes, and the store asked afresh once the lock is held.
        const store = options.store;
        const once = async (): Promise<Bought> => {
          const found = mayReuse ? await cache.find(url, { exactOnly: true, fresh: store?.withLock !== undefined }) : undefined;
          if (found !== undefined) return { credential: found.credential, paid: false, amountMsat: 0 };
          const got = await credentialFor(offer, url, origin, signal, callOptions);
          return { ...got, amountMsat: got.paid ? (offer.invoice.amountMsat ?? 0) : 0 };
        };
        const started: Promise<Bought> = (store?.withLock === undefined ? once() : store.withLock(`l402:${endpoint}`, once)).finally(() => {
          if (inFlight.get(endpoint) === started) inFlight.delete(endpoint);
        });
        started.catch(() => undefined);
        if (shared) inFlight.set(endpoint, started);
        flight = started;
      }
      let bought: Bought;
      try {
        bought = await raceAbort(flight, signal, 'while the payment was under way (its outcome is recorded and a paid credential kept)');
      } catch (error) {
        // Another request's abort stopped the shared payment before the wallet: pay for this one.
        const othersAbort = joined && isGatewayError(error) && (error.code === 'ABORTED' || error.code === 'TIMEOUT') && signal?.aborted !== true;
        if (othersAbort && round === 0) continue;
        throw error;
      }
      throwIfAborted(signal, 'after the payment, before the paid request (the credential is kept)');
      // Only the request that started the flight reports a payment made.
      const presented = await present(url, origin, init, bought, !joined);
      if (presented !== undefined) return presented;
      if (round > 0) throw new GatewayError('PAID_BUT_REJECTED', `${origin} refused every credential offered; not paying again.`, { data: { origin } });
    }
  }
}
