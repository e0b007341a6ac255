/**
 * Shared state on PostgreSQL, for fleets of agent processes: one spend budget for all.
 *
 * @packageDocumentation
 */
export { postgresSpendLedger, type PostgresSpendLedger, type PostgresSpendLedgerOptions } from './spend-ledger.js';
export { postgresAuditSink, verifyPostgresAudit, type PostgresAuditSinkOptions } from './audit-sink.js';
export { postgresRateLimitStore } from './rate-limit-store.js';
export { postgresCredentialStore, type PostgresCredentialStore, type PostgresCredentialStoreOptions } from './credential-store.js';
