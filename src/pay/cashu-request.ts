import { PaymentRequest } from '@cashu/cashu-ts';
import { GatewayError } from '../errors.js';

/** A NUT-24 offer: the NUT-18 payment request of a 402's `X-Cashu` header. */
export interface CashuOffer {
  /** The header as received (`creqA…` or `creqb…`), shown to a person when approval is asked. */
  encoded: string;
  amountSat: number;
  /** Mints the server takes tokens from, as it wrote them. */
  mints: string[];
  description: string | undefined;
}

/** Longest `X-Cashu` header read, in characters. */
const MAX_REQUEST_CHARS = 8192;

const invalid = (origin: string, reason: string, cause?: unknown): GatewayError =>
  new GatewayError('INVALID_CHALLENGE', `The X-Cashu payment request of ${origin} ${reason}; not paying.`, { cause, data: { origin } });

/**
 * Reads a NUT-24 `X-Cashu` payment request as the spec encodes it: NUT-18 `creqA` (CBOR, then
 * base64url) or NUT-26 `creqB` (bech32m). It must ask for a whole number of sats, name the
 * mints it accepts, and carry no locking condition (this wallet sends unlocked ecash).
 *
 * @throws GatewayError `INVALID_CHALLENGE`.
 */
export function readCashuOffer(header: string, origin: string): CashuOffer {
  const encoded = header.trim();
  if (encoded.length > MAX_REQUEST_CHARS) throw invalid(origin, 'is too long');
  let request: PaymentRequest;
  try {
    request = PaymentRequest.fromEncodedRequest(encoded);
  } catch (error) {
    throw invalid(origin, 'is not a NUT-18 payment request (creqA…/creqB…)', error);
  }
  if (request.unit !== 'sat') throw invalid(origin, `is in unit ${JSON.stringify(request.unit ?? null)}; this wallet pays in sats only`);
  const amount = request.amount === undefined ? undefined : request.amount.toBigInt();
  if (amount === undefined || amount <= 0n || amount > BigInt(Number.MAX_SAFE_INTEGER)) throw invalid(origin, 'has no amount');
  if (request.mints === undefined || request.mints.length === 0) throw invalid(origin, 'names no mint');
  if (request.nut10 !== undefined) throw invalid(origin, `asks for locked ecash (NUT-10 ${request.nut10.kind}), which this wallet does not send`);
  return { encoded, amountSat: Number(amount), mints: [...request.mints], description: request.description };
}
