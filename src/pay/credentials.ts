import type { CredentialBackend, StoredRecord } from '../store/credential-store.js';

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

/** The header value that presents a credential. */
export function authorization(credential: L402Credential): string {
  return credential.header ?? `${credential.scheme} ${credential.token}:${credential.preimage}`;
}

/** The scope a credential is kept under: the origin and the directory of the path. */
export function scopeOf(url: URL): { scope: string; originWide: string } {
  const directory = url.pathname.slice(0, url.pathname.lastIndexOf('/') + 1) || '/';
  return { scope: `${url.origin}${directory}`, originWide: `${url.origin}/` };
}

/**
 * Paid credentials by scope, in memory and (when given) in the encrypted store, so a restart
 * does not pay again. Reading never rewrites the store.
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
   * The credential for `url`: its scope's, else the origin-wide one; expired ones are dropped.
   * With `fresh`, the store is asked even when memory has nothing (another process may have paid).
   */
  async find(url: URL, fresh = false): Promise<{ key: string; credential: L402Credential } | undefined> {
    const { scope, originWide } = scopeOf(url);
    for (const key of scope === originWide ? [scope] : [scope, originWide]) {
      const credential = (fresh ? undefined : this.#memory.get(key)) ?? (await this.#load(key));
      if (credential === undefined) continue;
      if (credential.expiresAtMs !== undefined && credential.expiresAtMs <= this.#now()) {
        await this.evict(key);
        continue;
      }
      return { key, credential };
    }
    return undefined;
  }

  async #load(key: string): Promise<L402Credential | undefined> {
    const record = await this.#store?.get(`l402:${key}`);
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

  /** Keeps a new credential for its scope and as the origin-wide fallback. */
  async save(url: URL, credential: L402Credential): Promise<void> {
    if (credential.scheme === 'Payment') return; // bound to one challenge, consumed on first use
    const { scope, originWide } = scopeOf(url);
    const record: StoredRecord = {
      scheme: credential.scheme,
      token: credential.token,
      preimage: credential.preimage,
      paymentHash: credential.paymentHash,
      expiresAtMs: credential.expiresAtMs ?? null,
    };
    for (const key of new Set([scope, originWide])) {
      this.#memory.set(key, credential);
      await this.#store?.put(`l402:${key}`, record);
    }
  }

  /** Forgets one entry. */
  async evict(key: string): Promise<void> {
    this.#memory.delete(key);
    await this.#store?.delete(`l402:${key}`);
  }

  /** Forgets a credential a server refused, under `url`'s scope and origin-wide, and no other. */
  async evictCredential(url: URL, credential: L402Credential): Promise<void> {
    const { scope, originWide } = scopeOf(url);
    for (const key of new Set([scope, originWide])) {
      const held = this.#memory.get(key) ?? (await this.#load(key));
      if (held?.token === credential.token) await this.evict(key);
    }
  }
}
