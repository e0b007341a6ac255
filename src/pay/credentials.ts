import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { Headers } from 'undici';
import type { GuardedRequestInit } from '../net/fetch.js';
import type { CredentialBackend, StoredRecord } from '../store/credential-store.js';
import { normalisePreimage } from '../store/validate.js';
import type { Invoice } from './bolt11.js';
import { readMacaroon } from './macaroon.js';
import type { Offer } from './offers.js';
import { canonicalOrigin } from './origin.js';
import { paymentAuthorization } from './payment-scheme.js';

/**
 * A paid credential, as sent back: `Authorization: <scheme> <token>:<preimage>` for L402 and
 * LSAT, or the prepared `header` for the `Payment` scheme (single use: never cached).
 */
export interface L402Credential {
  /** The scheme the server challenged with. */
  scheme: 'L402' | 'LSAT' | 'Payment';
  token: string;
  /** The whole Authorization value, when the scheme does not follow the L402 form. */
  header?: string | undefined;
  preimage: string;
  paymentHash: string;
  /** From a readable macaroon expiry caveat, in ms since the epoch. */
  expiresAtMs?: number | undefined;
}

/**
 * The `Authorization` value that presents a credential: `L402 <token>:<preimage>` (or LSAT), or
 * a `Payment` credential's prepared header. Use it with the `credential` of a
 * `PAID_BUT_REJECTED` or paid-then-failed error to retry by hand without paying again.
 *
 * @example
 * ```ts
 * headers.set('authorization', authorization(error.credential));
 * ```
 */
export function authorization(credential: L402Credential): string {
  return credential.header ?? `${credential.scheme} ${credential.token}:${credential.preimage}`;
}

/** What a paid credential is made of: the challenge's scheme, token (and Payment params) and the invoice's hash. */
export type ProofOffer = Pick<Offer, 'scheme' | 'token'> & { invoice: Pick<Invoice, 'paymentHash'>; challengeParams?: Readonly<Record<string, string>> | undefined };

/** The credential `preimage` proves was paid for, or `undefined` when it does not hash to the invoice's payment hash. */
export function provenCredential(offer: ProofOffer, preimage: string): L402Credential | undefined {
  let normal: string;
  try {
    normal = normalisePreimage(preimage);
  } catch {
    return undefined;
  }
  if (bytesToHex(sha256(hexToBytes(normal))) !== offer.invoice.paymentHash) return undefined;
  const header = offer.scheme === 'Payment' && offer.challengeParams !== undefined ? paymentAuthorization(offer.challengeParams, normal) : undefined;
  return {
    scheme: offer.scheme,
    token: offer.token,
    header,
    preimage: normal,
    paymentHash: offer.invoice.paymentHash,
    expiresAtMs: offer.scheme === 'Payment' ? undefined : readMacaroon(offer.token)?.expiresAtMs,
  };
}

/** The request's headers as a plain record, with the credential's Authorization. */
export function withAuthorization(init: GuardedRequestInit, credential: L402Credential): Record<string, string> {
  // The usual call has no headers of its own: no Headers object to build and copy.
  if (init.headers === undefined) return { authorization: authorization(credential) };
  const headers = new Headers(init.headers);
  headers.set('authorization', authorization(credential));
  return Object.fromEntries(headers);
}

/** Reads and drops a 402's (small) body, so its connection can be reused. */
export async function drain(response: Response): Promise<void> {
  await response.arrayBuffer().catch(() => undefined);
}

/** The directory of a path: `/paid/a` → `/paid/`. */
function directoryOf(pathname: string): string {
  return pathname.slice(0, pathname.lastIndexOf('/') + 1) || '/';
}

/**
 * Where a credential bought at `url` is kept: the exact endpoint (canonical origin and path) it
 * was bought at, and the directory under which it is tried for other endpoints (`/paid/a` →
 * `/paid/`; a top-level `/v1` → `/v1/`, so that only one bought at `/` is tried origin-wide).
 */
export function scopeOf(url: URL, origin = canonicalOrigin(url)): { endpoint: string; scope: string } {
  const directory = directoryOf(url.pathname);
  // Bought at a top-level path (`/v1`): tried under `/v1/`, not for the whole origin.
  const scope = directory === '/' && url.pathname !== '/' ? `${url.pathname}/` : directory;
  return { endpoint: `${origin}${url.pathname}`, scope: `${origin}${scope}` };
}

/** Store and memory keys: `l402-at:` an exact endpoint, `l402:` a directory prefix. */
const exactKey = (endpoint: string): string => `l402-at:${endpoint}`;
const prefixKey = (scope: string): string => `l402:${scope}`;

