import { sha256 } from '@noble/hashes/sha2.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { bech32 } from '@scure/base';
import { wordsToBytesPadded } from '../../src/pay/bolt11.js';

/** What a test invoice says. */
export interface InvoiceSpec {
  network?: 'bitcoin' | 'testnet' | 'signet' | 'regtest';
  amountMsat?: number | undefined;
  /** Seconds since the epoch. @default now */
  timestamp?: number;
  paymentHash: Uint8Array;
  description?: string;
  expirySeconds?: number;
  /** Put the payee's key in an `n` field. */
  withPayee?: boolean;
  /** Put this key in the `n` field instead (a forgery: signed by someone else). */
  claimedPayee?: Uint8Array;
  /** Sign with this key. */
  secretKey: Uint8Array;
  /** Add this many 1,000-word route-hint (`r`) fields of zeros: a long but valid invoice. */
  routeHintFields?: number;
}

const PREFIX = { bitcoin: 'lnbc', testnet: 'lntb', signet: 'lntbs', regtest: 'lnbcrt' } as const;

function amountPart(msat: number | undefined): string {
  if (msat === undefined) return '';
  const pico = BigInt(msat) * 10n;
  for (const [unit, size] of [['m', 1_000_000_000n], ['u', 1_000_000n], ['n', 1000n]] as const) {
    if (pico % size === 0n) return `${pico / size}${unit}`;
  }
  return `${pico}p`;
}

function numberWords(value: number, length: number): number[] {
  const words: number[] = [];
  for (let i = length - 1; i >= 0; i--) words.push(Math.floor(value / 32 ** i) % 32);
  return words;
}

function tagged(type: number, words: number[]): number[] {
  return [type, ...numberWords(words.length, 2), ...words];
}

function bytesToWordsPadded(bytes: Uint8Array): number[] {
  return bech32.toWords(bytes);
}

/** Encodes and signs a real BOLT11 invoice (what an L402 server or a test hands out). */
export function encodeInvoice(spec: InvoiceSpec): string {
  const prefix = `${PREFIX[spec.network ?? 'regtest']}${amountPart(spec.amountMsat)}`;
  const timestamp = spec.timestamp ?? Math.floor(Date.now() / 1000);
  const data: number[] = [...numberWords(timestamp, 7)];
  data.push(...tagged(1, bytesToWordsPadded(spec.paymentHash)));
  data.push(...tagged(16, bytesToWordsPadded(new Uint8Array(32).fill(0x11)))); // payment secret
  if (spec.description !== undefined) data.push(...tagged(13, bytesToWordsPadded(new TextEncoder().encode(spec.description))));
  if (spec.expirySeconds !== undefined) {
    const length = Math.max(1, Math.ceil(Math.log2(spec.expirySeconds + 1) / 5));
    data.push(...tagged(6, numberWords(spec.expirySeconds, length)));
  }
  if (spec.withPayee === true || spec.claimedPayee !== undefined) {
    data.push(...tagged(19, bytesToWordsPadded(spec.claimedPayee ?? secp256k1.getPublicKey(spec.secretKey))));
  }
  for (let i = 0; i < (spec.routeHintFields ?? 0); i++) data.push(...tagged(3, new Array<number>(1000).fill(0)));
  // The signature covers the prefix and the data words as bytes, padded with zero bits.
  const dataBytes = wordsToBytesPadded(data);
  const digest = sha256(Uint8Array.from([...new TextEncoder().encode(prefix), ...dataBytes]));
  const recovered = secp256k1.sign(digest, spec.secretKey, { prehash: false, format: 'recovered' });
  const signature = Uint8Array.from([...recovered.slice(1), recovered[0] ?? 0]); // BOLT11: r || s || recovery id
  return bech32.encode(prefix, [...data, ...bech32.toWords(signature)], false);
}
