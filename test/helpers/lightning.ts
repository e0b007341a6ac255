import { randomBytes } from 'node:crypto';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { GatewayError } from '../../src/errors.js';
import { decodeInvoice, type Network } from '../../src/pay/bolt11.js';
import type { Wallet } from '../../src/pay/wallet.js';
import { encodeInvoice } from './bolt11.js';

/** Knobs of the fake wallet: each failure a real wallet can have. */
export interface WalletKnobs {
  /** Answer with a preimage that does not match. */
  wrongPreimage?: boolean;
  /** Never answer (until the payer's timeout aborts). */
  hang?: boolean;
  /** Say the payment certainly failed (insufficient balance). */
  fail?: boolean;
  /** Routing fee paid, in msat. */
  feeMsat?: number;
  /** Answer after this many ms. */
  delayMs?: number;
}

/**
 * A fake Lightning network: the one thing the tests may fake, since it lies outside this
 * machine. Invoices are real signed BOLT11; paying one reveals its real preimage.
 */
export function fakeLightning(network: Network = 'bitcoin') {
  const nodeKey = secp256k1.utils.randomSecretKey();
  const invoices = new Map<string, { preimage: string; paid: boolean }>();
  const ledger = {
    /** Successful payments so far. */
    payments: 0,
    createInvoice(options: { amountMsat?: number | undefined; network?: Network; expirySeconds?: number; timestamp?: number; description?: string; routeHintFields?: number } = {}) {
      const preimage = randomBytes(32);
      const paymentHash = sha256(preimage);
      const bolt11 = encodeInvoice({
        network: options.network ?? network,
        amountMsat: options.amountMsat,
        paymentHash,
        secretKey: nodeKey,
        expirySeconds: options.expirySeconds ?? 600,
        ...(options.timestamp === undefined ? {} : { timestamp: options.timestamp }),
        description: options.description ?? 'api access',
        ...(options.routeHintFields === undefined ? {} : { routeHintFields: options.routeHintFields }),
      });
      invoices.set(bytesToHex(paymentHash), { preimage: bytesToHex(preimage), paid: false });
      return { bolt11, paymentHash: bytesToHex(paymentHash), preimage: bytesToHex(preimage) };
    },
    /** Every preimage issued, to check that none leaks. */
    preimages(): string[] {
      return [...invoices.values()].map((entry) => entry.preimage);
    },
    isPaid(paymentHash: string): boolean {
      return invoices.get(paymentHash)?.paid === true;
    },
    wallet(knobs: WalletKnobs = {}): Wallet & { calls: number } {
      const wallet = {
        calls: 0,
        async payInvoice({ invoice, signal }: { invoice: string; maxFeeMsat: number; signal: AbortSignal }) {
          wallet.calls += 1;
          const { paymentHash } = decodeInvoice(invoice);
          const entry = invoices.get(paymentHash);
          if (knobs.fail === true || entry === undefined) throw new GatewayError('PAYMENT_FAILED', 'insufficient balance');
          if (knobs.hang === true) {
            // The payment goes through on the network, but the answer never reaches us.
            entry.paid = true;
            ledger.payments += 1;
            await new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('wallet timeout')), { once: true }));
          }
          if (knobs.delayMs !== undefined) await new Promise((resolve) => setTimeout(resolve, knobs.delayMs));
          entry.paid = true;
          ledger.payments += 1;
          return { preimage: knobs.wrongPreimage === true ? bytesToHex(randomBytes(32)) : entry.preimage, feesPaidMsat: knobs.feeMsat ?? 0 };
        },
        lookupPayment(paymentHash: string) {
          const entry = invoices.get(paymentHash);
          return Promise.resolve(entry?.paid === true ? { preimage: entry.preimage } : undefined);
        },
      };
      return wallet;
    },
  };
  return ledger;
}
export type FakeLightning = ReturnType<typeof fakeLightning>;
