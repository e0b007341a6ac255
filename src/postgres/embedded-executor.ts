import { GatewayError } from '../errors.js';
import type { PostgresConnectorConfig } from './config.js';
import { describeServerError, localSettingsSql, type Executor, type QueryLimits } from './executor.js';
import { typeName, type Column, type QueryResult } from './read-only-query.js';

/** The part of PGlite the connector uses (so a host can pass its own, seeded instance). */
export interface EmbeddedDatabase {
  exec(sql: string): Promise<unknown>;
  query<T>(sql: string, params?: unknown[]): Promise<{ rows: T[]; fields: { name: string; dataTypeID: number }[] }>;
  close(): Promise<void>;
}

/**
 * The envelope on PGlite, an in-process PostgreSQL (WebAssembly): for demos and for users
 * without a server. A convenience, **not a security boundary**: it has no roles or
 * authentication, ignores `statement_timeout`, cannot cancel a running query, and runs on the
 * host's thread. The same validation, read-only transaction, single-statement extended-protocol
 * query and ROLLBACK still apply; the row and byte limits are applied as rows are read.
 */
export async function createEmbeddedExecutor(options: PostgresConnectorConfig, given?: EmbeddedDatabase): Promise<Executor> {
  let db = given;
  if (db === undefined) {
    try {
      const { PGlite } = await import('@electric-sql/pglite');
      db = await PGlite.create();
    } catch (error) {
      throw new GatewayError('CONFIG_INVALID', 'connectors.postgres.embedded needs the optional package @electric-sql/pglite: npm install @electric-sql/pglite', {
        cause: error,
      });
    }
  }
  const database = db;
  // One connection: queries take turns.
  let queue: Promise<unknown> = Promise.resolve();

  async function runOne(sql: string, values: readonly unknown[], limits: QueryLimits, maxRows: number): Promise<QueryResult> {
    limits.signal?.throwIfAborted();
    await database.exec(`BEGIN TRANSACTION READ ONLY; ${localSettingsSql(options, limits.timeoutMs)}`);
    try {
      const result = await database.query<Record<string, unknown>>(sql, [...values]);
      const rows: Record<string, unknown>[] = [];
      let bytes = 0;
      let truncated = false;
      for (const row of result.rows) {
        if (rows.length >= maxRows || bytes >= limits.maxBytes) {
          truncated = true;
          break;
        }
        bytes += JSON.stringify(row).length;
        rows.push(row);
      }
      const columns: Column[] = result.fields.map((field) => ({ name: field.name, type: typeName(field.dataTypeID) }));
      return { columns, rows, rowCount: rows.length, truncated };
    } catch (error) {
      throw describeServerError(error);
    } finally {
      await database.exec('ROLLBACK');
    }
  }

  return {
    run(sql, values, limits, maxRows) {
      const next = queue.then(() => runOne(sql, values, limits, maxRows));
      queue = next.catch(() => undefined);
      return next;
    },
    async close() {
      await queue;
      if (given === undefined) await database.close();
    },
  };
}
