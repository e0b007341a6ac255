import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { bech32 } from '@scure/base';
import { GatewayError } from '../errors.js';

/** Lightning networks by BOLT11 prefix. */
export type Network = 'bitcoin' | 'testnet' | 'signet' | 'regtest';

const PREFIXES: readonly [string, Network][] = [
  ['lnbcrt', 'regtest'],
  ['lntbs', 'signet'],
  ['lntb', 'testnet'],
  ['lnbc', 'bitcoin'],
];

/** A decoded, signature-checked BOLT11 invoice. */
export interface Invoice {
  network: Network;
  /** Amount in millisatoshis; `undefined` for an amountless invoice. */
  amountMsat: number | undefined;
  /** Creation time, in seconds since the epoch. */
  timestamp: number;
  /** Seconds after `timestamp` the invoice stays payable. */
  expirySeconds: number;
  /** When it expires, in ms since the epoch. */
  expiresAtMs: number;
  /** Hex SHA-256 payment hash. */
  paymentHash: string;
  /** Hex compressed public key of the payee, recovered from the signature (and matching `n` if present). */
  payee: string;
  description: string | undefined;
  /** Hex SHA-256 of the description, when the invoice commits to one instead. */
  descriptionHash: string | undefined;
  paymentSecret: string | undefined;
  minFinalCltvExpiry: number;
}

const MULTIPLIER_PICO: Readonly<Record<string, bigint>> = { m: 1_000_000_000n, u: 1_000_000n, n: 1000n, p: 1n };
const DEFAULT_EXPIRY_SECONDS = 3600;
/** Longest invoice text accepted (BOLT11 has no limit; routes can make invoices long). */
const MAX_INVOICE_LENGTH = 7089;

function invalid(reason: string): GatewayError {
  return new GatewayError('INVALID_INVOICE', `The invoice is not valid: ${reason}.`, { data: { reason } });
}

/** Amount of the human-readable part in msat: pico-bitcoin / 10 (1 BTC = 10^11 msat = 10^12 pico). */
function parseAmount(text: string): number | undefined {
  if (text === '') return undefined;
  const match = /^([1-9][0-9]*)([munp])?$/.exec(text);
  if (match === null) throw invalid('the amount is malformed');
  const value = BigInt(match[1] ?? '0');
  const multiplier = match[2];
  // Without a multiplier the amount is in whole bitcoin.
  const pico = multiplier === undefined ? value * 1_000_000_000_000n : value * (MULTIPLIER_PICO[multiplier] ?? 0n);
  if (pico % 10n !== 0n) throw invalid('the amount is not a whole number of millisatoshis');
  const msat = pico / 10n;
  if (msat > BigInt(Number.MAX_SAFE_INTEGER)) throw invalid('the amount is too large');
  return Number(msat);
}

function wordsToNumber(words: readonly number[]): number {
  let value = 0;
  for (const word of words) value = value * 32 + word;
  return value;
}

/** 5-bit words to bytes, dropping the incomplete trailing bits (tagged fields are padded). */
function wordsToBytes(words: readonly number[]): Uint8Array {
  return wordsToBytesPadded(words).slice(0, Math.floor((words.length * 5) / 8));
}

/**
 * Decodes a BOLT11 invoice and checks it: bech32 checksum, network prefix, amount, every
 * tagged field, and the signature (the payee's public key is recovered from it; when the
 * invoice names a payee with `n`, the signature must verify against that key).
 *
 * @throws GatewayError `INVALID_INVOICE`, naming what is wrong.
 * @example
 * ```ts
 * const invoice = decodeInvoice('lnbc2500u1p…');
 * invoice.amountMsat; // 250000000
 * ```
 */
