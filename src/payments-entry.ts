import type { AuditRecord } from './audit/record.js';
import type { ResolvedConfig } from './config.js';
import type { L402Payer, PaymentEvent } from './pay/l402-payer.js';
import type { openPayments, PaymentDeps } from './payments.js';
import type { CredentialBackend } from './store/credential-store.js';
import type { ToolDefinition } from './tools.js';

type PaymentParts = Omit<Parameters<typeof openPayments>[1], 'onEvent'> & {
  /** Where the audit records of payment events go (with the event, for metrics). */
  onRecord: (record: AuditRecord, event: PaymentEvent) => void;
};

/** The payments part of a gateway: `gw.pay`, `gw.credentials` and the `pay.fetch` tool. */
export interface OpenedPayments {
  pay: L402Payer;
  credentials: CredentialBackend | undefined;
  tools: ToolDefinition[];
}

/**
 * Opens the payments part. The payer, the invoice decoder, the credential store and their
 * crypto are loaded only when something needs them: a wallet, a credential store or shared
 * state. Otherwise `gw.pay` loads them on its first call, so a gateway that never pays (and
 * `import('portcullis')`) does not.
 */
export async function openPaymentsWhenNeeded(config: ResolvedConfig['payments'], parts: PaymentParts, deps: PaymentDeps, needed: boolean): Promise<OpenedPayments> {
  const open = async (): Promise<OpenedPayments> => {
    const payments = await import('./payments.js');
    const { onRecord, ...rest } = parts;
    return payments.openPayments(config, { ...rest, onEvent: (event) => onRecord(payments.paymentRecord(event, parts.now()), event) }, deps);
  };
  if (needed) return open();
  let payer: Promise<L402Payer> | undefined;
  const loaded = (): Promise<L402Payer> => (payer ??= open().then((opened) => opened.pay));
  return {
    pay: {
      cashu: undefined,
      fetch: async (input, init, options) => (await loaded()).fetch(input, init, options),
      resume: async (pending, preimage, init) => (await loaded()).resume(pending, preimage, init),
    },
    credentials: undefined,
    tools: [],
  };
}
