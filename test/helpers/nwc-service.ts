import { generateSecretKey, getPublicKey } from 'nostr-tools/pure';
import { bytesToHex } from '@noble/hashes/utils.js';
import type { FakeLightning, WalletKnobs } from './lightning.js';

/**
 * `@getalby/sdk`'s own NWCWalletService, on the local relay, paying from the fake Lightning
 * network: the real NIP-47 protocol end to end. Knobs: wrong preimage, no answer, insufficient
 * balance, fees.
 */
export async function startNwcService(relayUrl: string, lightning: FakeLightning, knobs: WalletKnobs = {}) {
  if (typeof (globalThis as { WebSocket?: unknown }).WebSocket === 'undefined') {
    (globalThis as { WebSocket?: unknown }).WebSocket = (await import('ws')).WebSocket;
  }
  const { NWCWalletService, NWCWalletServiceKeyPair } = await import('@getalby/sdk/nwc');
  const walletSecret = bytesToHex(generateSecretKey());
  const walletPubkey = getPublicKey(Buffer.from(walletSecret, 'hex'));
  const clientSecret = bytesToHex(generateSecretKey());
  const clientPubkey = getPublicKey(Buffer.from(clientSecret, 'hex'));
  const service = new NWCWalletService({ relayUrl });
  await service.publishWalletServiceInfoEvent(walletSecret, ['pay_invoice', 'lookup_invoice'], []);
  const backend = lightning.wallet({ ...knobs, hang: false });
  const state = { requests: 0 };
  const unsubscribe = await service.subscribe(new NWCWalletServiceKeyPair(walletSecret, clientPubkey), {
    payInvoice: async ({ invoice }) => {
      state.requests += 1;
      if (knobs.hang === true) {
        // The payment goes through, but the answer never comes back.
        await backend.payInvoice({ invoice, maxFeeMsat: 0, signal: new AbortController().signal }).catch(() => undefined);
        return new Promise(() => undefined);
      }
      try {
        const { preimage, feesPaidMsat } = await backend.payInvoice({ invoice, maxFeeMsat: 0, signal: new AbortController().signal });
        return { result: { preimage, fees_paid: feesPaidMsat }, error: undefined };
      } catch {
        return { result: undefined, error: { code: 'INSUFFICIENT_BALANCE', message: 'not enough sats' } };
      }
    },
    lookupInvoice: async ({ payment_hash }) => {
      const found = await backend.lookupPayment?.(payment_hash ?? '', { signal: new AbortController().signal });
      if (found === undefined) return { result: undefined, error: { code: 'NOT_FOUND', message: 'no such payment' } };
      const decodedHash = payment_hash ?? '';
      return {
        result: {
          type: 'outgoing',
          state: 'settled',
          invoice: '',
          description: '',
          description_hash: '',
          preimage: found.preimage,
          payment_hash: decodedHash,
          amount: 0,
          fees_paid: 0,
          settled_at: Math.floor(Date.now() / 1000),
          created_at: Math.floor(Date.now() / 1000),
          expires_at: 0,
        },
        error: undefined,
      };
    },
  });
  const uri = `nostr+walletconnect://${walletPubkey}?relay=${encodeURIComponent(relayUrl)}&secret=${clientSecret}`;
  return {
    uri,
    clientSecret,
    get requests() {
      return state.requests;
    },
    close() {
      unsubscribe();
      service.close();
    },
  };
}
