import { GatewayError } from '../errors.js';
import { canonicalJson } from '../audit/canonical-json.js';
import type { Challenge } from './challenges.js';
import type { Invoice, Network } from './bolt11.js';
import { formatSats } from './server-text.js';

/** A `Payment` challenge (draft-httpauth-payment) for the `lightning` method and `charge` intent. */
export interface PaymentChallenge {
  /** Every auth-param of the challenge, echoed in the credential (id, realm, method, intent, request, expires, digest, opaque, …). */
  params: Readonly<Record<string, string>>;
  /** The BOLT11 invoice of `request.methodDetails.invoice`. */
  bolt11: string;
  /** `request.amount` (sats) in msat: what the server says it charges. */
  declaredAmountMsat: number;
  paymentHash: string | undefined;
  network: string | undefined;
  /** From the `expires` auth-param, in ms since the epoch. */
  expiresAtMs: number | undefined;
}

/** The auth-params a credential echoes back when the challenge has them. */
const ECHOED = ['id', 'realm', 'method', 'intent', 'request', 'expires', 'digest', 'opaque', 'description'];
const LIGHTNING_NETWORKS: Readonly<Record<string, Network>> = { mainnet: 'bitcoin', regtest: 'regtest', signet: 'signet', testnet: 'testnet' };

function fromBase64url(text: string): string {
  return Buffer.from(text.replaceAll('-', '+').replaceAll('_', '/'), 'base64').toString('utf8');
}

function toBase64url(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url');
}

function invalid(reason: string): GatewayError {
  return new GatewayError('INVALID_CHALLENGE', `The Payment challenge is not usable: ${reason}.`, { data: { reason } });
}

/**
 * Reads a `Payment` challenge of the `lightning` method and `charge` intent; `undefined` for
 * another method or intent (not ours to pay).
 *
 * @throws GatewayError `INVALID_CHALLENGE` for a lightning charge challenge that is malformed.
 */
export function readPaymentChallenge(challenge: Challenge): PaymentChallenge | undefined {
  const { params } = challenge;
  if (params.method?.toLowerCase() !== 'lightning' || params.intent?.toLowerCase() !== 'charge') return undefined;
  if (params.id === undefined || params.request === undefined) throw invalid('it has no id or no request');
  let request: { amount?: unknown; currency?: unknown; methodDetails?: { invoice?: unknown; paymentHash?: unknown; network?: unknown } };
  try {
    request = JSON.parse(fromBase64url(params.request)) as typeof request;
  } catch {
    throw invalid('its request is not base64url JSON');
  }
  if (typeof request.amount !== 'string' || !/^[1-9][0-9]{0,15}$/.test(request.amount)) throw invalid('request.amount is not a positive whole number of sats');
  if (request.currency !== 'sat') throw invalid('request.currency is not "sat"');
  const invoice = request.methodDetails?.invoice;
  if (typeof invoice !== 'string') throw invalid('request.methodDetails.invoice is missing');
  const expires = params.expires === undefined ? undefined : Date.parse(params.expires);
  return {
    params: Object.fromEntries(ECHOED.filter((name) => params[name] !== undefined).map((name) => [name, params[name] as string])),
    bolt11: invoice,
    declaredAmountMsat: Number(request.amount) * 1000,
    paymentHash: typeof request.methodDetails?.paymentHash === 'string' ? request.methodDetails.paymentHash.toLowerCase() : undefined,
    network: typeof request.methodDetails?.network === 'string' ? request.methodDetails.network : undefined,
    expiresAtMs: expires !== undefined && Number.isFinite(expires) ? expires : undefined,
  };
}

/**
 * The checks a `Payment` challenge adds to the invoice's own: the declared amount must be the
 * invoice's amount (`AMOUNT_MISMATCH`: a server may not declare one price and invoice another),
 * and the convenience fields must match the invoice.
 */
export function checkPaymentChallenge(challenge: PaymentChallenge, invoice: Invoice, origin: string): void {
  if (invoice.amountMsat !== challenge.declaredAmountMsat) {
    throw new GatewayError('AMOUNT_MISMATCH', `The challenge declares ${formatSats(challenge.declaredAmountMsat)} but its invoice asks ${invoice.amountMsat === undefined ? 'no amount' : formatSats(invoice.amountMsat)}; not paying.`, {
      data: { origin, declaredMsat: challenge.declaredAmountMsat, invoiceMsat: invoice.amountMsat ?? null },
    });
  }
  if (challenge.paymentHash !== undefined && challenge.paymentHash !== invoice.paymentHash) throw invalid('methodDetails.paymentHash is not the invoice\'s');
  if (challenge.network !== undefined && LIGHTNING_NETWORKS[challenge.network] !== invoice.network) throw invalid('methodDetails.network is not the invoice\'s');
}

/** `Authorization: Payment <base64url(JCS({ challenge, payload: { preimage } }))>`. */
export function paymentAuthorization(params: Readonly<Record<string, string>>, preimage: string): string {
  return `Payment ${toBase64url(canonicalJson({ challenge: params, payload: { preimage } }))}`;
}
