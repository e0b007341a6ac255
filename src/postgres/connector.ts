import pg from 'pg';
import { z } from 'zod';
import { GatewayError, isGatewayError } from '../errors.js';
import { defineTool, type ToolDefinition } from '../tools.js';
import { cancelBackend } from './cancel.js';
import { postgresConnectorSchema, type PostgresConnectorConfig } from './config.js';
import { ReadOnlyQuery, type QueryResult } from './read-only-query.js';
import { loadParser, MAX_SQL_LENGTH, validateSqlSync, type SqlVerdict, type ValidateSqlOptions } from './validate.js';

/** Limits of one query. */
export interface QueryLimits {
  /** `statement_timeout`, and the moment the query is cancelled, in ms. */
  timeoutMs: number;
  /** Bytes of row data kept at most. */
  maxBytes: number;
  signal?: AbortSignal | undefined;
}

/** The read-only PostgreSQL connector, usable on its own. */
export interface Postgres {
  /**
   * Validates and runs one SELECT in the read-only envelope.
   *
   * @throws GatewayError `SQL_NOT_ALLOWED` (nothing reaches the server), `TIMEOUT`, `ABORTED`, `UPSTREAM_ERROR`.
   */
  query(args: { sql: string; params?: readonly Param[] | undefined }, limits: QueryLimits): Promise<QueryResult>;
  /** Tables and columns the connector may read. */
  schema(args: { schema?: string | undefined; table?: string | undefined }, limits: QueryLimits): Promise<SchemaResult>;
  /** The `db.query` and `db.schema` tools. */
  tools(): ToolDefinition[];
  close(): Promise<void>;
}

export type Param = string | number | boolean | null | readonly (string | number | boolean | null)[];

/** What `db.schema` returns. */
export interface SchemaResult {
  tables: { schema: string; table: string; columns: { name: string; type: string; nullable: boolean }[] }[];
}

const paramSchema = z.union([z.string().max(65_536), z.number(), z.boolean(), z.null(), z.array(z.union([z.string().max(65_536), z.number(), z.boolean(), z.null()])).max(10_000)]);

// Our own catalogue query: trusted SQL, run in the same envelope without the agent allowlist.
const SCHEMA_SQL = `
SELECT c.table_schema AS schema, c.table_name AS table, c.column_name AS name, c.data_type AS type, c.is_nullable = 'YES' AS nullable
FROM information_schema.columns c
WHERE c.table_schema NOT IN ('pg_catalog', 'information_schema')
  AND has_table_privilege(quote_ident(c.table_schema) || '.' || quote_ident(c.table_name), 'SELECT')
  AND ($1::text IS NULL OR c.table_schema = $1) AND ($2::text IS NULL OR c.table_name = $2)
ORDER BY c.table_schema, c.table_name, c.ordinal_position`;

