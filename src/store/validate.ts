import { GatewayError } from '../errors.js';

const PREIMAGE = /^[0-9a-fA-F]{64}$/;
// base64 and base64url alphabets with padding: nothing that could end or split a header.
const TOKEN = /^[A-Za-z0-9+/_=-]{1,16384}$/;

/**
 * A payment preimage: exactly 64 hex characters (32 bytes), returned in lower case.
 * @throws GatewayError `CREDENTIAL_INVALID`.
 */
export function normalisePreimage(preimage: string): string {
  if (typeof preimage !== 'string' || !PREIMAGE.test(preimage)) {
    throw new GatewayError('CREDENTIAL_INVALID', 'A preimage must be exactly 64 hexadecimal characters.');
  }
  return preimage.toLowerCase();
}

/**
 * A token or macaroon: base64 or base64url characters only, so it cannot inject into the
 * `Authorization: L402 <token>:<preimage>` header it is sent in.
 * @throws GatewayError `CREDENTIAL_INVALID`.
 */
export function checkToken(token: string): string {
  if (typeof token !== 'string' || !TOKEN.test(token)) {
    throw new GatewayError('CREDENTIAL_INVALID', 'A token must be 1-16384 base64 or base64url characters.');
  }
  return token;
}
