import { GatewayError } from '../errors.js';
import type { QueryResult } from './read-only-query.js';

/** Limits of one query. */
export interface QueryLimits {
  /** `statement_timeout`, and the moment the query is cancelled, in ms. */
  timeoutMs: number;
  /** Bytes of row data kept at most. */
  maxBytes: number;
  signal?: AbortSignal | undefined;
}

/** Runs validated (or trusted) SQL in the read-only envelope. */
export interface Executor {
  run(sql: string, values: readonly unknown[], limits: QueryLimits, maxRows: number): Promise<QueryResult>;
  close(): Promise<void>;
}

/** `SET LOCAL` of the envelope's settings as one statement (set_config(…, true) is SET LOCAL). */
export function localSettingsSql(settings: { lockTimeoutMs: number; idleInTransactionTimeoutMs: number; searchPath: readonly string[] }, timeoutMs: number): string {
  const searchPath = settings.searchPath.map(quoteIdent).join(', ');
  // Values are validated numbers and quoted identifiers; the literal quoting is for set_config's text argument.
  return (
    `SELECT set_config('lock_timeout', '${settings.lockTimeoutMs}', true), ` +
    `set_config('idle_in_transaction_session_timeout', '${settings.idleInTransactionTimeoutMs}', true), ` +
    `set_config('search_path', ${quoteLiteral(searchPath)}, true), ` +
    `set_config('statement_timeout', '${timeoutMs}', true)`
  );
}

export function quoteLiteral(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * A server error for the agent. Messages of SQLSTATE class 42 (unknown column, syntax, no
 * privilege) help fix the query and hold no data; others may quote values, so only their
 * SQLSTATE is shown (the full error stays in `cause`, on the host).
 */
export function describeServerError(error: unknown): GatewayError {
  const e = error as { code?: unknown; message?: unknown };
  const code = typeof e.code === 'string' ? e.code : undefined;
  let message = 'the query failed';
  if (code === '25006') message = 'the database refused a write in the read-only transaction';
  else if (code === '57014') return new GatewayError('TIMEOUT', 'PostgreSQL cancelled the query at its statement timeout.', { cause: error, data: { sqlstate: code } });
  else if (code?.startsWith('42') === true && typeof e.message === 'string') message = e.message;
  return new GatewayError('UPSTREAM_ERROR', `PostgreSQL: ${message}${code === undefined ? '' : ` (SQLSTATE ${code})`}.`, { cause: error, data: { sqlstate: code ?? null } });
}
