import type { AuditSink } from '../audit/record.js';
import type { ResolvedConfig } from '../config.js';
import { GatewayError, isGatewayError } from '../errors.js';
import type { RateLimitStore } from '../policy/rate-limit.js';
import type { CredentialBackend } from '../store/credential-store.js';
import type { KeyProvider } from '../store/keys.js';
import { postgresAuditSink } from './audit-sink.js';
import { postgresCredentialStore, type PostgresCredentialStore } from './credential-store.js';
import { postgresRateLimitStore } from './rate-limit-store.js';
import { postgresSpendLedger, type PostgresSpendLedger } from './spend-ledger.js';

/** What `createGateway` keeps on PostgreSQL with `sharedState`. */
export interface GatewaySharedState {
  readonly spend: PostgresSpendLedger;
  readonly credentials: CredentialBackend;
  readonly rateLimitStore: RateLimitStore;
  readonly auditSink: AuditSink;
  /** Closes the ledger; ends the pool only when it was made here (from `connectionString`). */
  close(): Promise<void>;
}

/** The record that ties the fleet's credentials to one key: it decrypts only with that key. */
const KEY_CHECK_ID = 'portcullis:key-check';

/**
 * Opens the shared state of a gateway: the key first (a missing one fails before anything is
 * written), then the pool, then each component's tables (each migrated once, here, under the
 * migration advisory lock), then a check that this key is the one the fleet's credentials use.
 *
 * @throws GatewayError `CONFIG_INVALID` without a key provider, with a key that is missing,
 *   malformed or not the fleet's, with `payments.credentialStoreDir` also set, or when the
 *   database cannot be reached or migrated.
 */
export async function openGatewaySharedState(
  config: NonNullable<ResolvedConfig['sharedState']>,
  payments: ResolvedConfig['payments'],
  deps: { keyProvider?: KeyProvider | undefined; warn: (message: string) => void },
): Promise<GatewaySharedState> {
  if (payments.credentialStoreDir !== undefined) {
    throw new GatewayError('CONFIG_INVALID', 'payments.credentialStoreDir and sharedState are both set: with sharedState, credentials live in PostgreSQL; remove credentialStoreDir.');
  }
  if (deps.keyProvider === undefined) {
    throw new GatewayError(
      'CONFIG_INVALID',
      'sharedState needs deps.keyProvider (keyFile(path), envKey() or injectedKey(key)): every process of a fleet must use the same credential key, so none is made on this machine.',
    );
  }
  const key = await deps.keyProvider.getKey({ create: false });
  if (!(key instanceof Uint8Array) || key.length !== 32) {
    throw new GatewayError('CONFIG_INVALID', `The credential key from ${deps.keyProvider.description} is not 32 bytes.`);
  }
  const made = config.pool === undefined;
  let pool = config.pool;
  if (pool === undefined) {
    const { default: pgModule } = await import('pg');
    pool = new pgModule.Pool({ connectionString: config.connectionString });
    // An idle connection the server dropped: the next query reconnects; never crash the host.
    pool.on('error', (error) => deps.warn(`sharedState: an idle PostgreSQL connection failed (${error.message}).`));
  }
  const { schema, owner } = config;
  let spend: PostgresSpendLedger | undefined;
  let opened: PostgresCredentialStore | undefined;
  try {
    const credentials = await postgresCredentialStore({ pool, key, schema });
    opened = credentials;
    await checkFleetKey(credentials, deps.keyProvider.description);
    spend = await postgresSpendLedger({
      pool,
      schema,
      owner,
      maxAutoPaySats: payments.maxAutoPaySats,
      maxSpendPerMinuteSats: payments.maxSpendPerMinuteSats,
      maxSpendPerOriginPerMinuteSats: payments.maxSpendPerOriginPerMinuteSats,
      maxSpendPerActorPerMinuteSats: payments.maxSpendPerActorPerMinuteSats,
      maxSpendPerDaySats: payments.maxSpendPerDaySats,
    });
    const rateLimitStore = await postgresRateLimitStore({ pool, ...(schema === undefined ? {} : { schema }), ...(owner === undefined ? {} : { namespace: owner }) });
    const auditSink = postgresAuditSink({ pool, schema, stream: config.auditStream });
    const ledger = spend;
    let closing: Promise<void> | undefined;
    return {
      spend: ledger,
      credentials,
      rateLimitStore,
      auditSink,
      close: () =>
        (closing ??= (async () => {
          await ledger.close();
          await credentials.close();
          if (made) await pool.end();
        })()),
    };
  } catch (error) {
    await spend?.close().catch(() => undefined);
    await opened?.close().catch(() => undefined);
    if (made) await pool.end().catch(() => undefined);
    if (isGatewayError(error)) throw error;
    throw new GatewayError('CONFIG_INVALID', `Cannot open the shared state: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * The first process writes a record sealed with its key; every later one must decrypt it.
 * Under the backend's cross-process lock, so two machines starting together with different
 * keys cannot both write it.
 */
async function checkFleetKey(credentials: CredentialBackend, description: string): Promise<void> {
  const check = async (): Promise<void> => {
    let found;
    try {
      found = await credentials.get(KEY_CHECK_ID);
    } catch (error) {
      if (isGatewayError(error) && error.code === 'DECRYPT_FAILED') {
        throw new GatewayError('CONFIG_INVALID', `The credential key from ${description} is not the key this fleet's credentials were written with.`);
      }
      throw error;
    }
    if (found === undefined) await credentials.put(KEY_CHECK_ID, { purpose: 'key-check' });
  };
  await (credentials.withLock === undefined ? check() : credentials.withLock(KEY_CHECK_ID, check));
}
