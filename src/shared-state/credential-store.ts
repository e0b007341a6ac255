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
export async function postgresCredentialStore(options: PostgresCredentialStoreOptions): Promise<CredentialBackend> {
  const schema = checkSchema(options.schema);
  const table = `${schema}.credentials`;
  const key = options.key instanceof Uint8Array ? options.key : await options.key.getKey();
  if (key.length !== 32) throw new GatewayError('CONFIG_INVALID', 'The credential store key must be 32 bytes.');
  await migrate(options.pool, schema, 'credentials', 1, [
    `CREATE TABLE IF NOT EXISTS ${table} (id text PRIMARY KEY, sealed bytea NOT NULL, updated_at timestamptz NOT NULL DEFAULT clock_timestamp())`,
  ]);
  return {
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
      // A session lock on a connection of its own: held across the whole payment, released
      // even when the work throws, and by the server if this process dies.
      const client = await options.pool.connect();
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