export function decodeInvoice(bolt11: string): Invoice {
  if (typeof bolt11 !== 'string' || bolt11.length === 0 || bolt11.length > MAX_INVOICE_LENGTH) throw invalid('it is empty or too long');
  const text = bolt11.trim().toLowerCase().replace(/^lightning:/, '');
  let decoded: { prefix: string; words: number[] };
  try {
    decoded = bech32.decode(text as `${string}1${string}`, MAX_INVOICE_LENGTH);
  } catch {
    throw invalid('the bech32 encoding or its checksum is wrong');
  }
  const { prefix, words } = decoded;
  const known = PREFIXES.find(([p]) => prefix.startsWith(p));
  if (known === undefined) throw invalid(`the prefix "${prefix.slice(0, 8)}" is not a Lightning network`);
  const [networkPrefix, network] = known;
  const amountMsat = parseAmount(prefix.slice(networkPrefix.length));
  if (words.length < 7 + 104) throw invalid('it is too short to hold a timestamp and a signature');
  const signatureWords = words.slice(-104);
  const dataWords = words.slice(0, -104);
  const timestamp = wordsToNumber(dataWords.slice(0, 7));

  let paymentHash: string | undefined;
  let description: string | undefined;
  let descriptionHash: string | undefined;
  let paymentSecret: string | undefined;
  let payeeTag: Uint8Array | undefined;
  let expirySeconds = DEFAULT_EXPIRY_SECONDS;
  let minFinalCltvExpiry = 18;
  for (let i = 7; i < dataWords.length; ) {
    if (i + 3 > dataWords.length) throw invalid('a tagged field is cut short');
    const type = dataWords[i] ?? 0;
    const length = wordsToNumber(dataWords.slice(i + 1, i + 3));
    const field = dataWords.slice(i + 3, i + 3 + length);
    if (field.length !== length) throw invalid('a tagged field is cut short');
    i += 3 + length;
    switch (type) {
      case 1: // p: payment hash; a field of the wrong length is skipped, as BOLT11 says
        if (length === 52) paymentHash ??= bytesToHex(wordsToBytes(field).slice(0, 32));
        break;
      case 13: // d: description
        description = new TextDecoder('utf-8', { fatal: false }).decode(wordsToBytes(field));
        break;
      case 23: // h: description hash
        if (length === 52) descriptionHash = bytesToHex(wordsToBytes(field).slice(0, 32));
        break;
      case 16: // s: payment secret
        if (length === 52) paymentSecret = bytesToHex(wordsToBytes(field).slice(0, 32));
        break;
      case 19: // n: payee public key
        if (length === 53) payeeTag = wordsToBytes(field).slice(0, 33);
        break;
      case 6: // x: expiry
        expirySeconds = wordsToNumber(field);
        break;
      case 24: // c: min_final_cltv_expiry_delta
        minFinalCltvExpiry = wordsToNumber(field);
        break;
      default: // fallback, routes, features, metadata: not needed to pay safely
        break;
    }
  }
  if (paymentHash === undefined) throw invalid('it has no payment hash');

  const signatureBytes = bech32.fromWords(signatureWords);
  const recovery = signatureBytes[64] ?? 255;
  if (recovery > 3) throw invalid('the signature recovery flag is out of range');
  const signed = Uint8Array.from([...new TextEncoder().encode(prefix), ...wordsToBytesPadded(dataWords)]);
  const digest = sha256(signed);
  let payee: Uint8Array;
  try {
    payee = secp256k1.recoverPublicKey(Uint8Array.from([recovery, ...signatureBytes.slice(0, 64)]), digest, { prehash: false });
  } catch {
    throw invalid('the signature does not verify');
  }
  if (payeeTag !== undefined) {
    const matches = secp256k1.verify(signatureBytes.slice(0, 64), digest, payeeTag, { prehash: false, lowS: false });
    if (!matches || bytesToHex(payeeTag) !== bytesToHex(payee)) throw invalid('the signature is not by the payee it names');
  }
  return {
    network,
    amountMsat,
    timestamp,
    expirySeconds,
    expiresAtMs: (timestamp + expirySeconds) * 1000,
    paymentHash,
    payee: bytesToHex(payee),
    description,
    descriptionHash,
    paymentSecret,
    minFinalCltvExpiry,
  };
}

/** All data words as bytes, the last byte padded with zero bits (what the signature covers). */
export function wordsToBytesPadded(words: readonly number[]): Uint8Array {
  const bytes: number[] = [];
  let accumulator = 0;
  let bits = 0;
  for (const word of words) {
    accumulator = (accumulator << 5) | word;
    bits += 5;
    while (bits >= 8) {
      bits -= 8;
      bytes.push((accumulator >> bits) & 0xff);
    }
    accumulator &= (1 << bits) - 1;
  }
  if (bits > 0) bytes.push((accumulator << (8 - bits)) & 0xff);
  return Uint8Array.from(bytes);
}