/** The prefix keys tried for `url`, longest first: its directory, then each parent up to `/`. */
function prefixKeys(url: URL, origin: string): string[] {
  const keys: string[] = [];
  let dir = directoryOf(url.pathname);
  for (;;) {
    keys.push(prefixKey(`${origin}${dir}`));
    if (dir === '/' || keys.length > 32) break;
    dir = directoryOf(dir.slice(0, -1));
  }
  return keys;
}

/** A credential found for a request: `exact` when it was bought at this very endpoint. */
export interface FoundCredential {
  key: string;
  credential: L402Credential;
  exact: boolean;
}

/**
 * Paid credentials by endpoint, in memory and (when given) in the encrypted store, so a restart
 * does not pay again. A credential is tried at the endpoint it was bought for, and under its
 * directory (and the parents) for others; buying for another endpoint adds a credential, it
 * never evicts one. Reading never rewrites the store.
 */
export class CredentialCache {
  readonly #memory = new Map<string, L402Credential>();
  readonly #store: CredentialBackend | undefined;
  readonly #now: () => number;

  constructor(store: CredentialBackend | undefined, now: () => number) {
    this.#store = store;
    this.#now = now;
  }

  /**
   * The credential for `url`: the one bought at this endpoint, else the newest bought under its
   * directory or a parent; expired ones are dropped. With `exactOnly`, only the endpoint's own.
   * With `fresh`, the store is asked even when memory has nothing (another process may have paid).
   */
  async find(url: URL, options: { fresh?: boolean; exactOnly?: boolean; origin?: string } = {}): Promise<FoundCredential | undefined> {
    const origin = options.origin ?? canonicalOrigin(url);
    const exact = exactKey(scopeOf(url, origin).endpoint);
    // The usual case, a credential for this very endpoint in memory, without building the list.
    const held = options.fresh === true ? undefined : this.#memory.get(exact);
    if (held !== undefined && (held.expiresAtMs === undefined || held.expiresAtMs > this.#now())) return { key: exact, credential: held, exact: true };
    const keys = [exact, ...(options.exactOnly === true ? [] : prefixKeys(url, origin))];
    for (const [index, key] of keys.entries()) {
      const credential = (options.fresh === true ? undefined : this.#memory.get(key)) ?? (await this.#load(key));
      if (credential === undefined) continue;
      if (credential.expiresAtMs !== undefined && credential.expiresAtMs <= this.#now()) {
        await this.#evict(key);
        continue;
      }
      return { key, credential, exact: index === 0 };
    }
    return undefined;
  }

  async #load(key: string): Promise<L402Credential | undefined> {
    const record = await this.#store?.get(key);
    if (record === undefined) return undefined;
    const credential: L402Credential = {
      scheme: record.scheme === 'LSAT' ? 'LSAT' : 'L402',
      token: String(record.token),
      preimage: String(record.preimage),
      paymentHash: String(record.paymentHash),
      expiresAtMs: typeof record.expiresAtMs === 'number' ? record.expiresAtMs : undefined,
    };
    this.#memory.set(key, credential);
    return credential;
  }

  /**
   * Keeps a new credential for its endpoint and as the newest of its directory, in memory
   * first (so a failing store never loses a paid credential for this process), then in the store.
   */
  async save(url: URL, credential: L402Credential): Promise<void> {
    if (credential.scheme === 'Payment') return; // bound to one challenge, consumed on first use
    const { endpoint, scope } = scopeOf(url);
    const keys = [exactKey(endpoint), prefixKey(scope)];
    for (const key of keys) this.#memory.set(key, credential);
    const record: StoredRecord = {
      scheme: credential.scheme,
      token: credential.token,
      preimage: credential.preimage,
      paymentHash: credential.paymentHash,
      expiresAtMs: credential.expiresAtMs ?? null,
    };
    for (const key of keys) await this.#store?.put(key, record);
  }

  async #evict(key: string): Promise<void> {
    this.#memory.delete(key);
    await this.#store?.delete(key);
  }

  /** Forgets a credential a server refused at `url`: wherever `url` would find it, and no other. */
  async evictCredential(url: URL, credential: L402Credential): Promise<void> {
    const origin = canonicalOrigin(url);
    for (const key of [exactKey(scopeOf(url, origin).endpoint), ...prefixKeys(url, origin)]) {
      const held = this.#memory.get(key) ?? (await this.#load(key));
      if (held?.token === credential.token) await this.#evict(key);
    }
  }
}
