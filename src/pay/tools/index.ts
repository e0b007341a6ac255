import type { ResolvedConfig } from '../../config.js';
import type { GuardedFetch } from '../../net/fetch.js';
import type { ToolDefinition } from '../../tools.js';
import type { ApproveFn, PaymentEvent } from '../payer-types.js';
import type { MeteredSpendLedger } from '../spend-tracker.js';
import type { Wallet } from '../wallet.js';
import type { CashuWallet } from '../wallets/cashu/wallet.js';
import { payBalanceTool } from './balance.js';
import type { CredentialIndex } from './credential-index.js';
import { payCredentialsTool } from './credentials.js';
import { payInvoiceTool } from './invoice.js';
import { payPreviewTool } from './preview.js';

export { credentialIndex, type CredentialIndex, type CredentialSummary, type PendingSummary } from './credential-index.js';
export type { PayBalanceResult, BalanceWallet } from './balance.js';
export type { PayCredentialsResult } from './credentials.js';
export type { PayInvoiceToolResult } from './invoice.js';
export type { PayPreviewResult } from './preview.js';

/** What the 402-mcp tools are built from (all of it already in `openPayments`). */
export interface PayToolParts {
  fetch: GuardedFetch;
  spend: MeteredSpendLedger;
  config: ResolvedConfig['payments'];
  wallet?: Wallet | undefined;
  cashu?: CashuWallet | undefined;
  approve?: ApproveFn | undefined;
  index: CredentialIndex;
  now: () => number;
  onEvent: (event: PaymentEvent) => void;
}

/** `pay.preview`, `pay.credentials`, `pay.balance` and `pay.invoice`: registered with a wallet, allowed only by the policy. */
export function payTools(parts: PayToolParts): ToolDefinition[] {
  const lightning = parts.wallet ?? parts.cashu;
  if (lightning === undefined) return [];
  const methods = parts.config.allowedMethods as [string, ...string[]];
  return [
    payPreviewTool({ fetch: parts.fetch, spend: parts.spend, config: parts.config, canApprove: parts.approve !== undefined, hasLightning: parts.wallet !== undefined, hasCashu: parts.cashu !== undefined, now: parts.now }, methods),
    payCredentialsTool(parts.index, parts.now),
    payBalanceTool({ wallet: parts.wallet, cashu: parts.cashu }),
    payInvoiceTool({ wallet: lightning, spend: parts.spend, config: parts.config, approve: parts.approve, onEvent: parts.onEvent, now: parts.now }),
  ];
}
