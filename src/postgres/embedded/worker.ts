// The embedded database's worker thread: PGlite runs here, off the host's thread, so that the
// host can always stop it (worker.terminate()) at a timeout, an abort or close().
import { createRequire } from 'node:module';
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite, protocol } from '@electric-sql/pglite';
import type { QueryRequest, WorkerMessage, WorkerStart } from './protocol.js';
import { ResultReader } from './result-reader.js';

// pg's own parameter preparation (dates, arrays, JSON), as for the server connector.
const { prepareValue } = createRequire(import.meta.url)('pg/lib/utils.js') as { prepareValue: (value: unknown) => unknown };
const { serialize } = protocol;
/** Past this much WebAssembly memory (which never shrinks) the host replaces the worker. */
const RECYCLE_HEAP_BYTES = 512 * 1024 * 1024;
const PORTAL = 'portcullis';
const SNAPSHOT_IDLE_MS = 2000;

const port = parentPort;
if (port === null) throw new Error('embedded/worker.ts runs as a worker thread');
const start = workerData as WorkerStart;
const post = (message: WorkerMessage): void => port.postMessage(message);

try {
  const startedMs = performance.now();
  const db = await PGlite.create(start.dataDir === undefined ? {} : { loadDataDir: start.dataDir });
  post({ type: 'ready', startMs: Math.round(performance.now() - startedMs) });
  // Queries take turns (the host sends one at a time; this keeps it so).
  let queue = Promise.resolve();
  // A copy of the fresh database for the next worker, made once the worker has been idle for a
  // moment (it takes seconds, and a query arriving meanwhile waits for it).
  let snapshot: NodeJS.Timeout | undefined;
  const scheduleSnapshot = (): void => {
    clearTimeout(snapshot);
    snapshot = setTimeout(() => {
      snapshot = undefined;
      start.dumpAfterInit = false;
      queue = queue.then(async () => post({ type: 'snapshot', dataDir: await db.dumpDataDir('gzip') })).catch(() => undefined);
    }, SNAPSHOT_IDLE_MS);
  };
  if (start.dumpAfterInit) scheduleSnapshot();
  port.on('message', (request: QueryRequest) => {
    if (snapshot !== undefined) scheduleSnapshot();
    queue = queue.then(() => run(db, request));
  });
} catch (error) {
  post({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
}

/**
 * One envelope in one exchange, as on a server: the setup statements, the query bound to a
 * portal and executed for at most `maxRows + 1` rows (so PostgreSQL itself stops at the row
 * limit), the portal closed, ROLLBACK, Sync. The answer is read as it streams out.
 */
async function run(db: PGlite, request: QueryRequest): Promise<void> {
  const reader = new ResultReader({ setupCount: request.setup.length, maxRows: request.maxRows, maxBytes: request.maxBytes });
  try {
    const parts: Uint8Array[] = [];
    for (const text of request.setup) parts.push(serialize.parse({ text }), serialize.bind({}), serialize.execute({}));
    parts.push(
      serialize.parse({ text: request.sql }),
      serialize.bind({ portal: PORTAL, values: request.values.map((value) => prepareValue(value) as string | null) }),
      serialize.describe({ type: 'P', name: PORTAL }),
      serialize.execute({ portal: PORTAL, rows: request.maxRows + 1 }),
      serialize.close({ type: 'P', name: PORTAL }),
      serialize.parse({ text: 'ROLLBACK' }),
      serialize.bind({}),
      serialize.execute({}),
      serialize.sync(),
    );
    await db.execProtocolRawStream(concat(parts), { syncToFs: false, onRawData: (chunk) => reader.push(chunk) });
    // After an error the ROLLBACK was skipped: the transaction is still open (failed).
    if (reader.status !== 'I') await db.exec('ROLLBACK');
  } catch (error) {
    reader.error ??= { message: error instanceof Error ? error.message : String(error) };
  }
  const recycle = (db.Module as unknown as { HEAPU8: Uint8Array }).HEAPU8.byteLength > RECYCLE_HEAP_BYTES;
  if (reader.error !== undefined) post({ type: 'error', id: request.id, error: reader.error, recycle });
  else post({ type: 'result', id: request.id, result: reader.result(), bytes: reader.resultBytes(), recycle });
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
