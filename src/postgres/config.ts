import { z } from 'zod';

const identifier = z.string().regex(/^[A-Za-z_][A-Za-z0-9_$]{0,62}$/, 'must be a plain SQL identifier');
const qualified = z.string().regex(/^([A-Za-z_][A-Za-z0-9_$]{0,62}\.)?[A-Za-z_][A-Za-z0-9_$]{0,62}$/, 'must be name or schema.name');

/** `connectors.postgres`: the read-only `db.query` and `db.schema` tools. */
export const postgresConnectorSchema = z.strictObject({
  /**
   * `postgres://user@host:5432/db`. Leave the password out (use PGPASSWORD) or pass the URL from
   * DATABASE_URL in code: config files refuse URLs with a password. Default: pg's PG* variables.
   */
  connectionString: z.string().min(1).optional(),
  /**
   * Use PGlite (PostgreSQL in WebAssembly, run in a worker thread started at the first query)
   * instead of a server (demos, tests, no server at hand). A timeout, an abort or `close()`
   * terminates the worker. A convenience, not a security boundary: same process, no roles.
   * Needs `@electric-sql/pglite`.
   */
  embedded: z.boolean().default(false),
  /** Connections in the pool at most. */
  poolSize: z.number().int().positive().max(100).default(5),
  /** Rows returned at most; reading stops there (`truncated: true`). */
  maxRows: z.number().int().positive().max(1_000_000).default(1000),
  /** `lock_timeout` inside the envelope, in ms. */
  lockTimeoutMs: z.number().int().positive().max(2_147_483_647).default(1000),
  /** `idle_in_transaction_session_timeout` inside the envelope, in ms. */
  idleInTransactionTimeoutMs: z.number().int().positive().max(2_147_483_647).default(10_000),
  /**
   * `work_mem` inside the envelope, in kB (memory a sort or hash may use before spilling to
   * temporary files). Default: the role's (set it in the role recipe).
   */
  workMemKb: z.number().int().min(64).max(2_147_483_647).optional(),
  /**
   * `temp_file_limit` inside the envelope, in kB. PostgreSQL lets only a superuser (or, from
   * version 15, a role granted `SET` on it) change it: for any other role it is skipped with a
   * warning, and belongs in the role recipe (`ALTER ROLE … SET temp_file_limit`).
   */
  tempFileLimitKb: z.number().int().min(0).max(2_147_483_647).optional(),
  /** The pinned `search_path`. */
  searchPath: z.array(identifier).min(1).default(['public']),
  /** Allow `EXPLAIN` of a SELECT. */
  allowExplain: z.boolean().default(true),
  /** Allow `EXPLAIN ANALYZE` (it runs the query, inside the same envelope). */
  allowExplainAnalyze: z.boolean().default(false),
  /** Your own side-effect-free functions, by name. */
  allowFunctions: z.array(qualified).default([]),
  /** Your own types values may be cast to (enums, composites). */
  allowTypes: z.array(qualified).default([]),
  /** When set, the only tables that may be read (`table` or `schema.table`). */
  allowTables: z.array(qualified).optional(),
  /** When set, the only schemas whose tables may be read. */
  allowSchemas: z.array(identifier).optional(),
  /** Verdicts of `validateSql` kept per SQL text (parameterised queries repeat); 0 turns the cache off. */
  verdictCacheSize: z.number().int().nonnegative().max(1_000_000).default(1000),
  /** Warn at the first query when the role is a superuser (the role is the real boundary). */
  warnIfSuperuser: z.boolean().default(true),
});

export type PostgresConnectorConfig = z.output<typeof postgresConnectorSchema>;
