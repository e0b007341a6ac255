import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { Headers } from 'undici';
import { GatewayError, isGatewayError } from '../errors.js';
import type { GuardedFetch, GuardedRequestInit } from '../net/fetch.js';
import type { CredentialBackend } from '../store/credential-store.js';
import { normalisePreimage } from '../store/validate.js';
import type { Invoice, Network } from './bolt11.js';
import { authorization, CredentialCache, scopeOf, type L402Credential } from './credentials.js';
import { readMacaroon } from './macaroon.js';
import { checkOffer, readOffer, type Offer } from './offers.js';
import { paymentAuthorization } from './payment-scheme.js';
import { budgetGate, type BudgetGate } from './budget-gate.js';
import { MSAT_PER_SAT, type LedgerReservation, type SpendLedger } from './spend-tracker.js';
import type { Wallet } from './wallet.js';
import type { CashuWallet } from './wallets/cashu/wallet.js';
import { createCashuPayer } from './cashu-payer.js';
import type { CashuOffer } from './cashu-request.js';

const NO_WALLET: Wallet = {
  payInvoice: () => Promise.reject(new GatewayError('PAYMENT_FAILED', 'No wallet is configured: pass one to createGateway(config, { wallet }) or { cashu }.')),
};

/** What a person sees when asked to approve a payment (see `renderApproval`). */
export interface ApprovalRequest {
  /** How it would be paid: a Lightning invoice, or Cashu ecash (NUT-24). @default 'lightning' */
  method?: 'lightning' | 'cashu' | undefined;
  amountMsat: number;
  /** Routing fee reserved on top, in msat. */
  feeReserveMsat: number;
  origin: string;
  description: string | undefined;
  actor: string | undefined;
  /** The BOLT11 invoice that would be paid; for Cashu, the NUT-18 payment request (`creqA…`). */
  invoice: string;
  /** For Cashu: the mint the ecash would come from. */
  mint?: string | undefined;
  /** Why a person is asked: over `maxAutoPaySats`, or an origin marked "always ask". */
  reason: 'over-auto-pay-cap' | 'always-ask';
}

/** Options of {@link createL402Payer}. */
export interface L402PayerOptions {
  fetch: GuardedFetch;
  /** The budget: `gw.spend`, or a shared ledger. */
  spend: SpendLedger;
  /** The Lightning wallet. Without one, invoices are paid from `cashu` (melt) when it is set. */
  wallet?: Wallet | undefined;
  /** The Cashu wallet: pays NUT-24 (`X-Cashu`) offers, and melts for invoices when there is no Lightning wallet. */
  cashu?: CashuWallet | undefined;
  /**
   * Which to use when a 402 offers both a Lightning challenge and an `X-Cashu` request.
   * Without a Lightning wallet, NUT-24 always comes before melting. @default 'lightning-first'
   */
  walletOrder?: WalletOrder | undefined;
  /** `walletOrder` per origin (`https://api.example.com`). */
  walletOrderByOrigin?: Readonly<Record<string, WalletOrder>> | undefined;
  /** Paid credentials and pending payments survive restarts here. @default memory only */
  store?: CredentialBackend | undefined;
  /** The network invoices must be for. @default 'bitcoin' */
  network?: Network | undefined;
  /** Routing fee reserved per payment, in sats. @default 10 */
  maxFeeSats?: number | undefined;
  /** An invoice expiring sooner than this is refused, in ms. @default 30000 */
  expiryMarginMs?: number | undefined;
  /** How long the wallet may take before the outcome counts as unknown, in ms. @default 60000 */
  paymentTimeoutMs?: number | undefined;
  /** Asks a person about a payment above `maxAutoPaySats`; without it such payments are refused. */
  approve?: ((request: ApprovalRequest) => Promise<boolean>) | undefined;
  /** Origins (`https://api.example.com`) whose every payment waits for `approve`, whatever the amount. */
  alwaysAskOrigins?: readonly string[] | undefined;
  /** How long an approval may take, in ms. @default 120000 */
  approvalTimeoutMs?: number | undefined;
  /** Told about every payment, refusal and failure: amounts, fee, payment hash, origin; never a secret. */
  onEvent?: ((event: PaymentEvent) => void) | undefined;
  now?: (() => number) | undefined;
}

/** Which wallet pays first when a 402 offers a choice. */
export type WalletOrder = 'lightning-first' | 'cashu-first';

