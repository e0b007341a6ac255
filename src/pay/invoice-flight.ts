import { raceAbort } from './abort.js';

/** How many paid invoices' preimages are remembered, to never pay one invoice twice. */
const PAID_HASHES_KEPT = 1024;

/**
 * One invoice, one wallet call, whatever endpoint it was handed to: a payment of a payment hash
 * already under way is waited for, and an invoice paid here lately is not paid again (its
 * preimage is remembered, the newest 1,024).
 */
export interface InvoiceFlights {
  /** Remembers the preimage of a paid invoice. */
  remember(paymentHash: string, preimage: string): void;
  /**
   * Waits for a payment of `paymentHash` under way (or `signal`), then: the remembered preimage
   * (`known`), else `pay()`'s result (`paid`), while other calls for the hash wait for it.
   */
  run<T extends { preimage: string }>(paymentHash: string, signal: AbortSignal | undefined, pay: () => Promise<T>): Promise<{ paid: T } | { known: string }>;
}

export function invoiceFlights(): InvoiceFlights {
  const paying = new Map<string, Promise<unknown>>();
  const preimages = new Map<string, string>();
  return {
    remember(paymentHash, preimage) {
      preimages.delete(paymentHash);
      preimages.set(paymentHash, preimage);
      if (preimages.size > PAID_HASHES_KEPT) preimages.delete(preimages.keys().next().value ?? '');
    },
    async run(paymentHash, signal, pay) {
      // Whatever the end of a payment under way, the checks below decide.
      for (let under = paying.get(paymentHash); under !== undefined; under = paying.get(paymentHash)) {
        await raceAbort(under.catch(() => undefined), signal, 'while another request paid the same invoice (its outcome is recorded)');
      }
      const known = preimages.get(paymentHash);
      if (known !== undefined) return { known };
      // Registered before any await, so that a second call for this invoice waits for this one.
      const flight = pay();
      paying.set(paymentHash, flight);
      try {
        return { paid: await flight };
      } finally {
        if (paying.get(paymentHash) === flight) paying.delete(paymentHash);
      }
    },
  };
}
