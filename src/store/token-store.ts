import { GatewayError } from '../errors.js';
import type { CredentialBackend } from './credential-store.js';

/** One ecash proof as stored: plain JSON, the amount in the keyset's unit. */
export interface StoredProof {
  id: string;
  amount: number;
  secret: string;
  C: string;
  dleq?: { s: string; e: string; r?: string | undefined } | undefined;
}

/** A proof of the wallet; `op` is set while an operation holds it (it is not spendable then). */
export interface BookEntry {
  proof: StoredProof;
  op?: string | undefined;
}

/** A blinded output kept until the mint's signature is in: `OutputData.serialize` of cashu-ts. */
export type StoredOutput = Readonly<Record<string, unknown>>;

/**
 * An operation written down *before* its proofs leave the wallet, so that after a crash or an
 * unclear answer `reconcile` can ask the mint what happened and finish it: nothing is lost and
 * nothing counted twice.
 */
export interface BookOp {
  id: string;
  /** `swap`: our proofs for new ones; `receive`: someone's token for ours; `melt`: proofs for a Lightning payment; `sent`: a token handed to a payee. */
  kind: 'swap' | 'receive' | 'melt' | 'sent';
  createdAtMs: number;
  amountSat: number;
  /** Secrets of the proofs going in (for `receive`, the incoming token's proofs, kept whole). */
  inputs: string[];
  /** Incoming proofs of a `receive` (they are not in the book). */
  incoming?: StoredProof[] | undefined;
  /** Blinded outputs the mint signs: new proofs, change. */
  outputs?: StoredOutput[] | undefined;
  /** For `sent`: the token went with a request whose answer decides (NUT-24), so reconcile() takes it back unless redeemed. */
  reclaimOnReconcile?: boolean | undefined;
  /** Melt quote id and the invoice's payment hash. */
  quote?: string | undefined;
  paymentHash?: string | undefined;
}

/** Everything the wallet holds at one mint. */
export interface Book {
  proofs: BookEntry[];
  ops: BookOp[];
}

/** Where ecash proofs live: one encrypted record per mint in a credential backend. */
export interface TokenStore {
  /** A copy of the mint's book. */
  read(mintUrl: string): Promise<Book>;
  /**
   * Runs `change` on the mint's book and writes it back durably before resolving. Updates of one
   * mint are serialised (in this process, and across processes when the backend can lock).
   */
  update<T>(mintUrl: string, change: (book: Book) => T | Promise<T>): Promise<T>;
}

/** One record per mint and unit (this wallet holds `sat` only). */
const recordId = (mintUrl: string, unit = 'sat'): string => `cashu:v1:${mintUrl}:${unit}`;

interface PendingChange {
  change: (book: Book) => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * Opens the token store on a credential backend (the encrypted file store or the shared one):
 * proofs are encrypted at rest like every credential, and each write replaces the mint's book
 * atomically, so a crash leaves the book before or after an update, never half of one.
 *
 * Updates of one mint are group-committed: the changes queued while a write is under way are
 * applied in order to one copy of the book and written together, and each caller is answered
 * only once its change is durable. A change that throws leaves the book as it was.
 */
export function createTokenStore(backend: CredentialBackend): TokenStore {
  const queues = new Map<string, PendingChange[]>();

  const load = async (mintUrl: string): Promise<Book> => {
    const record = await backend.get(recordId(mintUrl));
    if (record === undefined) return { proofs: [], ops: [] };
    try {
      const book = JSON.parse(String(record.book)) as Book;
      if (!Array.isArray(book.proofs) || !Array.isArray(book.ops)) throw new TypeError('not a book');
      return book;
    } catch (error) {
      // Never treat an unreadable book as empty: that would forget money.
      throw new GatewayError('DECRYPT_FAILED', `The ecash record of ${mintUrl} is unreadable; it was kept as it is.`, { cause: error });
    }
  };

  /** Applies one batch of changes and writes the book once; answers each caller. */
  const commit = async (mintUrl: string, batch: PendingChange[]): Promise<void> => {
    const applied: { item: PendingChange; result: unknown }[] = [];
    const run = async (): Promise<void> => {
      let book = await load(mintUrl);
      for (const item of batch) {
        const draft = structuredClone(book);
        try {
          const result = await item.change(draft);
          book = draft;
          applied.push({ item, result });
        } catch (error) {
          item.reject(error);
        }
      }
      if (applied.length > 0) await backend.put(recordId(mintUrl), { book: JSON.stringify(book) });
    };
    try {
      await (backend.withLock === undefined ? run() : backend.withLock(`cashu:${mintUrl}`, run));
    } catch (error) {
      // Not written: none of the changes happened (a change already answered stays answered).
      for (const item of batch) item.reject(error);
      return;
    }
    for (const { item, result } of applied) item.resolve(result);
  };

  const drain = async (mintUrl: string, queue: PendingChange[]): Promise<void> => {
    while (queue.length > 0) await commit(mintUrl, queue.splice(0));
    queues.delete(mintUrl);
  };

  return {
    read: load,
    update<T>(mintUrl: string, change: (book: Book) => T | Promise<T>): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        const queue = queues.get(mintUrl);
        const item: PendingChange = { change, resolve: resolve as (value: unknown) => void, reject };
        if (queue !== undefined) {
          queue.push(item);
          return;
        }
        const fresh = [item];
        queues.set(mintUrl, fresh);
        void drain(mintUrl, fresh);
      });
    },
  };
}
