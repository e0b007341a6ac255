import { z } from 'zod';
import { defineTool, type ToolDefinition } from '../../tools.js';
import type { Wallet } from '../wallet.js';
import type { CashuWallet } from '../wallets/cashu/wallet.js';

/** What `pay.balance` returns, in sats. */
export interface PayBalanceResult {
  /** The Cashu books, per mint; `null` without a Cashu wallet. */
  cashu: { availableSats: number; pendingSats: number; byMint: Record<string, { availableSats: number; pendingSats: number }> } | null;
  /** The Lightning wallet's balance, when it offers one (`getBalance`); else `null`. */
  lightning: { balanceSats: number } | null;
}

/** A Lightning wallet that can tell its balance (NIP-47 `get_balance`, or a host's own). */
export interface BalanceWallet extends Wallet {
  getBalance(options: { signal: AbortSignal }): Promise<{ balanceMsat: number }>;
}

function offersBalance(wallet: Wallet | undefined): wallet is BalanceWallet {
  return typeof (wallet as Partial<BalanceWallet> | undefined)?.getBalance === 'function';
}

/** The `pay.balance` tool: the Cashu books and, where the wallet offers it, the Lightning balance. */
export function payBalanceTool(parts: { wallet?: Wallet | undefined; cashu?: CashuWallet | undefined }): ToolDefinition<z.ZodType, PayBalanceResult> {
  return defineTool({
    name: 'pay.balance',
    description: 'Shows what the wallets hold: Cashu ecash per mint (available and pending) and the Lightning balance when the wallet reports one.',
    inputSchema: z.strictObject({}),
    async execute(_, ctx): Promise<PayBalanceResult> {
      const books = parts.cashu === undefined ? undefined : await parts.cashu.balance();
      const lightning = offersBalance(parts.wallet) ? await parts.wallet.getBalance({ signal: ctx.signal }) : undefined;
      return {
        cashu:
          books === undefined
            ? null
            : {
                availableSats: books.availableSat,
                pendingSats: books.pendingSat,
                byMint: Object.fromEntries(Object.entries(books.byMint).map(([mint, book]) => [mint, { availableSats: book.availableSat, pendingSats: book.pendingSat }])),
              },
        lightning: lightning === undefined ? null : { balanceSats: Math.floor(lightning.balanceMsat / 1000) },
      };
    },
  });
}
