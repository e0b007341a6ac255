import { createHmac, createPrivateKey, createPublicKey, hkdfSync, sign, verify, type KeyObject } from 'node:crypto';
import { GatewayError } from '../errors.js';
import type { ChainHasher } from './chain.js';
import type { ChainHead } from './record.js';

/** An Ed25519 key as a `KeyObject` or PEM text (PKCS#8 private, SPKI public). */
export type SigningKeyInput = KeyObject | string;

/** HKDF label of the chain key: the store key itself is never used to MAC. */
const CHAIN_KEY_INFO = 'portcullis audit chain hmac-sha256 v1';
/** What a `head_sig` signs, before `seq:hash`: a domain separator. */
const HEAD_CONTEXT = 'portcullis audit head v1\n';

/** The HMAC key of a keyed chain, derived from a key provider's 32-byte key. */
export function auditChainKey(providerKey: Uint8Array): Uint8Array {
  if (providerKey.length < 32) throw new GatewayError('CONFIG_INVALID', 'The audit chain key must come from a key of at least 32 bytes.');
  return new Uint8Array(hkdfSync('sha256', providerKey, new Uint8Array(0), CHAIN_KEY_INFO, 32));
}

/** The hasher of a keyed chain: HMAC-SHA256 under the key derived from `providerKey`. */
export function chainHasher(providerKey: Uint8Array): ChainHasher {
  const key = auditChainKey(providerKey);
  return (canonical) => createHmac('sha256', key).update(canonical).digest('hex');
}

function asKey(input: SigningKeyInput, kind: 'private' | 'public'): KeyObject {
  let key: KeyObject;
  try {
    if (typeof input === 'string') key = kind === 'private' ? createPrivateKey(input) : createPublicKey(input);
    else key = kind === 'public' && input.type === 'private' ? createPublicKey(input) : input;
  } catch (error) {
    throw new GatewayError('CONFIG_INVALID', `The audit ${kind} key is not a valid PEM key.`, { cause: error });
  }
  if (key.asymmetricKeyType !== 'ed25519' || key.type !== kind) {
    throw new GatewayError('CONFIG_INVALID', `The audit ${kind} key must be an Ed25519 ${kind} key.`);
  }
  return key;
}

function headMessage(head: ChainHead): Buffer {
  return Buffer.from(`${HEAD_CONTEXT}${head.seq}:${head.hash}`, 'latin1');
}

/** Signs chain heads with an Ed25519 private key: base64url signatures. */
export function headSigner(privateKey: SigningKeyInput): (head: ChainHead) => string {
  const key = asKey(privateKey, 'private');
  return (head) => sign(null, headMessage(head), key).toString('base64url');
}

/** Checks `head_sig` values with an Ed25519 public key (or the private key, whose public half is used). */
export function headVerifier(publicKey: SigningKeyInput): (head: ChainHead, signature: string) => boolean {
  const key = asKey(publicKey, 'public');
  return (head, signature) => {
    if (!/^[A-Za-z0-9_-]{86}$/.test(signature)) return false;
    return verify(null, headMessage(head), key, Buffer.from(signature, 'base64url'));
  };
}
