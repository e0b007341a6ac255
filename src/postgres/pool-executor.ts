import pg from 'pg';
import { GatewayError, isGatewayError } from '../errors.js';
import { cancelBackend } from './cancel.js';
import type { PostgresConnectorConfig } from './config.js';
import { describeServerError, localSettingsSql, type Executor, type QueryLimits } from './executor.js';
import { ReadOnlyQuery, type QueryResult } from './read-only-query.js';

/**
 * The envelope on a `pg` Pool: one round trip per query (see {@link ReadOnlyQuery}); on
 * timeout or abort the backend query is cancelled and the connection discarded.
 */
export function createPoolExecutor(options: PostgresConnectorConfig, deps: { pool?: pg.Pool; warn: (message: string) => void }): Executor {
  const warn = deps.warn;
  const ownPool = deps.pool === undefined;
  const pool =
    deps.pool ??
    new pg.Pool({ ...(options.connectionString === undefined ? {} : { connectionString: options.connectionString }), max: options.poolSize, allowExitOnIdle: true });
  // An idle client that errors (server restart) must not crash the host.
  pool.on('error', () => undefined);
  const settling = new Set<Promise<void>>();
  let checkedRole = !options.warnIfSuperuser;

  async function run(sql: string, values: readonly unknown[], limits: QueryLimits, maxRows: number): Promise<QueryResult> {
    limits.signal?.throwIfAborted();
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (error) {
      throw new GatewayError('UPSTREAM_ERROR', 'Cannot connect to PostgreSQL.', { cause: error });
    }
    // A connection lost while checked out reports through the query; its 'error' event must not crash the host.
    const ignore = (): void => undefined;
    client.on('error', ignore);
    if (!checkedRole) {
      checkedRole = true;
      const role = await client.query<{ rolsuper: boolean }>('SELECT rolsuper FROM pg_roles WHERE rolname = current_user').catch(() => undefined);
      if (role?.rows[0]?.rolsuper === true) warn('connectors.postgres connects as a superuser: the read-only checks are defence in depth, the role should be the boundary. Use a role with SELECT only.');
    }
    const timeoutMs = Math.max(1, Math.floor(limits.timeoutMs));
    const target = client as unknown as { processID: number; secretKey: number; host: string; port: number };
    let overflowed: Promise<void> | undefined;
    const query = new ReadOnlyQuery({
      // set_config(…, true) is SET LOCAL; one statement for the four keeps the server's work small.
      setup: ['BEGIN TRANSACTION READ ONLY', localSettingsSql(options, timeoutMs)],
      sql,
      values,
      maxRows,
      maxBytes: limits.maxBytes,
      onOverflow: () => {
        // Rows are still coming: stop them on the server, and do not reuse a connection that a
        // late cancel could still hit.
        overflowed = cancelBackend(target);
      },
    });
    let stopped: GatewayError | undefined;
    let rejectStopped!: (reason: GatewayError) => void;
    const whenStopped = new Promise<never>((_, reject) => (rejectStopped = reject));
    whenStopped.catch(() => undefined);
    const stop = (reason: GatewayError): void => {
      if (stopped !== undefined) return;
      stopped = reason;
      rejectStopped(reason);
      // Cancel on the server (pg_sleep and friends stop now), then drop the connection.
      void cancelBackend(target).then(() => client.release(reason));
    };
    const onAbort = (): void => {
      const reason: unknown = limits.signal?.reason;
      stop(isGatewayError(reason) ? reason : new GatewayError('ABORTED', 'The query was aborted by the caller.', { cause: reason }));
    };
    const timer = setTimeout(() => stop(new GatewayError('TIMEOUT', `The query did not finish within ${timeoutMs} ms and was cancelled.`, { data: { timeoutMs } })), timeoutMs);
    if (limits.signal?.aborted === true) onAbort();
    else limits.signal?.addEventListener('abort', onAbort, { once: true });
    void client.query(query as unknown as pg.QueryConfig); // a Submittable: pg returns it, not a promise
    // Return the client to the pool once the server has rolled back, off the caller's path.
    const settle = Promise.race([query.done, whenStopped.catch(() => undefined)]).then(async () => {
      if (stopped !== undefined) return;
      if (overflowed !== undefined) {
        await overflowed;
        client.release(new Error('discarded after a cancel'));
        return;
      }
      if (query.failed) await client.query('ROLLBACK').catch(() => undefined);
      client.off('error', ignore);
      client.release();
    });
    settling.add(settle);
    void settle.finally(() => settling.delete(settle));
    try {
      return await Promise.race([query.result, whenStopped]);
    } catch (error) {
      if (stopped !== undefined) throw stopped;
      throw describeServerError(error);
    } finally {
      clearTimeout(timer);
      limits.signal?.removeEventListener('abort', onAbort);
    }
  }

  return {
    run,
    async close() {
      await Promise.all(settling);
      if (ownPool) await pool.end();
    },
  };
}
