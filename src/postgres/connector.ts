import type pg from 'pg';
import { z } from 'zod';
import { GatewayError } from '../errors.js';
import { defineTool, type ToolDefinition } from '../tools.js';
import { postgresConnectorSchema, type PostgresConnectorConfig } from './config.js';
import { createEmbeddedExecutor, type EmbeddedDatabase } from './embedded-executor.js';
import type { Executor, QueryLimits } from './executor.js';
import { createPoolExecutor } from './pool-executor.js';
import type { QueryResult } from './read-only-query.js';
import { sqlFacts } from './facts.js';
import { resultBytes } from './result-bytes.js';
import { schemaListing, type SchemaResult } from './schema-listing.js';
import { loadParser, MAX_SQL_LENGTH, validateSqlSync, type SqlVerdict } from './validate.js';

/** Dependencies of {@link createPostgres}. */
export interface PostgresDeps {
  /** A pool of your own (its clients are used as they are; the role is yours to restrict). */
  pool?: pg.Pool | undefined;
  /** With `embedded: true`: a seeded PGlite instance, copied into the worker at the first query (later changes to it are not seen; default: a fresh in-memory database). */
  embedded?: EmbeddedDatabase | undefined;
  warn?: ((message: string) => void) | undefined;
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

export type { SchemaResult };

const paramSchema = z.union([z.string().max(65_536), z.number(), z.boolean(), z.null(), z.array(z.union([z.string().max(65_536), z.number(), z.boolean(), z.null()])).max(10_000)]);

// Our own catalogue query: trusted SQL, run in the same envelope without the agent allowlist,
// with search_path pinned to pg_catalog and every function and operator schema-qualified, so
// that no look-alike in a user schema (public.=(varchar, varchar), …) can be picked.
const SCHEMA_SQL = `
SELECT c.table_schema AS schema, c.table_name AS table, c.column_name AS name, c.data_type AS type,
  c.is_nullable::pg_catalog.text OPERATOR(pg_catalog.=) 'YES'::pg_catalog.text AS nullable
FROM information_schema.columns c
WHERE c.table_schema::pg_catalog.text OPERATOR(pg_catalog.<>) 'pg_catalog'::pg_catalog.text
  AND c.table_schema::pg_catalog.text OPERATOR(pg_catalog.<>) 'information_schema'::pg_catalog.text
  AND pg_catalog.has_table_privilege(
    pg_catalog.quote_ident(c.table_schema::pg_catalog.text) OPERATOR(pg_catalog.||) '.'::pg_catalog.text OPERATOR(pg_catalog.||) pg_catalog.quote_ident(c.table_name::pg_catalog.text),
    'SELECT'::pg_catalog.text)
  AND ($1::pg_catalog.text IS NULL OR c.table_schema::pg_catalog.text OPERATOR(pg_catalog.=) $1::pg_catalog.text)
  AND ($2::pg_catalog.text IS NULL OR c.table_name::pg_catalog.text OPERATOR(pg_catalog.=) $2::pg_catalog.text)
ORDER BY c.table_schema, c.table_name, c.ordinal_position`;

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
  deps: PostgresDeps = {},
): Promise<Postgres> {
  const parsed = postgresConnectorSchema.safeParse(config);
  if (!parsed.success) {
    throw new GatewayError('CONFIG_INVALID', `Invalid connectors.postgres: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  const options: PostgresConnectorConfig = parsed.data;
  await loadParser();
  const validation = {
    allowExplain: options.allowExplain,
    allowExplainAnalyze: options.allowExplainAnalyze,
    allowFunctions: options.allowFunctions,
    allowTypes: options.allowTypes,
    allowTables: options.allowTables,
    allowSchemas: options.allowSchemas,
    // Unqualified names resolve against pg_catalog, then the configured search_path, as on the server.
    searchPath: options.searchPath,
  };
  const warn = deps.warn ?? ((message: string) => process.emitWarning(message, { code: 'PORTCULLIS_POSTGRES' }));
  const executor: Executor =
    options.embedded
      ? await createEmbeddedExecutor(options, deps.embedded)
      : createPoolExecutor(options, { warn, ...(deps.pool === undefined ? {} : { pool: deps.pool }) });

  // Agents repeat the same parameterised SQL; its verdict depends only on the text and the
  // options, so it is kept (bounded; the cache starts afresh when full).
  const verdicts = new Map<string, SqlVerdict>();
  function verdictFor(sql: string): SqlVerdict {
    let verdict = verdicts.get(sql);
    if (verdict === undefined) {
      verdict = validateSqlSync(sql, validation);
      if (verdicts.size >= options.verdictCacheSize) verdicts.clear();
      // `unavailable` (the parser restarting) is not a verdict on the text: never kept.
      if (options.verdictCacheSize > 0 && sql.length <= 10_000 && verdict.statementType !== 'unavailable') verdicts.set(sql, verdict);
    }
    return verdict;
  }

  const postgres: Postgres = {
    async query({ sql, params = [] }, limits) {
      const verdict = verdictFor(sql);
      if (!verdict.allowed) {
        throw new GatewayError('SQL_NOT_ALLOWED', `Query refused: ${verdict.reason}.`, { data: { statementType: verdict.statementType } });
      }
      return executor.run(sql, params, limits, options.maxRows);
    },
    async schema({ schema, table }, limits) {
      const result = await executor.run(SCHEMA_SQL, [schema ?? null, table ?? null], limits, 100_000, { catalogOnly: true });
      if (result.truncated) {
        // A partial listing would read as "these are all the tables": refuse it instead.
        throw new GatewayError('RESPONSE_TOO_LARGE', `The schema listing is larger than the limit of ${limits.maxBytes} bytes: ask for one schema or table.`, {
          data: { maxBytes: limits.maxBytes },
        });
      }
      return schemaListing(result, options, limits.maxBytes);
    },
    tools: () => [
      defineTool({
        name: 'db.query',
        description: 'Runs one read-only SELECT on PostgreSQL and returns columns and rows. Use $1, $2 … with params for values.',
        inputSchema: z.strictObject({ sql: z.string().min(1).max(MAX_SQL_LENGTH), params: z.array(paramSchema).max(1000).optional() }),
        execute: (args, ctx) => postgres.query(args, { timeoutMs: ctx.limits.timeoutMs, maxBytes: ctx.limits.maxBytes, signal: ctx.signal }),
        // Argument rules decide on the parse tree; the execution runs this very text.
        canonicalize: (args) => sqlFacts(args.sql, validation),
        // The size the envelope counted as the rows came (exact): the gateway need not serialise the result again.
        measure: resultBytes,
      }),
      defineTool({
        name: 'db.schema',
        description: 'Lists the tables and columns that db.query may read.',
        inputSchema: z.strictObject({ schema: z.string().max(63).optional(), table: z.string().max(63).optional() }),
        execute: (args, ctx) => postgres.schema(args, { timeoutMs: ctx.limits.timeoutMs, maxBytes: ctx.limits.maxBytes, signal: ctx.signal }),
        measure: resultBytes,
      }),
    ] as ToolDefinition[],
    close: () => executor.close(),
  };
  return postgres;
}
