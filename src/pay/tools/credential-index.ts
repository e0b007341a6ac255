import type { CredentialBackend, StoredRecord } from '../../store/credential-store.js';

/** What `pay.credentials` shows of a stored credential: never its token, macaroon or preimage. */
export interface CredentialSummary {
  /** The endpoint it was bought at (canonical origin and path); it is also tried under its directory. */
  endpoint: string;
  scheme: string;
  paymentHash: string | null;
  /** From the macaroon's expiry caveat, ISO 8601; `null` when it has none. */
  expiresAt: string | null;
  expired: boolean;
}

/** A payment whose outcome is unknown (kept until `pay.resume`). */
export interface PendingSummary {
  url: string;
  paymentHash: string | null;
  amountSats: number | null;
}

/** The ids a credential backend holds, kept beside it (the file store names files by hash and cannot list them). */
export interface CredentialIndex {
  /** The backend to hand the payer: it records what the payer puts and deletes. */
  readonly backend: CredentialBackend;
  list(nowMs: number): Promise<{ credentials: CredentialSummary[]; pending: PendingSummary[] }>;
}

/** The record holding the index: ids only (endpoints, payment hashes), no secret. */
const INDEX_ID = 'portcullis:credential-index';
const LISTED = /^(l402-at|pending):/;
/** Ids listed at most; past it the oldest are dropped from the listing (the credentials stay). */
const MAX_LISTED = 10_000;

/**
 * Wraps the payer's credential backend so its credentials can be listed: the ids of exact
 * endpoints and pending payments go into one index record in the same (encrypted) backend.
 * Without a backend, nothing is stored and the index lives in memory, as the credentials do.
 */
export function credentialIndex(inner: CredentialBackend | undefined): CredentialIndex {
  const memory = new Map<string, StoredRecord>(); // without a backend: the non-secret fields only
  let ids: Set<string> | undefined;
  let chain: Promise<unknown> = Promise.resolve();

  async function load(): Promise<Set<string>> {
    if (ids !== undefined) return ids;
    const record = inner === undefined ? undefined : await inner.get(INDEX_ID).catch(() => undefined);
    let parsed: unknown;
    try {
      parsed = typeof record?.ids === 'string' ? JSON.parse(record.ids) : [];
    } catch {
      parsed = []; // a damaged index lists nothing; the credentials themselves are untouched
    }
    ids = new Set(Array.isArray(parsed) ? parsed.filter((id): id is string => typeof id === 'string') : []);
    return ids;
  }

  /** Updates run one after another, so concurrent payments never lose an id. */
  function update(change: (set: Set<string>) => void): Promise<void> {
    const next = chain.then(async () => {
      const set = await load();
      change(set);
      while (set.size > MAX_LISTED) set.delete(set.values().next().value as string);
      await inner?.put(INDEX_ID, { ids: JSON.stringify([...set]) });
    });
    chain = next.catch(() => undefined);
    return next;
  }

  const backend: CredentialBackend = {
    async put(id, record) {
      if (inner !== undefined) await inner.put(id, record);
      if (!LISTED.test(id)) return;
      if (inner === undefined) memory.set(id, redacted(record));
      // The credential is stored; a failure to index it only hides it from the listing.
      await update((set) => set.add(id)).catch(() => undefined);
    },
    get: (id) => (inner === undefined ? Promise.resolve(undefined) : inner.get(id)),
    async delete(id) {
      if (inner !== undefined) await inner.delete(id);
      if (!LISTED.test(id)) return;
      memory.delete(id);
      await update((set) => set.delete(id)).catch(() => undefined);
    },
    ...(inner?.withLock === undefined ? {} : { withLock: inner.withLock.bind(inner) }),
  };

  return {
    backend,
    async list(nowMs) {
      await chain;
      const credentials: CredentialSummary[] = [];
      const pending: PendingSummary[] = [];
      for (const id of await load()) {
        const record = inner === undefined ? memory.get(id) : await inner.get(id).catch(() => undefined);
        if (record === undefined) continue;
        if (id.startsWith('pending:')) {
          pending.push({ url: withoutQuery(String(record.url)), paymentHash: text(record.paymentHash), amountSats: typeof record.amountMsat === 'number' ? record.amountMsat / 1000 : null });
          continue;
        }
        const expiresAtMs = typeof record.expiresAtMs === 'number' ? record.expiresAtMs : undefined;
        credentials.push({
          endpoint: id.slice('l402-at:'.length),
          scheme: text(record.scheme) ?? 'L402',
          paymentHash: text(record.paymentHash),
          expiresAt: expiresAtMs === undefined ? null : new Date(expiresAtMs).toISOString(),
          expired: expiresAtMs !== undefined && expiresAtMs <= nowMs,
        });
      }
      return { credentials, pending };
    },
  };
}

/** Only the fields a listing shows, so that without a backend no secret is held twice. */
function redacted(record: StoredRecord): StoredRecord {
  const { url = null, scheme = null, paymentHash = null, amountMsat = null, expiresAtMs = null } = record;
  return { url, scheme, paymentHash, amountMsat, expiresAtMs };
}

/** A URL without its query and fragment, which may carry keys. */
function withoutQuery(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname}`;
  } catch {
    return '';
  }
}

function text(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}