/** One audited payment event. */
export interface PaymentEvent {
  outcome: 'paid' | 'reused' | 'refused' | 'failed' | 'unknown' | 'rejected-after-payment';
  origin: string;
  code?: string | undefined;
  amountMsat?: number | undefined;
  feeMsat?: number | undefined;
  paymentHash?: string | undefined;
  /** How it was (or would be) paid. @default 'lightning' */
  method?: 'lightning' | 'cashu' | undefined;
  /** For Cashu: the mint. */
  mint?: string | undefined;
}

/** Per-call options of `pay.fetch`. */
export interface PayFetchOptions {
  /** Refuse invoices above this, in sats (`AMOUNT_EXCEEDS_CAP`). */
  maxAmountSats?: number | undefined;
  actor?: string | undefined;
}

/** A payment whose outcome is not known; `resume` finishes the request without paying again. */
export interface PendingPayment {
  id: string;
  url: string;
  paymentHash: string;
  amountMsat: number;
}

/** The L402 payer (`gw.pay`). */
export interface L402Payer {
  /**
   * Fetches `input`; on a 402 with an L402 (or LSAT) challenge, pays within the budgets and
   * retries once with the credential.
   */
  fetch(input: string | URL, init?: GuardedRequestInit, options?: PayFetchOptions): Promise<Response>;
  /** The Cashu wallet, when one is configured: `receive(token)`, `balance()`, `send(amountSat)`, `reconcile()`. */
  readonly cashu: CashuWallet | undefined;
  /** Finishes a payment that ended `PAYMENT_OUTCOME_UNKNOWN`, with the preimage or by asking the wallet. */
  resume(pending: PendingPayment | string, preimage?: string, init?: GuardedRequestInit): Promise<Response>;
}

/** A GatewayError that also carries the paid credential (never in its message or JSON). */
function withCredential(error: GatewayError, credential: L402Credential): GatewayError {
  Object.defineProperty(error, 'credential', { value: credential, enumerable: false });
  return error;
}

/**
 * Creates the L402 payer. Before paying it refuses, each with its own code: an amount over the
 * caller's cap, an amountless, expired or wrong-network invoice, a token that commits to
 * another payment hash, a budget overrun, a challenge reached through a redirect to another
 * origin. It writes a pending record before paying, checks the preimage against the payment
 * hash, never pays twice for one scope at a time (single flight), and never loops on a 402.
 */
