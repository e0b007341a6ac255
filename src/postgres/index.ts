/**
 * The read-only PostgreSQL connector: `db.query` and `db.schema`, behind a real PostgreSQL
 * parser, a read-only transaction envelope, and the role.
 *
 * @packageDocumentation
 */
export { validateSql, validateSqlSync, loadParser, type SqlVerdict, type ValidateSqlOptions } from './validate.js';
export { createPostgres, type Param, type Postgres, type PostgresDeps, type SchemaResult } from './connector.js';
export type { QueryLimits } from './executor.js';
export type { EmbeddedDatabase } from './embedded-executor.js';
export type { Column, QueryResult } from './read-only-query.js';
export type { PostgresConnectorConfig } from './config.js';
