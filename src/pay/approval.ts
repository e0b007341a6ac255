import { renderSVG, renderUnicodeCompact } from 'uqr';
import { GatewayError } from '../errors.js';
import { decodeInvoice } from './bolt11.js';
import type { ApprovalRequest } from './payer-types.js';
import { formatSats, MAX_INVOICE_CHARS, safeOptionalText, safeShownText as shown } from './server-text.js';
import type { PayInvoiceRequest, PayInvoiceResult, Wallet } from './wallet.js';

/** What a person needs to decide on, or to pay, a Lightning payment. */
export interface ApprovalView {
  /** Plain text: amount, fee reserve, origin, description, reason, the invoice, and a QR code in block characters. */
  text: string;
  /** The invoice as an SVG QR code (for a web page or a desktop prompt); empty when it is too long for a QR code. */
  svg: string;
}

/**
 * Renders an approval request (or any invoice to pay by hand) for a person: the amount and fee
 * reserve, the origin asking, the invoice's description, why a person is asked, the BOLT11
 * string, the invoice as a QR code, in block characters for a terminal and as SVG, and the
 * amount again on the last line. Every text is escaped first: control characters (terminal
 * escape codes), bidi overrides, invisible and format characters, line separators and stacked
 * combining marks show as `\u{…}`, and long texts are cut (once: the already escaped and cut
 * text of an {@link ApprovalRequest} is not cut again), so a payee cannot make a
 * 2,500,000-sat invoice read as 21 sats. No QR code is drawn of an invoice too long for one.
 *
 * @example
 * ```ts
 * const gw = await createGateway(config, { wallet, approve: async (request) => {
 *   console.error(renderApproval(request).text);
 *   return askYesNo('Pay it?');
 * } });
 * ```
 */
export function renderApproval(
  request: Pick<ApprovalRequest, 'amountMsat' | 'feeReserveMsat' | 'origin' | 'description' | 'invoice'> & Partial<Pick<ApprovalRequest, 'reason' | 'method' | 'mint'>>,
): ApprovalView {
  const ecash = request.method === 'cashu';
  const shownInvoice = shown(request.invoice, MAX_INVOICE_CHARS);
  // Upper case makes a denser QR code; a NUT-18 request (creqA, base64url) is case-sensitive.
  const invoice = ecash ? shownInvoice : `lightning:${shownInvoice}`.toUpperCase();
  // A QR code only of a whole invoice or request (bech32 or base64url): never of a cut or escaped one.
  const qr = qrCode(invoice, shownInvoice === request.invoice && /^[A-Za-z0-9_=-]+$/.test(request.invoice));
  const origin = shown(request.origin);
  const why =
    request.reason === 'always-ask' ? 'this origin always asks' : request.reason === 'over-auto-pay-cap' ? 'over the automatic payment limit' : 'a payment by hand';
  const amount = `${formatSats(request.amountMsat)} (+ up to ${formatSats(request.feeReserveMsat)} ${ecash ? 'mint fees' : 'routing fee'})`;
  const lines = [
    `Payment requested by ${origin}`,
    `  amount:      ${amount}`,
    ...(ecash ? [`  paid with:   Cashu ecash from ${shown(request.mint ?? 'an allowed mint')}`] : []),
    `  description: ${request.description === undefined ? '(none)' : shown(request.description)}`,
    `  why asked:   ${why}`,
    `  ${ecash ? 'request:' : 'invoice:'}     ${shownInvoice}`,
    '',
    qr?.text ?? `(no QR code: the ${ecash ? 'request' : 'invoice'} is too long for one; copy it from the line above)`,
    `Amount to pay: ${amount} to ${origin}`,
  ];
  return { text: lines.join('\n'), svg: qr?.svg ?? '' };
}

/** The QR code of `data`, or `undefined` when it is not whole or does not fit in one. */
function qrCode(data: string, whole: boolean): { text: string; svg: string } | undefined {
  if (!whole) return undefined;
  try {
    return { text: renderUnicodeCompact(data), svg: renderSVG(data) };
  } catch {
    return undefined; // too long for a QR code ("Data too long")
  }
}

/** Options of {@link humanWallet}. */
export interface HumanWalletOptions {
  /**
   * Shows the invoice to a person (see {@link renderApproval}) and resolves with the preimage they
   * got when they paid it, or rejects when they decline (nothing paid).
   */
  ask(request: { invoice: string; amountMsat: number | undefined; description: string | undefined; view: ApprovalView; signal: AbortSignal }): Promise<string>;
}

/**
 * A wallet that is a person: they pay the invoice from a wallet of their own and hand back the
 * preimage, which the payer checks against the payment hash before using it. A decline is
 * `PAYMENT_FAILED`; running out of time is an unknown outcome (they may have paid), so the
 * budget stays reserved and `pay.resume(pending, preimage)` finishes later. The routing fee is
 * unknown, so the whole fee reserve is counted.
 */
export function humanWallet(options: HumanWalletOptions): Wallet {
  return {
    async payInvoice({ invoice, maxFeeMsat, signal }: PayInvoiceRequest): Promise<PayInvoiceResult> {
      let decoded: ReturnType<typeof decodeInvoice>;
      let view: ApprovalView;
      let description: string | undefined;
      try {
        decoded = decodeInvoice(invoice);
        description = safeOptionalText(decoded.description);
        view = renderApproval({ amountMsat: decoded.amountMsat ?? 0, feeReserveMsat: maxFeeMsat, origin: 'the API being paid', description, invoice });
      } catch (error) {
        // The person was never asked: nothing can have been paid.
        throw new GatewayError('PAYMENT_FAILED', 'The invoice could not be shown to the person, who was not asked; nothing was paid.', { cause: error });
      }
      const answer = options.ask({ invoice, amountMsat: decoded.amountMsat, description, view, signal });
      const aborted = new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true }));
      let preimage: string;
      try {
        preimage = await Promise.race([answer, aborted]);
      } catch (error) {
        if (signal.aborted) throw error; // timed out: the person may still have paid
        throw new GatewayError('PAYMENT_FAILED', 'The person declined to pay the invoice.', { cause: error });
      }
      return { preimage, feesPaidMsat: maxFeeMsat };
    },
  };
}
