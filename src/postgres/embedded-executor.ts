import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { GatewayError } from '../errors.js';
import type { PostgresConnectorConfig } from './config.js';
import type { QueryRequest, WorkerMessage, WorkerStart } from './embedded/protocol.js';
import { callerAbort, describeServerError, localSettingsSql, type Executor, type QueryLimits } from './executor.js';
import type { QueryResult } from './read-only-query.js';
import { withBytes } from './result-bytes.js';

/**
 * A database of your own for the embedded connector (a seeded PGlite instance). It is copied
 * (`dumpDataDir`) at the first query into the connector's worker thread, and every worker
 * started later (after a timeout, an abort or a worker grown too large) starts from that copy:
 * changes you make to your instance after the first query are not seen. The agent never
 * queries your instance itself, and the connector never closes it.
 */
export interface EmbeddedDatabase {
  /** PGlite's tarball of its data directory (called once, with `'none'`). */
  dumpDataDir(compression?: 'none' | 'gzip' | 'auto'): Promise<Blob>;
}

/** How long PGlite may take to start (initdb, or loading a copy) before the query fails. */
const START_TIMEOUT_MS = 120_000;
/** Temporary files of one query, in kB (PGlite keeps them in the worker's memory). */
const TEMP_FILE_LIMIT_KB = 64 * 1024;
/** JavaScript heap of the worker (PGlite's in-memory files live there). */
const WORKER_HEAP_MB = 1024;

interface Pending {
  resolve(result: QueryResult): void;
  reject(error: Error): void;
}
interface Running {
  worker: Worker;
  ready: Promise<void>;
  pending: Map<number, Pending>;
  /** Why the host stopped it (a timeout, an abort, close()). */
  stopped?: Error;
}

/**
 * The envelope on PGlite, a PostgreSQL compiled to WebAssembly, for demos and users without a
 * server. PGlite runs in a worker thread started at the first query (not at creation): the
 * host's event loop never waits for it, and a query past its timeout, an abort or `close()`
 * terminates the worker; the next query starts a fresh one from the same data. The same
 * validation, read-only transaction, single-statement extended-protocol query and ROLLBACK
 * apply; PostgreSQL stops at `maxRows + 1` rows and rows past `maxBytes` are dropped in the
 * worker as they stream out. A convenience, **not a security boundary** (see the README).
 */
export function createEmbeddedExecutor(options: PostgresConnectorConfig, given?: EmbeddedDatabase): Promise<Executor> {
  try {
    createRequire(import.meta.url).resolve('@electric-sql/pglite');
  } catch (error) {
    return Promise.reject(
      new GatewayError('CONFIG_INVALID', 'connectors.postgres.embedded needs the optional package @electric-sql/pglite: npm install @electric-sql/pglite', { cause: error }),
    );
  }
  return Promise.resolve(workerExecutor(options, given));
}

