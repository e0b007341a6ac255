// The embedded database's worker thread: PGlite runs here, off the host's thread, so that the
// host can always stop it (worker.terminate()) at a timeout, an abort or close().
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite, protocol } from '@electric-sql/pglite';
import { writeEnvelope, type EnvelopeWriter } from '../envelope.js';
import type { QueryRequest, WorkerMessage, WorkerStart } from './protocol.js';
import { ResultReader } from './result-reader.js';

const { serialize } = protocol;
/** Past this much WebAssembly memory (which never shrinks) the host replaces the worker. */
const RECYCLE_HEAP_BYTES = 512 * 1024 * 1024;
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
 * One envelope in one exchange, the same messages as on a server (see writeEnvelope). The answer
 * is read as it streams out.
 */
async function run(db: PGlite, request: QueryRequest): Promise<void> {
  const reader = new ResultReader({ setupCount: request.setup.length, maxRows: request.maxRows, maxBytes: request.maxBytes });
  try {
    const parts: Uint8Array[] = [];
    const out: EnvelopeWriter = {
      parse: (query) => parts.push(serialize.parse(query)),
      bind: (config) => parts.push(serialize.bind(config)),
      describe: (config) => parts.push(serialize.describe(config)),
      execute: (config) => parts.push(serialize.execute(config)),
      close: (config) => parts.push(serialize.close(config)),
      sync: () => parts.push(serialize.sync()),
    };
    writeEnvelope(out, request);
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
