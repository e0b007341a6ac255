import type pg from 'pg';
import { GatewayError } from '../errors.js';
import type { CredentialBackend, StoredRecord } from '../store/credential-store.js';
import type { KeyProvider } from '../store/keys.js';
import { seal, unseal } from '../store/seal.js';
import { checkSchema, migrate } from './migrate.js';

/** Options of {@link postgresCredentialStore}. */
export interface PostgresCredentialStoreOptions {
  pool: pg.Pool;
  /** The 256-bit key, which never goes to the database (the keychain, a key file, or yours). */
  key: KeyProvider | Uint8Array;
  schema?: string | undefined;
  /**
   * Where the cross-process payment locks hold their connections, for the whole payment.
   * @default a pool of its own with the options of `pool` (ended by `close()`): a lock held on a
   * connection of `pool` would starve the payment it guards of the connections it needs.
   */
  lockPool?: pg.Pool | undefined;
}

/** The shared credential store: the backend, and `close()` for the lock pool it made. */
export interface PostgresCredentialStore extends CredentialBackend {
  close(): Promise<void>;
}

/**
 * Paid credentials and pending payments in PostgreSQL, for a fleet: encrypted exactly as the
 * file store encrypts them (AES-256-GCM, id as associated data), so the database holds
 * ciphertext only and never the key. `withLock` takes a session advisory lock, so only one
 * process at a time pays for a scope and the others pick up its credential; a pending payment
 * written by one process can be resumed by another.
 *
 * @example
 * ```ts
 * const store = await postgresCredentialStore({ pool, key: keyFile('/etc/portcullis/store.key') });
 * const payer = createL402Payer({ fetch: gw.fetch, spend, wallet, store });
 * ```
 */
export async function postgresCredentialStore(options: PostgresCredentialStoreOptions): Promise<PostgresCredentialStore> {
  const schema = checkSchema(options.schema);
  const table = `${schema}.credentials`;
  const key = options.key instanceof Uint8Array ? options.key : await options.key.getKey();
  if (key.length !== 32) throw new GatewayError('CONFIG_INVALID', 'The credential store key must be 32 bytes.');
  await migrate(options.pool, schema, 'credentials', 1, [
    `CREATE TABLE IF NOT EXISTS ${table} (id text PRIMARY KEY, sealed bytea NOT NULL, updated_at timestamptz NOT NULL DEFAULT clock_timestamp())`,
  ]);
  // Made on the first payment lock, with the options (and the pg module) of the given pool.
  let ownLockPool: pg.Pool | undefined;
  const lockPool = (): pg.Pool => {
    if (options.lockPool !== undefined) return options.lockPool;
    if (ownLockPool === undefined) {
      const Pool = options.pool.constructor as new (config: pg.PoolConfig) => pg.Pool;
      ownLockPool = new Pool({ ...options.pool.options, allowExitOnIdle: true });
      ownLockPool.on('error', () => undefined); // an idle lock connection dropped: its lock went with it; the next one reconnects
    }
    return ownLockPool;
  };
  return {
    async close() {
      const made = ownLockPool;
      ownLockPool = undefined;
      await made?.end();
    },
    async put(id, record: StoredRecord) {
      await options.pool.query(
        `INSERT INTO ${table} (id, sealed) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET sealed = EXCLUDED.sealed, updated_at = clock_timestamp()`,
        [id, seal(key, id, record)],
      );
    },
    async get(id) {
      const { rows } = await options.pool.query<{ sealed: Buffer }>(`SELECT sealed FROM ${table} WHERE id = $1`, [id]);
      const row = rows[0];
      return row === undefined ? undefined : unseal(key, id, row.sealed, 'the row');
    },
    async delete(id) {
      await options.pool.query(`DELETE FROM ${table} WHERE id = $1`, [id]);
    },
    async withLock(lockKey, work) {
      // A session lock on a connection of its own, from the lock pool: held across the whole
      // payment (whose ledger and store queries use the main pool, so locks held on every
      // connection cannot starve them), released even when the work throws, and by the server
      // if this process dies.
      const client = await lockPool().connect();
      try {
        await client.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [`portcullis-cred:${lockKey}`]);
        try {
          return await work();
        } finally {
          await client.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [`portcullis-cred:${lockKey}`]);
        }
      } finally {
        client.release();
      }
    },
  };
}
