/**
 * Payments: the spend tracker, HTTP 402 challenge parsing, BOLT11 decoding, the L402 payer and
 * the wallets (NWC, Cashu ecash, a person).
 *
 * @packageDocumentation
 */
export {
  createSpendTracker,
  isSpendRefusal,
  MSAT_PER_SAT,
  type LedgerReservation,
  type Reservation,
  type SpendRefusal,
  type SpendLedger,
  type SpendRequest,
  type SpendTracker,
  type SpendTrackerOptions,
} from './spend-tracker.js';
export { parseChallenges, type Challenge } from './challenges.js';
export { decodeInvoice, type Invoice, type Network } from './bolt11.js';
export {
  createL402Payer,
  type ApprovalContext,
  type ApprovalRequest,
  type ApproveFn,
  type ChallengeFacts,
  type L402Payer,
  type L402PayerOptions,
  type PayFetchOptions,
  type PaymentEvent,
  type PendingPayment,
  type WalletOrder,
} from './l402-payer.js';
export type { PayInvoiceRequest, PayInvoiceResult, Wallet } from './wallet.js';
export { authorization, type L402Credential } from './credentials.js';
export { readMacaroon, type MacaroonInfo } from './macaroon.js';
export { nwcWallet, type NwcWalletOptions } from './wallets/nwc.js';
export { cashuWallet, type CashuBalance, type CashuWallet, type CashuWalletOptions, type OutgoingToken, type ReconcileReport, type SendOptions, type TokenImport } from './wallets/cashu/wallet.js';
export { readCashuOffer, type CashuOffer } from './cashu-request.js';
export { humanWallet, renderApproval, type ApprovalView, type HumanWalletOptions } from './approval.js';
export type { BalanceWallet, CredentialSummary, PayBalanceResult, PayCredentialsResult, PayInvoiceToolResult, PayPreviewResult, PendingSummary } from './tools/index.js';
