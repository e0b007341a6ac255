import { GatewayError, isGatewayError } from '../errors.js';
import type { QueryResult } from './read-only-query.js';

export { describeServerError } from './server-error.js';

/** Limits of one query. */
export interface QueryLimits {
  /** `statement_timeout`, and the moment the query is cancelled, in ms. */
  timeoutMs: number;
  /** Bytes of row data kept at most. */
  maxBytes: number;
  signal?: AbortSignal | undefined;
}

/** How the connector's own (trusted) SQL runs. */
export interface RunOptions {
  /** Pins `search_path` to `pg_catalog` only: no look-alike function or operator in a user schema can be picked. */
  catalogOnly?: boolean | undefined;
}

/** Runs validated (or trusted) SQL in the read-only envelope. */
export interface Executor {
  run(sql: string, values: readonly unknown[], limits: QueryLimits, maxRows: number, options?: RunOptions): Promise<QueryResult>;
  close(): Promise<void>;
}

/**
 * `SET LOCAL` of the envelope's settings as one statement (set_config(…, true) is SET LOCAL),
 * schema-qualified so that no look-alike `set_config` can be picked.
 */
export function localSettingsSql(
  settings: { lockTimeoutMs: number; idleInTransactionTimeoutMs: number; searchPath: readonly string[]; workMemKb?: number | undefined },
  timeoutMs: number,
  extra: { searchPath?: readonly string[] | undefined; tempFileLimitKb?: number | undefined } = {},
): string {
  const searchPath = (extra.searchPath ?? settings.searchPath).map(quoteIdent).join(', ');
  // Values are validated numbers and quoted identifiers; the literal quoting is for set_config's text argument.
  const set = (name: string, value: string): string => `pg_catalog.set_config('${name}', ${quoteLiteral(value)}, true)`;
  const items = [
    set('lock_timeout', String(settings.lockTimeoutMs)),
    set('idle_in_transaction_session_timeout', String(settings.idleInTransactionTimeoutMs)),
    set('search_path', searchPath),
    set('statement_timeout', String(timeoutMs)),
  ];
  if (settings.workMemKb !== undefined) items.push(set('work_mem', `${settings.workMemKb}kB`));
  if (extra.tempFileLimitKb !== undefined) items.push(set('temp_file_limit', `${extra.tempFileLimitKb}kB`));
  return `SELECT ${items.join(', ')}`;
}

export function quoteLiteral(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** The error a query ends with when the caller's signal fires: its own GatewayError (a timeout), else ABORTED. */
export function callerAbort(reason: unknown): GatewayError {
  return isGatewayError(reason) ? reason : new GatewayError('ABORTED', 'The query was aborted by the caller.', { cause: reason });
}
