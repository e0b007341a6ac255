/**
 * The read-only PostgreSQL connector: `db.query` and `db.schema`, behind a real PostgreSQL
 * parser, a read-only transaction envelope, and the role.
 *
 * @packageDocumentation
 */
export { validateSql, validateSqlSync, loadParser, type SqlVerdict, type ValidateSqlOptions } from './validate.js';
export { createPostgres, type Param, type Postgres, type QueryLimits, type SchemaResult } from './connector.js';
export type { Column, QueryResult } from './read-only-query.js';
export type { PostgresConnectorConfig } from './config.js';