function quoteLiteral(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * Creates the connector on a `pg` Pool (or one you pass). Every query is validated by
 * {@link validateSqlSync} first, then runs as `BEGIN READ ONLY` with `SET LOCAL`
 * statement/lock/idle timeouts and a pinned `search_path`, over the extended protocol, in one
 * round trip that ends with ROLLBACK (never COMMIT). The server stops at `maxRows`; past
 * `maxBytes` the rest is cancelled on the server. On timeout or abort the backend query is
 * cancelled and the connection discarded.
 *
 * The database role is the real boundary: give it SELECT only (see the README).
 *
 * @throws GatewayError `CONFIG_INVALID`.
 */
export async function createPostgres(
  config: z.input<typeof postgresConnectorSchema>,
  deps: { pool?: pg.Pool; warn?: (message: string) => void } = {},
): Promise<Postgres> {
  const parsed = postgresConnectorSchema.safeParse(config);
  if (!parsed.success) {
    throw new GatewayError('CONFIG_INVALID', `Invalid connectors.postgres: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  const options: PostgresConnectorConfig = parsed.data;
  await loadParser();
  const validation: ValidateSqlOptions = {
    allowExplain: options.allowExplain,
    allowExplainAnalyze: options.allowExplainAnalyze,
    allowFunctions: options.allowFunctions,
    allowTypes: options.allowTypes,
    allowTables: options.allowTables,
    allowSchemas: options.allowSchemas,
  };
  const ownPool = deps.pool === undefined;
  const pool =
    deps.pool ??
    new pg.Pool({ ...(options.connectionString === undefined ? {} : { connectionString: options.connectionString }), max: options.poolSize, allowExitOnIdle: true });
  // An idle client that errors (server restart) must not crash the host.
  pool.on('error', () => undefined);
  const warn = deps.warn ?? ((message: string) => process.emitWarning(message, { code: 'PORTCULLIS_POSTGRES' }));
  const settling = new Set<Promise<void>>();
  let checkedRole = !options.warnIfSuperuser;
  const searchPath = options.searchPath.map(quoteIdent).join(', ');
  // Values are validated numbers and quoted identifiers; the literal quoting is for set_config's text argument.
  const localSettings =
    `SELECT set_config('lock_timeout', '${options.lockTimeoutMs}', true), ` +
    `set_config('idle_in_transaction_session_timeout', '${options.idleInTransactionTimeoutMs}', true), ` +
    `set_config('search_path', ${quoteLiteral(searchPath)}, true)`;

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
      setup: ['BEGIN TRANSACTION READ ONLY', `${localSettings}, set_config('statement_timeout', '${timeoutMs}', true)`],
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

  // Agents repeat the same parameterised SQL; its verdict depends only on the text and the
  // options, so it is kept (bounded; the cache starts afresh when full).
  const verdicts = new Map<string, SqlVerdict>();
  function verdictFor(sql: string): SqlVerdict {
    let verdict = verdicts.get(sql);
    if (verdict === undefined) {
      verdict = validateSqlSync(sql, validation);
      if (verdicts.size >= options.verdictCacheSize) verdicts.clear();
      if (options.verdictCacheSize > 0 && sql.length <= 10_000) verdicts.set(sql, verdict);
    }
    return verdict;
  }

  const postgres: Postgres = {
    async query({ sql, params = [] }, limits) {
      const verdict = verdictFor(sql);
      if (!verdict.allowed) {
        throw new GatewayError('SQL_NOT_ALLOWED', `Query refused: ${verdict.reason}.`, { data: { statementType: verdict.statementType } });
      }
      return run(sql, params, limits, options.maxRows);
    },
    async schema({ schema, table }, limits) {
      const result = await run(SCHEMA_SQL, [schema ?? null, table ?? null], limits, 100_000);
      const tables = new Map<string, SchemaResult['tables'][number]>();
      for (const row of result.rows as { schema: string; table: string; name: string; type: string; nullable: boolean }[]) {
        if (options.allowSchemas !== undefined && !options.allowSchemas.includes(row.schema)) continue;
        if (options.allowTables !== undefined && !options.allowTables.includes(row.table) && !options.allowTables.includes(`${row.schema}.${row.table}`)) continue;
        const key = `${row.schema}.${row.table}`;
        let entry = tables.get(key);
        if (entry === undefined) tables.set(key, (entry = { schema: row.schema, table: row.table, columns: [] }));
        entry.columns.push({ name: row.name, type: row.type, nullable: row.nullable });
      }
      return { tables: [...tables.values()] };
    },
    tools: () => [
      defineTool({
        name: 'db.query',
        description: 'Runs one read-only SELECT on PostgreSQL and returns columns and rows. Use $1, $2 … with params for values.',
        inputSchema: z.strictObject({ sql: z.string().min(1).max(MAX_SQL_LENGTH), params: z.array(paramSchema).max(1000).optional() }),
        execute: (args, ctx) => postgres.query(args, { timeoutMs: ctx.limits.timeoutMs, maxBytes: ctx.limits.maxBytes, signal: ctx.signal }),
      }),
      defineTool({
        name: 'db.schema',
        description: 'Lists the tables and columns that db.query may read.',
        inputSchema: z.strictObject({ schema: z.string().max(63).optional(), table: z.string().max(63).optional() }),
        execute: (args, ctx) => postgres.schema(args, { timeoutMs: ctx.limits.timeoutMs, maxBytes: ctx.limits.maxBytes, signal: ctx.signal }),
      }),
    ] as ToolDefinition[],
    async close() {
      await Promise.all(settling);
      if (ownPool) await pool.end();
    },
  };
  return postgres;
}

/**
 * A server error for the agent. Messages of SQLSTATE class 42 (unknown column, syntax, no
 * privilege) help fix the query and hold no data; others may quote values, so only their
 * SQLSTATE is shown (the full error stays in `cause`, on the host).
 */
function describeServerError(error: unknown): GatewayError {
  const e = error as { code?: unknown; message?: unknown };
  const code = typeof e.code === 'string' ? e.code : undefined;
  let message = 'the query failed';
  if (code === '25006') message = 'the database refused a write in the read-only transaction';
  else if (code === '57014') return new GatewayError('TIMEOUT', 'PostgreSQL cancelled the query at its statement timeout.', { cause: error, data: { sqlstate: code } });
  else if (code?.startsWith('42') === true && typeof e.message === 'string') message = e.message;
  return new GatewayError('UPSTREAM_ERROR', `PostgreSQL: ${message}${code === undefined ? '' : ` (SQLSTATE ${code})`}.`, { cause: error, data: { sqlstate: code ?? null } });
}
