import { bytesToHex } from '@noble/hashes/utils.js';

/** What the payer reads from a macaroon: never verified here (only the server can), just read. */
export interface MacaroonInfo {
  identifier: Uint8Array;
  /** First-party caveat ids, as text. */
  caveats: string[];
  /** For an aperture-style identifier (version 0, payment hash, token id): the payment hash it commits to. */
  paymentHash: string | undefined;
  /** The earliest expiry among readable caveats, in ms since the epoch. */
  expiresAtMs: number | undefined;
}

const FIELD_EOS = 0;
const FIELD_LOCATION = 1;
const FIELD_IDENTIFIER = 2;
const FIELD_VID = 4;
const FIELD_SIGNATURE = 6;

function fromBase64(text: string): Uint8Array | undefined {
  const normal = text.replaceAll('-', '+').replaceAll('_', '/');
  const bytes = Buffer.from(normal, 'base64');
  return bytes.length === 0 ? undefined : bytes;
}

/**
 * Reads a macaroon in the v2 binary format (base64 or base64url, as L402 servers send it).
 * Returns `undefined` for anything else (an opaque token): the payer then trusts the invoice
 * alone. Expiry caveats understood: `…valid_until=<unix seconds>`, `expires=<unix seconds>`
 * and `time-before=<RFC 3339>`.
 */
export function readMacaroon(token: string): MacaroonInfo | undefined {
  const bytes = fromBase64(token);
  if (bytes === undefined || bytes[0] !== 2) return undefined;
  let i = 1;
  const readVarint = (): number | undefined => {
    let value = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      const byte = bytes[i++];
      if (byte === undefined) return undefined;
      value += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return value;
    }
    return undefined;
  };
  /** Reads fields up to an end-of-section; returns them by type, or undefined when malformed. */
  const readSection = (): Map<number, Uint8Array> | undefined => {
    const fields = new Map<number, Uint8Array>();
    for (;;) {
      const type = bytes[i++];
      if (type === undefined) return undefined;
      if (type === FIELD_EOS) return fields;
      const length = readVarint();
      if (length === undefined || i + length > bytes.length) return undefined;
      fields.set(type, bytes.subarray(i, i + length));
      i += length;
    }
  };
  const header = readSection();
  const identifier = header?.get(FIELD_IDENTIFIER);
  if (header === undefined || identifier === undefined || [...header.keys()].some((k) => k !== FIELD_LOCATION && k !== FIELD_IDENTIFIER)) return undefined;
  const caveats: string[] = [];
  for (;;) {
    if (bytes[i] === FIELD_EOS) {
      i++;
      break;
    }
    const caveat = readSection();
    const id = caveat?.get(FIELD_IDENTIFIER);
    if (caveat === undefined || id === undefined) return undefined;
    if (!caveat.has(FIELD_VID)) caveats.push(Buffer.from(id).toString('utf8')); // third-party caveats are opaque
  }
  if (bytes[i] !== FIELD_SIGNATURE) return undefined;
  return { identifier, caveats, paymentHash: apertureHash(identifier), expiresAtMs: expiry(caveats) };
}

/** aperture's identifier: uint16 version 0, 32-byte payment hash, 32-byte token id. */
function apertureHash(identifier: Uint8Array): string | undefined {
  if (identifier.length !== 66 || identifier[0] !== 0 || identifier[1] !== 0) return undefined;
  return bytesToHex(identifier.subarray(2, 34));
}

function expiry(caveats: readonly string[]): number | undefined {
  let earliest: number | undefined;
  for (const caveat of caveats) {
    const eq = caveat.indexOf('=');
    if (eq < 0) continue;
    const key = caveat.slice(0, eq).trim();
    const value = caveat.slice(eq + 1).trim();
    let atMs: number | undefined;
    if ((key.endsWith('valid_until') || key === 'expires') && /^\d{1,12}$/.test(value)) atMs = Number(value) * 1000;
    else if (key === 'time-before' && Number.isFinite(Date.parse(value))) atMs = Date.parse(value);
    if (atMs !== undefined) earliest = Math.min(earliest ?? atMs, atMs);
  }
  return earliest;
}
