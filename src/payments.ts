import type { AuditDecision, AuditRecord } from './audit/record.js';
import type { ResolvedConfig } from './config.js';
import type { GuardedFetch } from './net/fetch.js';
import { createL402Payer, type ApprovalContext, type ApprovalRequest, type L402Payer, type PaymentEvent } from './pay/l402-payer.js';
import type { MeteredSpendLedger } from './pay/spend-tracker.js';
import { payFetchTool } from './pay/tool.js';
import { credentialIndex, payTools } from './pay/tools/index.js';
import type { Wallet } from './pay/wallet.js';
import type { CashuWallet } from './pay/wallets/cashu/wallet.js';
import { createCredentialStore, type CredentialBackend } from './store/credential-store.js';
import type { KeyProvider } from './store/keys.js';
import type { ToolDefinition } from './tools.js';

/** What the payments part takes from `GatewayDeps`. */
export interface PaymentDeps {
  wallet?: Wallet | undefined;
  cashu?: CashuWallet | undefined;
  approve?: ((request: ApprovalRequest, context: ApprovalContext) => Promise<boolean>) | undefined;
  keyProvider?: KeyProvider | undefined;
}

/**
 * `gw.spend`: the in-memory tracker, or the shared PostgreSQL ledger with `sharedState`.
 * Await its answers, which are promises in the shared case:
 * `await gw.spend.spentLastMinuteMsat()` works for both.
 */
export type GatewaySpend = MeteredSpendLedger;

const OUTCOME_DECISION: Readonly<Record<PaymentEvent['outcome'], AuditDecision>> = {
  paid: 'allow',
  reused: 'allow',
  refused: 'deny',
  failed: 'error',
  unknown: 'error',
  'rejected-after-payment': 'error',
};

/** An audit record of a payment event: amounts, fee, hash and origin; never a preimage or token. */
export function paymentRecord(event: PaymentEvent, timestampMs: number): AuditRecord {
  const details: Record<string, string | number | null> = { outcome: event.outcome, origin: event.origin };
  if (event.amountMsat !== undefined) details.amount_msat = event.amountMsat;
  if (event.feeMsat !== undefined) details.fee_msat = event.feeMsat;
  if (event.paymentHash !== undefined) details.payment_hash = event.paymentHash;
  details.method = event.method ?? 'lightning';
  if (event.mint !== undefined) details.mint = event.mint;
  return {
    timestamp: new Date(timestampMs).toISOString(),
    request_id: `pay-${timestampMs.toString(36)}-${Math.random().toString(36).slice(2, 10)}`,
    tool: 'pay.payment',
    actor: null,
    args_sha256: null,
    decision: OUTCOME_DECISION[event.outcome],
    reason: `payment ${event.outcome}${event.code === undefined ? '' : ` (${event.code})`}`,
    duration_ms: 0,
    result_bytes: 0,
    error_code: (event.code ?? null) as AuditRecord['error_code'],
    details,
  };
}

/**
 * Opens the credential store (the shared one when given, else the file store when configured)
 * and the payer, spending from `parts.spend`; the `pay.fetch` tool comes with a wallet.
 */
export async function openPayments(
  config: ResolvedConfig['payments'],
  parts: {
    fetch: GuardedFetch;
    spend: GatewaySpend;
    /** Shared credentials (PostgreSQL); when set, `credentialStoreDir` is not used. */
    credentials?: CredentialBackend | undefined;
    now: () => number;
    warn: (message: string) => void;
    onEvent: (event: PaymentEvent) => void;
  },
  deps: PaymentDeps,
): Promise<{ pay: L402Payer; credentials: CredentialBackend | undefined; tools: ToolDefinition[] }> {
  const credentials =
    parts.credentials ??
    (config.credentialStoreDir === undefined
      ? undefined
      : await createCredentialStore({ dir: config.credentialStoreDir, keyProvider: deps.keyProvider, warn: parts.warn, confineTo: config.credentialStoreConfineTo }));
  const index = credentialIndex(credentials); // lists what the payer keeps, for pay.credentials
  const pay = createL402Payer({
    fetch: parts.fetch,
    spend: parts.spend,
    wallet: deps.wallet,
    cashu: deps.cashu,
    walletOrder: config.walletOrder,
    walletOrderByOrigin: config.walletOrderByOrigin,
    store: index.backend,
    network: config.network,
    maxFeeSats: config.maxFeeSats,
    expiryMarginMs: config.expiryMarginMs,
    paymentTimeoutMs: config.paymentTimeoutMs,
    approve: deps.approve,
    alwaysAskOrigins: config.alwaysAskOrigins,
    approvalTimeoutMs: config.approvalTimeoutMs,
    onEvent: parts.onEvent,
    now: parts.now,
  });
  // pay.fetch and the 402-mcp tools come with a wallet (payTools is empty without one).
  const tools: ToolDefinition[] =
    deps.wallet === undefined && deps.cashu === undefined ? [] : [payFetchTool(pay, config.allowedMethods as [string, ...string[]]), ...payTools({ ...parts, ...deps, config, index })];
  return { pay, credentials, tools };
}
