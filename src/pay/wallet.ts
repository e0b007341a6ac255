/** A payment the payer asks a wallet to make. */
export interface PayInvoiceRequest {
  /** The BOLT11 invoice, already decoded and checked by the payer. */
  invoice: string;
  /** Routing fee the wallet may spend at most, in msat (reserved in the budget). */
  maxFeeMsat: number;
  /** Aborted at the payment timeout: the wallet should stop waiting (the outcome may stay unknown). */
  signal: AbortSignal;
}

/** What a wallet reports after a payment it knows went through. */
export interface PayInvoiceResult {
  /** Hex preimage; the payer checks that its SHA-256 is the invoice's payment hash. */
  preimage: string;
  /** Routing fee actually paid, in msat. */
  feesPaidMsat: number;
}

/**
 * A Lightning wallet. `payInvoice` resolves only when the payment certainly succeeded. To say
 * it certainly failed (nothing was or will be paid), reject with a `GatewayError` of code
 * `PAYMENT_FAILED`; any other rejection (a timeout, a lost connection) means the outcome is
 * unknown, and the payer keeps the budget reserved and the pending record.
 */
export interface Wallet {
  payInvoice(request: PayInvoiceRequest): Promise<PayInvoiceResult>;
  /** Looks a payment up by its hash, for `resume`: the preimage when it succeeded. */
  lookupPayment?(paymentHash: string, options: { signal: AbortSignal }): Promise<{ preimage: string } | undefined>;
  close?(): Promise<void>;
}