export function createL402Payer(options: L402PayerOptions): L402Payer {
  const now = options.now ?? Date.now;
  const network = options.network ?? 'bitcoin';
  const maxFeeMsat = (options.maxFeeSats ?? 10) * MSAT_PER_SAT;
  const expiryMarginMs = options.expiryMarginMs ?? 30_000;
  const paymentTimeoutMs = options.paymentTimeoutMs ?? 60_000;
  const cache = new CredentialCache(options.store, now);
  const inFlight = new Map<string, Promise<L402Credential>>();
  const reservations = new Map<string, LedgerReservation>();
  const emit = (event: PaymentEvent): void => options.onEvent?.(event);
  // Invoices are paid by the Lightning wallet, else melted from ecash.
  const lightning: Wallet = options.wallet ?? options.cashu ?? NO_WALLET;

  const gate = budgetGate({ spend: options.spend, approve: options.approve, alwaysAskOrigins: options.alwaysAskOrigins, approvalTimeoutMs: options.approvalTimeoutMs, emit });
  const refuse = (...args: Parameters<BudgetGate['refuse']>): GatewayError => gate.refuse(...args);

  /** Reads and checks the 402's offer; any refusal is reported as an event, then thrown. */
  function acceptableOffer(response: Response, origin: string, callOptions: PayFetchOptions): Offer {
    try {
      const offer = readOffer(response.headers.get('www-authenticate'), origin);
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

  const reserve = (offer: Offer, origin: string, actor: string | undefined): Promise<LedgerReservation> =>
    gate.reserve({
      method: 'lightning',
      amountMsat: offer.invoice.amountMsat ?? 0,
      feeReserveMsat: maxFeeMsat,
      origin,
      description: offer.invoice.description,
      actor,
      invoice: offer.bolt11,
    });

  /** Pays one offer: pending record first, then the wallet, then the preimage check. */
  async function pay(offer: Offer, url: URL, callOptions: PayFetchOptions): Promise<L402Credential> {
    const origin = url.origin;
    const reservation = await reserve(offer, origin, callOptions.actor);
    const { paymentHash } = offer.invoice;
    const pendingId = `pending:${paymentHash}`;
    await options.store?.put(pendingId, {
      url: url.href,
      token: offer.token,
      scheme: offer.scheme,
      challenge: offer.payment === undefined ? null : JSON.stringify(offer.payment.params),
      invoice: offer.bolt11,
      paymentHash,
      amountMsat: offer.invoice.amountMsat ?? 0,
    });
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
        reservations.delete(paymentHash);
        await options.store?.delete(pendingId);
        emit({ outcome: 'failed', origin, code: 'PAYMENT_FAILED', amountMsat: offer.invoice.amountMsat, paymentHash });
        throw new GatewayError('PAYMENT_FAILED', 'The wallet could not pay the invoice; nothing was spent.', { cause: error, data: { origin, paymentHash } });
      }
      emit({ outcome: 'unknown', origin, code: 'PAYMENT_OUTCOME_UNKNOWN', amountMsat: offer.invoice.amountMsat, paymentHash });
      const pending: PendingPayment = { id: pendingId, url: url.href, paymentHash, amountMsat: offer.invoice.amountMsat ?? 0 };
      throw new GatewayError('PAYMENT_OUTCOME_UNKNOWN', 'The wallet did not confirm the payment; the budget stays reserved. Call pay.resume(pending) once the outcome is known.', {
        cause: error,
        data: { origin, pending },
      });
    } finally {
      clearTimeout(timer);
    }
    await reservation.settle(feesPaidMsat);
    reservations.delete(paymentHash);
    const credential = await credentialFrom({ ...offer, challengeParams: offer.payment?.params }, preimage, origin);
    await cache.save(url, credential);
    await options.store?.delete(pendingId);
    emit({ outcome: 'paid', origin, amountMsat: offer.invoice.amountMsat, feeMsat: feesPaidMsat, paymentHash });
    return credential;
  }

  async function credentialFrom(
    offer: Pick<Offer, 'scheme' | 'token'> & { invoice: Pick<Invoice, 'paymentHash'>; challengeParams?: Readonly<Record<string, string>> | undefined },
    preimage: string,
    origin: string,
  ): Promise<L402Credential> {
    let normal: string;
    try {
      normal = normalisePreimage(preimage);
    } catch {
      normal = '';
    }
    if (normal === '' || bytesToHex(sha256(hexToBytes(normal))) !== offer.invoice.paymentHash) {
      emit({ outcome: 'failed', origin, code: 'PREIMAGE_MISMATCH', paymentHash: offer.invoice.paymentHash });
      throw new GatewayError('PREIMAGE_MISMATCH', 'The wallet returned a preimage that does not match the payment hash; nothing was cached or sent, and the budget stays spent.', {
        data: { origin, paymentHash: offer.invoice.paymentHash },
      });
    }
    const header = offer.scheme === 'Payment' && offer.challengeParams !== undefined ? paymentAuthorization(offer.challengeParams, normal) : undefined;
    return Promise.resolve({
      scheme: offer.scheme,
      token: offer.token,
      header,
      preimage: normal,
      paymentHash: offer.invoice.paymentHash,
      expiresAtMs: offer.scheme === 'Payment' ? undefined : readMacaroon(offer.token)?.expiresAtMs,
    });
  }

  /** Sends the request with the credential, once, never retried; a 402 again is PAID_BUT_REJECTED. */
  async function present(url: URL, init: GuardedRequestInit, credential: L402Credential): Promise<Response> {
    const response = await options.fetch(url, { ...init, headers: withAuthorization(init, credential), retries: 0 });
    if (response.status !== 402) return response;
    await drain(response);
    await cache.evictCredential(url, credential);
    emit({ outcome: 'rejected-after-payment', origin: url.origin, code: 'PAID_BUT_REJECTED', paymentHash: credential.paymentHash });
    throw withCredential(
      new GatewayError('PAID_BUT_REJECTED', `${url.origin} answered 402 again to a paid credential; not paying again. The credential is on the error's "credential" property.`, {
        data: { origin: url.origin, paymentHash: credential.paymentHash },
      }),
      credential,
    );
  }

  const cashuPayer = options.cashu === undefined ? undefined : createCashuPayer({ fetch: options.fetch, wallet: options.cashu, gate, maxFeeSats: maxFeeMsat / MSAT_PER_SAT, emit });

  /**
   * The NUT-24 offer to pay instead of the Lightning challenge, if any: when the 402 has only an
   * `X-Cashu` request, or both and the order for this origin puts Cashu first (always, without
   * a Lightning wallet: melting costs a routing fee that NUT-24 does not) and an accepted mint
   * holds enough. An unreadable `X-Cashu` next to a Lightning challenge is ignored; alone, it
   * is a refusal.
   */
  async function ecashOffer(response: Response, origin: string): Promise<CashuOffer | undefined> {
    const header = response.headers.get('x-cashu');
    if (header === null || cashuPayer === undefined) return undefined;
    const alone = response.headers.get('www-authenticate') === null;
    const order = options.wallet === undefined ? 'cashu-first' : (options.walletOrderByOrigin?.[origin] ?? options.walletOrder ?? 'lightning-first');
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
    return alone || (await cashuPayer.mintFor(offer)) !== undefined ? offer : undefined;
  }

  return {
    cashu: options.cashu,
    async fetch(input, init = {}, callOptions = {}) {
      const url = new URL(String(input));
      const cached = await cache.find(url);
      if (cached !== undefined) {
        const response = await options.fetch(url, { ...init, headers: withAuthorization(init, cached.credential) });
        if (response.status !== 402) {
          emit({ outcome: 'reused', origin: url.origin, paymentHash: cached.credential.paymentHash });
          return response;
        }
        // This credential is no longer accepted here: forget it (and only it), then pay the new challenge.
        await drain(response);
        await cache.evictCredential(url, cached.credential);
        return payAndPresent(url, init, callOptions, response);
      }
      const response = await options.fetch(url, init);
      if (response.status !== 402) return response;
      return payAndPresent(url, init, callOptions, response);
    },

    async resume(pendingOrId, preimage, init = {}) {
      const id = typeof pendingOrId === 'string' ? pendingOrId : pendingOrId.id;
      const record = await options.store?.get(id);
      if (record === undefined) throw new GatewayError('VALIDATION_FAILED', 'No pending payment with that id (pending records need a credential store).');
      const url = new URL(String(record.url));
      const paymentHash = String(record.paymentHash);
      let proof = preimage;
      if (proof === undefined && lightning.lookupPayment !== undefined) {
        proof = (await lightning.lookupPayment(paymentHash, { signal: AbortSignal.timeout(paymentTimeoutMs) }))?.preimage;
      }
      if (proof === undefined) {
        throw new GatewayError('PAYMENT_OUTCOME_UNKNOWN', 'The outcome of the payment is still unknown; the budget stays reserved.', { data: { origin: url.origin, pending: { id, paymentHash } } });
      }
      const scheme = record.scheme === 'LSAT' || record.scheme === 'Payment' ? record.scheme : 'L402';
      const challengeParams = typeof record.challenge === 'string' ? (JSON.parse(record.challenge) as Record<string, string>) : undefined;
      const credential = await credentialFrom({ scheme, token: String(record.token), invoice: { paymentHash }, challengeParams }, proof, url.origin);
      await reservations.get(paymentHash)?.settle(maxFeeMsat);
      reservations.delete(paymentHash);
      await cache.save(url, credential);
      await options.store?.delete(id);
      return present(url, init, credential);
    },
  };

  async function payAndPresent(url: URL, init: GuardedRequestInit, callOptions: PayFetchOptions, response: Response): Promise<Response> {
    await drain(response);
    // A 402 that appears only after a redirect to another origin is not this origin's to ask.
    if (new URL(response.url || url.href).origin !== url.origin) {
      throw refuse('INVALID_CHALLENGE', `A redirect to ${new URL(response.url).origin} answered 402; not paying another origin than the one asked.`, url.origin);
    }
    const ecash = await ecashOffer(response, url.origin);
    if (ecash !== undefined && cashuPayer !== undefined) return cashuPayer.pay(url, init, ecash, callOptions);
    const offer = acceptableOffer(response, url.origin, callOptions);
    const { scope } = scopeOf(url);
    // Single flight: concurrent requests to one unpaid scope share one payment.
    let paying = inFlight.get(scope);
    if (paying === undefined) {
      // A request that got its 402 before another one's payment finished finds that credential
      // here. With a shared store, the scope is locked across processes too, and the store is
      // asked afresh once the lock is held: another process may have paid meanwhile.
      const once = async (): Promise<L402Credential> => (await cache.find(url, options.store?.withLock !== undefined))?.credential ?? pay(offer, url, callOptions);
      const store = options.store;
      paying = (store?.withLock === undefined ? once() : store.withLock(`l402:${scope}`, once)).finally(() => inFlight.delete(scope));
      inFlight.set(scope, paying);
    }
    const credential = await paying;
    return present(url, init, credential);
  }
}

/** Reads and drops a 402's (small) body, so its connection can be reused. */
async function drain(response: Response): Promise<void> {
  await response.arrayBuffer().catch(() => undefined);
}

/** The request's headers as a plain record, with the credential's Authorization. */
function withAuthorization(init: GuardedRequestInit, credential: L402Credential): Record<string, string> {
  const headers = new Headers(init.headers);
  headers.set('authorization', authorization(credential));
  return Object.fromEntries(headers);
}
