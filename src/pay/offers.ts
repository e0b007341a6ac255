import { GatewayError, type ErrorCode } from '../errors.js';
import { checkToken } from '../store/validate.js';
import { decodeInvoice, type Invoice, type Network } from './bolt11.js';
import { parseChallenges } from './challenges.js';
import { readMacaroon } from './macaroon.js';
import { formatSats } from './server-text.js';
import { checkPaymentChallenge, readPaymentChallenge, type PaymentChallenge } from './payment-scheme.js';

/** What a 402 offers to sell, read from its challenge. */
export interface Offer {
  scheme: 'L402' | 'LSAT' | 'Payment';
  /** L402/LSAT token; empty for the Payment scheme. */
  token: string;
  invoice: Invoice;
  bolt11: string;
  /** The Payment scheme's challenge, echoed in its credential. */
  payment?: PaymentChallenge | undefined;
}

/** The one message of `AMOUNT_EXCEEDS_CAP`, for an invoice or an ecash request alike. */
export function overCapMessage(origin: string, amountMsat: number, capMsat: number): string {
  return `${origin} asks ${formatSats(amountMsat)}, over this call's cap of ${formatSats(capMsat)}; not paying.`;
}

/**
 * An invoice as it is checked and as the wallet gets it: lower case, without a `lightning:`
 * prefix. BOLT11 is bech32: one case throughout (upper case is usual in QR codes); a
 * mixed-case invoice is refused (`INVALID_INVOICE`), as bech32 requires.
 */
export function normaliseInvoice(bolt11: string, origin: string): string {
  const trimmed = bolt11.trim().replace(/^lightning:/i, '');
  if (trimmed !== trimmed.toLowerCase() && trimmed !== trimmed.toUpperCase()) {
    throw refuse('INVALID_INVOICE', 'The invoice mixes upper and lower case, which bech32 does not allow; not paying.', origin);
  }
  return trimmed.toLowerCase();
}

/** Which challenge to answer when a server offers several: the first kind present is paid, and only it. */
export const PREFERENCE: readonly string[] = ['l402', 'payment', 'lsat'];

function refuse(code: ErrorCode, message: string, origin: string, data: Record<string, unknown> = {}): GatewayError {
  return new GatewayError(code, message, { data: { origin, ...data } });
}

/**
 * The one offer of a 402 to pay: L402, else the IETF `Payment` scheme (lightning method,
 * charge intent), else legacy LSAT; valid challenges with what they need only.
 *
 * @throws GatewayError `INVALID_CHALLENGE` or `INVALID_INVOICE`.
 */
export function readOffer(header: string | null, origin: string): Offer {
  const candidates = parseChallenges(header).filter((c) => c.invalid === undefined && PREFERENCE.includes(c.scheme));
  candidates.sort((a, b) => PREFERENCE.indexOf(a.scheme) - PREFERENCE.indexOf(b.scheme));
  for (const challenge of candidates) {
    let payment: PaymentChallenge | undefined;
    let token = '';
    let bolt11: string | undefined;
    if (challenge.scheme === 'payment') {
      payment = readPaymentChallenge(challenge);
      if (payment === undefined) continue; // another method or intent: not ours to pay
      bolt11 = normaliseInvoice(payment.bolt11, origin);
    } else {
      token = challenge.params.token ?? challenge.params.macaroon ?? '';
      bolt11 = challenge.params.invoice === undefined ? undefined : normaliseInvoice(challenge.params.invoice, origin);
      if (token === '' || bolt11 === undefined) continue;
      try {
        checkToken(token);
      } catch {
        throw refuse('INVALID_CHALLENGE', 'The 402 challenge carries a token with characters a token may not have.', origin);
      }
    }
    const scheme = challenge.scheme === 'payment' ? 'Payment' : challenge.scheme === 'lsat' ? 'LSAT' : 'L402';
    return { scheme, token, invoice: decodeInvoice(bolt11), bolt11, payment };
  }
  throw refuse('INVALID_CHALLENGE', 'The server answered 402 without a usable L402, Payment (lightning) or LSAT challenge.', origin);
}

/**
 * Everything checked before paying, each with its own code: network, amount present, the
 * caller's cap, expiry (the earlier of the invoice's and the challenge's), a Payment
 * challenge's declared amount, and a token that commits to another payment hash.
 */
export function checkOffer(offer: Offer, context: { origin: string; network: Network; expiryMarginMs: number; nowMs: number; capMsat: number | undefined }): void {
  const { invoice } = offer;
  const { origin } = context;
  if (invoice.network !== context.network) {
    throw refuse('WRONG_NETWORK', `The invoice is for ${invoice.network}, not ${context.network}.`, origin, { network: invoice.network });
  }
  if (invoice.amountMsat === undefined) throw refuse('AMOUNTLESS_INVOICE', 'The invoice has no amount; an agent never chooses what to pay.', origin);
  if (context.capMsat !== undefined && invoice.amountMsat > context.capMsat) {
    throw refuse('AMOUNT_EXCEEDS_CAP', overCapMessage(origin, invoice.amountMsat, context.capMsat), origin, {
      amountMsat: invoice.amountMsat,
      capMsat: context.capMsat,
    });
  }
  const expiresAtMs = Math.min(invoice.expiresAtMs, offer.payment?.expiresAtMs ?? Number.POSITIVE_INFINITY);
  if (expiresAtMs - context.expiryMarginMs <= context.nowMs) {
    throw refuse('INVOICE_EXPIRED', 'The invoice (or its challenge) has expired or is about to.', origin, { expiresAtMs });
  }
  if (offer.payment !== undefined) checkPaymentChallenge(offer.payment, invoice, origin);
  const committed = offer.scheme === 'Payment' ? undefined : readMacaroon(offer.token)?.paymentHash;
  if (committed !== undefined && committed !== invoice.paymentHash) {
    throw refuse('TOKEN_INVOICE_MISMATCH', 'The token commits to another payment than the invoice: paying would not unlock it.', origin);
  }
}
