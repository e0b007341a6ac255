import type { QueryResult } from '../read-only-query.js';

/** What the embedded database's worker is started with (`workerData`). */
export interface WorkerStart {
  /** A PGDATA tarball (PGlite's `dumpDataDir`) to start from; without it, a new empty database. */
  dataDir?: Blob | undefined;
  /** Send back a tarball of the fresh database after the first query, so that a restart skips initdb. */
  dumpAfterInit: boolean;
}

/** One query for the worker: the envelope's statements are built on the host. */
export interface QueryRequest {
  type: 'query';
  id: number;
  /** Statements run first in the same transaction (BEGIN READ ONLY, SET LOCAL …). */
  setup: readonly string[];
  sql: string;
  values: readonly unknown[];
  maxRows: number;
  maxBytes: number;
}

/** A server error, as much of it as the host needs ({@link describeServerError} reads `code`). */
export interface WorkerError {
  code?: string | undefined;
  message: string;
}

export type WorkerMessage =
  | { type: 'ready'; startMs: number }
  | { type: 'snapshot'; dataDir: Blob }
  | { type: 'failed'; message: string }
  /** `bytes`: the result's exact size as JSON, counted as it was read. */
  | { type: 'result'; id: number; result: QueryResult; bytes: number; recycle: boolean }
  | { type: 'error'; id: number; error: WorkerError; recycle: boolean };
