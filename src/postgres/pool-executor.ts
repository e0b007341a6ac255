import pg from 'pg';
import { GatewayError, isGatewayError } from '../errors.js';
import { cancelBackend } from './cancel.js';
import type { PostgresConnectorConfig } from './config.js';
import { callerAbort, localSettingsSql, type Executor, type QueryLimits, type RunOptions } from './executor.js';
import { inspectServer, type ServerInspection } from './inspect.js';
import { ReadOnlyQuery, type QueryResult } from './read-only-query.js';
import { describeServerError } from './server-error.js';

/**
 * The envelope on a `pg` Pool: one round trip per query (see {@link ReadOnlyQuery}); on
 * timeout or abort the backend query is cancelled and the connection discarded; so is a
 * connection whose result outgrew `maxBytes` (cut at the socket) or that was lost.
 *
 * At the first connection the server is inspected ({@link inspectServer}): a superuser role and
 * searchPath schemas others may write to are warned about; functions, operators or types in the
 * searchPath that shadow `pg_catalog` ones make every call fail with `CONFIG_INVALID` (the
 * connector refuses to start) until they are dropped and the connector is created again.
 *
 * After each query, in the same round trip: `DISCARD ALL` on the connector's own pool (session
 * advisory locks and prepared statements survive a ROLLBACK); on a pool the host passed in,
 * whose sessions may hold the host's own prepared statements, `pg_advisory_unlock_all()` only.
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
  // What a query can leave on its session past the ROLLBACK of a read-only transaction:
  // session advisory locks, prepared statements (settings, temporary tables, LISTEN, cursors are
  // transactional). DISCARD ALL clears all of it; measured on bench/postgres.ts's query it costs about
  // what pg_advisory_unlock_all() + DEALLOCATE ALL do (0.61x vs 0.60x of raw pool.query on a
  // loaded machine, 0.66x with no clean-up). A host pool keeps its own prepared statements and
  // session settings (pg caches statements per connection): there, the unlock only.
  const teardown = ownPool ? ['DISCARD ALL'] : ['SELECT pg_catalog.pg_advisory_unlock_all()'];
  let inspection: Promise<ServerInspection> | undefined;
  let refusal: GatewayError | undefined;

  /** The first connection's inspection, once; a failed one (connection lost) is tried again next time. */
  function inspect(client: pg.PoolClient): Promise<ServerInspection> {
    inspection ??= inspectServer(client, options).then(
      (found) => {
        if (found.superuser && options.warnIfSuperuser) {
          warn('connectors.postgres connects as a superuser: the read-only checks are defence in depth, the role should be the boundary. Use a role with SELECT only.');
        }
        if (found.writableSchemas.length > 0) {
          warn(
            `connectors.postgres: roles other than the owner may create objects in searchPath schemas (${found.writableSchemas.join(', ')}): ` +
              'a look-alike function or operator created there later would be picked over the built-in. REVOKE CREATE ON SCHEMA … FROM PUBLIC (and from those roles).',
          );
        }
        if (options.tempFileLimitKb !== undefined && !found.maySetTempFileLimit) {
          warn('connectors.postgres.tempFileLimitKb is not applied: only a superuser may set temp_file_limit. Set it on the role instead: ALTER ROLE … SET temp_file_limit = …');
        }
        if (found.shadows.length > 0) {
          refusal = new GatewayError(
            'CONFIG_INVALID',
            `connectors.postgres refuses to run queries: the searchPath schemas hold look-alikes of built-ins that would be picked over them, or functions the role may call as x.f (${found.shadows.slice(0, 10).join('; ')}${found.shadows.length > 10 ? '; …' : ''}). Drop them, move them out of the searchPath, REVOKE EXECUTE on them from the role (and PUBLIC), or list the safe ones in allowFunctions; then create the connector again.`,
            { data: { shadows: found.shadows.slice(0, 100) } },
          );
          warn(refusal.message);
        }
        return found;
      },
      (error: unknown) => {
        inspection = undefined;
        throw error;
      },
    );
    return inspection;
  }

  async function run(sql: string, values: readonly unknown[], limits: QueryLimits, maxRows: number, runOptions: RunOptions = {}): Promise<QueryResult> {
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
    let found: ServerInspection;
    try {
      found = await inspect(client);
    } catch (error) {
      client.release(error instanceof Error ? error : new Error('inspection failed'));
      throw new GatewayError('UPSTREAM_ERROR', 'Cannot inspect the PostgreSQL server at the first connection.', { cause: error });
    }
    if (refusal !== undefined) {
      client.off('error', ignore);
      client.release();
      throw refusal;
    }
    const timeoutMs = Math.max(1, Math.floor(limits.timeoutMs));
    const target = client as unknown as { processID: number; secretKey: number; host: string; port: number };
    let overflowed: Promise<void> | undefined;
    const query = new ReadOnlyQuery({
      // set_config(…, true) is SET LOCAL; one statement for the four keeps the server's work small.
      setup: [
        'BEGIN TRANSACTION READ ONLY',
        localSettingsSql(options, timeoutMs, {
          searchPath: runOptions.catalogOnly === true ? ['pg_catalog'] : undefined,
          tempFileLimitKb: found.maySetTempFileLimit ? options.tempFileLimitKb : undefined,
        }),
      ],
      teardown,
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
    // The clean-up after an error can overlap a timeout or an abort: the client goes back once.
    let released = false;
    const release = (error?: Error): void => {
      if (released) return;
      released = true;
      client.release(error);
    };
    let stopped: GatewayError | undefined;
    let rejectStopped!: (reason: GatewayError) => void;
    const whenStopped = new Promise<never>((_, reject) => (rejectStopped = reject));
    whenStopped.catch(() => undefined);
    const stop = (reason: GatewayError): void => {
      if (stopped !== undefined) return;
      stopped = reason;
      rejectStopped(reason);
      // Cancel on the server (pg_sleep and friends stop now), then drop the connection.
      void cancelBackend(target).then(() => release(reason));
    };
    const onAbort = (): void => {
      const reason: unknown = limits.signal?.reason;
      stop(callerAbort(reason));
    };
    const timer = setTimeout(() => stop(new GatewayError('TIMEOUT', `The query did not finish within ${timeoutMs} ms and was cancelled.`, { data: { timeoutMs } })), timeoutMs);
    if (limits.signal?.aborted === true) onAbort();
    else limits.signal?.addEventListener('abort', onAbort, { once: true });
    void client.query(query as unknown as pg.QueryConfig); // a Submittable: pg returns it, not a promise
    // Return the client to the pool once the server has rolled back, off the caller's path.
    const settle = Promise.race([query.done, whenStopped.catch(() => undefined)]).then(async () => {
      if (stopped !== undefined) return;
      if (overflowed !== undefined || query.connectionLost) {
        await overflowed;
        release(new Error('discarded after a cancel'));
        return;
      }
      if (query.failed) {
        // The error made the server skip the ROLLBACK and the clean-up: run them now.
        try {
          await client.query('ROLLBACK');
          for (const text of teardown) await client.query(text);
        } catch (error) {
          release(error instanceof Error ? error : new Error('clean-up failed'));
          return;
        }
      }
      if (stopped !== undefined) return; // stopped during the clean-up: the stop discards the client
      client.off('error', ignore);
      release();
    });
    settling.add(settle);
    void settle.finally(() => settling.delete(settle));
    try {
      const result = await Promise.race([query.result, whenStopped]);
      // The answer waits for the session clean-up (ROLLBACK, DISCARD ALL: sent in the same
      // round trip, so this is the ReadyForQuery in the same packet), so that nothing the query
      // did to the session (an advisory lock) is still held when the caller gets it. A result
      // cut at maxBytes is answered at once: its connection is discarded.
      if (overflowed === undefined && !query.connectionLost) await Promise.race([query.done, whenStopped]);
      return result;
    } catch (error) {
      if (stopped !== undefined) throw stopped;
      // After a server error the clean-up runs as its own statements: wait for it too.
      if (query.failed && !query.connectionLost) await Promise.race([settle, whenStopped]).catch(() => undefined);
      const stoppedMeanwhile = stopped as GatewayError | undefined; // by the timeout or an abort, during the clean-up
      if (stoppedMeanwhile !== undefined) throw stoppedMeanwhile;
      if (isGatewayError(error)) throw error;
      throw describeServerError(error, warn);
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
