import type { GuardedFetch, GuardedRequestInit } from '../net/fetch.js';
import type { CredentialBackend } from '../store/credential-store.js';
import type { Network } from './bolt11.js';
import type { SpendLedger } from './spend-tracker.js';
import type { Wallet } from './wallet.js';
import type { CashuWallet } from './wallets/cashu/wallet.js';

/**
 * What a person sees when asked to approve a payment (see `renderApproval`). Every text the
 * server chose (`description`) has had its control, bidi and line-separator characters escaped
 * and its length capped before it gets here.
 */
export interface ApprovalRequest {
  /** How it would be paid: a Lightning invoice, or Cashu ecash (NUT-24). @default 'lightning' */
  method?: 'lightning' | 'cashu' | undefined;
  amountMsat: number;
  /** Routing fee reserved on top, in msat. */
  feeReserveMsat: number;
  /** The canonical origin (lower case, no trailing dot, no default port). */
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

/** What `approve` is told besides the request: the call's signal, aborted when the caller goes. */
export interface ApprovalContext {
  signal: AbortSignal;
}

/** Asks a person; resolves `true` to pay. */
export type ApproveFn = (request: ApprovalRequest, context: ApprovalContext) => Promise<boolean>;

/** Options of `createL402Payer`. */
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
  /** `walletOrder` per origin (`https://api.example.com`; normalised, a path is `CONFIG_INVALID`). */
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
  approve?: ApproveFn | undefined;
  /** Origins (`https://api.example.com`) whose every payment waits for `approve`, whatever the amount; normalised, a path is `CONFIG_INVALID`. */
  alwaysAskOrigins?: readonly string[] | undefined;
  /** How long an approval may take, in ms; never longer than the call's own deadline (its signal). @default 25000 */
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
  /** The canonical origin. */
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
  /** Longest wait for a person's approval in this call, in ms (the lower of this and the payer's applies). */
  approvalTimeoutMs?: number | undefined;
  /**
   * Decides the challenge about to be paid, before anything is reserved or paid (the host's own
   * rules; `pay.fetch` passes its argument rules). A throw refuses it: nothing is paid. When the
   * 402 offers both Lightning and Cashu, a method it refuses is skipped for the other.
   */
  beforePay?: ((challenge: ChallengeFacts) => void | Promise<void>) | undefined;
}

/** What a 402 asks, as `beforePay` sees it. */
export interface ChallengeFacts {
  /** The challenge answered: `L402`, `LSAT`, `Payment` (IETF, lightning), or `cashu` (NUT-24). */
  scheme: 'L402' | 'LSAT' | 'Payment' | 'cashu';
  /** How it would be paid. */
  method: 'lightning' | 'cashu';
  /** The invoice's (or ecash request's) amount, in sats, rounded up. */
  amountSats: number;
  /** The canonical origin that asks. */
  origin: string;
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
  /**
   * Finishes a payment that ended `PAYMENT_OUTCOME_UNKNOWN` (or paid but could not be stored),
   * with the preimage or by asking the wallet. Pending records live in the credential store,
   * and in memory for the life of the payer.
   */
  resume(pending: PendingPayment | string, preimage?: string, init?: GuardedRequestInit): Promise<Response>;
}