function workerExecutor(options: PostgresConnectorConfig, given: EmbeddedDatabase | undefined): Executor {
  // The data a new worker starts from: without a database of the host's, the first worker's
  // freshly initialised one (so a restart skips initdb).
  let initialised: Blob | undefined;
  let current: Running | undefined;
  let closed = false;
  let nextId = 1;
  // One connection: queries take turns.
  let queue: Promise<unknown> = Promise.resolve();

  function stop(running: Running, reason: Error): void {
    running.stopped ??= reason;
    if (current === running) current = undefined;
    for (const pending of running.pending.values()) pending.reject(reason);
    running.pending.clear();
    void running.worker.terminate();
  }

  async function start(): Promise<Running> {
    // The host's database is copied once, at the first start (its dump runs on the host's thread).
    if (given !== undefined && initialised === undefined) {
      try {
        initialised = await given.dumpDataDir('none');
      } catch (cause) {
        throw new GatewayError('UPSTREAM_ERROR', 'The embedded database could not be copied from the given instance.', { cause });
      }
    }
    const workerData: WorkerStart = { dataDir: initialised, dumpAfterInit: initialised === undefined };
    const running: Running = { worker: spawn(workerData), ready: Promise.resolve(), pending: new Map() };
    const { worker } = running;
    running.ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => fail(new Error(`PGlite did not start within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
      timer.unref();
      function fail(cause: unknown): void {
        clearTimeout(timer);
        reject(running.stopped ?? new GatewayError('UPSTREAM_ERROR', 'The embedded database (PGlite) failed to start.', { cause }));
        stop(running, new GatewayError('UPSTREAM_ERROR', 'The embedded database (PGlite) stopped.', { cause }));
      }
      worker.on('message', (message: WorkerMessage) => {
        if (message.type === 'ready') {
          clearTimeout(timer);
          resolve();
        } else if (message.type === 'snapshot') initialised = message.dataDir;
        else if (message.type === 'failed') fail(new Error(message.message));
        else {
          const pending = running.pending.get(message.id);
          running.pending.delete(message.id);
          // A worker whose memory grew past its bound is replaced (WebAssembly memory never shrinks).
          if (message.recycle) stop(running, new GatewayError('UPSTREAM_ERROR', 'The embedded database was restarted.'));
          if (message.type === 'result') pending?.resolve(withBytes(message.result, message.bytes));
          else pending?.reject(describeServerError(Object.assign(new Error(message.error.message), { code: message.error.code })));
        }
      });
      // An error in the worker (out of memory, a PGlite crash) ends it, never the host.
      worker.on('error', (error) => fail(error));
      worker.on('exit', (code) => fail(new Error(`the worker exited (code ${code})`)));
    });
    running.ready.catch(() => undefined);
    return running;
  }

  async function runOne(sql: string, values: readonly unknown[], limits: QueryLimits, maxRows: number): Promise<QueryResult> {
    limits.signal?.throwIfAborted();
    if (closed) throw new GatewayError('GATEWAY_CLOSED', 'The embedded database is closed.');
    if (current === undefined) {
      const started = await start();
      if (closed) {
        stop(started, new GatewayError('GATEWAY_CLOSED', 'The embedded database is closed.'));
        throw new GatewayError('GATEWAY_CLOSED', 'The embedded database is closed.');
      }
      current = started;
    }
    const running = current;
    // Starting PGlite takes seconds: that wait is bounded by the call's own timeout (the abort
    // signal) and START_TIMEOUT_MS, not by the query's timeout, which starts once it is sent.
    await abortable(running.ready, limits.signal);
    if (current !== running) throw new GatewayError('UPSTREAM_ERROR', 'The embedded database stopped.');
    const timeoutMs = Math.max(1, Math.floor(limits.timeoutMs));
    const id = nextId++;
    const request: QueryRequest = {
      type: 'query',
      id,
      // PGlite's temporary files (a sort, a materialised function scan) are in memory: bounded.
      setup: ['BEGIN TRANSACTION READ ONLY', localSettingsSql(options, timeoutMs, { tempFileLimitKb: TEMP_FILE_LIMIT_KB })],
      sql,
      values: [...values],
      maxRows,
      maxBytes: limits.maxBytes,
    };
    return new Promise<QueryResult>((resolve, reject) => {
      // PGlite cannot cancel a running query: the worker is terminated instead.
      const timer = setTimeout(
        () => stop(running, new GatewayError('TIMEOUT', `The query did not finish within ${timeoutMs} ms and was stopped.`, { data: { timeoutMs } })),
        timeoutMs,
      );
      const onAbort = (): void => {
        const reason: unknown = limits.signal?.reason;
        stop(running, callerAbort(reason));
      };
      const settle = (): void => {
        clearTimeout(timer);
        limits.signal?.removeEventListener('abort', onAbort);
      };
      running.pending.set(id, {
        resolve: (result) => (settle(), resolve(result)),
        reject: (error) => (settle(), reject(error)),
      });
      limits.signal?.addEventListener('abort', onAbort, { once: true });
      if (limits.signal?.aborted === true) return onAbort();
      running.worker.postMessage(request);
    });
  }

  return {
    run(sql, values, limits, maxRows) {
      const next = queue.then(() => runOne(sql, values, limits, maxRows));
      queue = next.catch(() => undefined);
      return next;
    },
    async close() {
      closed = true;
      const running = current;
      if (running === undefined) return;
      const exited = new Promise((resolve) => running.worker.once('exit', resolve));
      stop(running, new GatewayError('GATEWAY_CLOSED', 'The embedded database was closed during the query.'));
      await exited;
    },
  };
}

/** Starts the worker: the built JavaScript beside this file, or the TypeScript source through tsx. */
function spawn(workerData: WorkerStart): Worker {
  const options = { workerData, resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB } };
  const built = new URL('./embedded/worker.js', import.meta.url);
  if (existsSync(fileURLToPath(built))) return new Worker(built, options);
  // Running from the sources (tests, `tsx`): the worker imports tsx's loader itself.
  const source = new URL('./embedded/worker.ts', import.meta.url).href;
  const boot = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(source)}); })`;
  return new Worker(boot, { ...options, eval: true });
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      const reason: unknown = signal.reason;
      reject(callerAbort(reason));
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => (signal.removeEventListener('abort', onAbort), resolve(value)),
      (error: unknown) => (signal.removeEventListener('abort', onAbort), reject(error as Error)),
    );
  });
}
