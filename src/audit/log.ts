import { GatewayError } from '../errors.js';
import type { AuditRecord, AuditSink, ChainHead } from './record.js';
import { coalesced } from '../util/coalesced.js';
import { stagedWriterOf, type StagedWriter } from './staged.js';
import { visibleReason } from './chain.js';

/** Options of {@link createAuditLog}. */
export interface AuditLogOptions {
  sinks: readonly AuditSink[];
  /**
   * How often queued records are written, in ms.
   * @default 100
   */
  flushIntervalMs?: number;
  /**
   * Records written to a sink in one batch at most; a full batch is written at once.
   * @default 1000
   */
  maxBatch?: number;
  /**
   * Records queued at most. When the queue is full, new calls wait for room (back-pressure)
   * instead of running unrecorded.
   * @default 10000
   */
  maxQueue?: number;
  /**
   * How long a call waits for room in a full queue before it is refused with
   * `AUDIT_UNAVAILABLE`, in ms.
   * @default 5000
   */
  backpressureTimeoutMs?: number;
  /** Told about sink failures (the records stay queued and are offered again). */
  onError?: (error: unknown, sink: AuditSink) => void;
  /**
   * `'buffered'`: a record is written on the next flush (within `flushIntervalMs`, 100 ms by
   * default): a crash can lose the records of that window. `'sync'`: {@link AuditLogInternal.commit}
   * resolves once the record is written (and fdatasync'ed by the file sink); calls that commit
   * together share one write and one sync (group commit).
   * @default 'buffered'
   */
  durability?: 'buffered' | 'sync';
}

/** Health of the audit trail: unhealthy while a sink is failing or the queue is full. */
export interface AuditHealth {
  healthy: boolean;
  /** Records accepted but not yet written by every sink. */
  queued: number;
  /** Sinks whose last write failed, with the error's message. */
  failing: { sink: string; error: string }[];
}

/** The audit trail of a gateway (`gw.audit`). */
export interface AuditLog {
  /** Writes everything queued now. Rejects with `AUDIT_UNAVAILABLE` if a sink fails. */
  flush(): Promise<void>;
  health(): AuditHealth;
  /**
   * The newest record of the first chained sink, every accepted record included (it may not be
   * on disk yet: `await flush()` first to anchor what the file holds). Store it elsewhere as a
   * tamper anchor.
   */
  head(): ChainHead | undefined;
}

/** The gateway's side of the audit log: reserve room, then record exactly once. */
export interface AuditLogInternal extends AuditLog {
  open(): Promise<void>;
  /** Takes room for one record if there is some now; the room is used by {@link record}. */
  tryReserve(): boolean;
  /** Waits for room for one record (back-pressure); the room is used by {@link record}. */
  reserve(signal?: AbortSignal): Promise<void>;
  /** Queues a record in room taken by {@link reserve}. Never throws, never waits. */
  record(record: AuditRecord): void;
  /**
   * With `durability: 'sync'`, a promise of every record so far being written (rejecting with
   * `AUDIT_UNAVAILABLE` if a sink fails); `undefined` when buffered, so the hot path awaits nothing.
   */
  commit(): Promise<void> | undefined;
  close(): Promise<void>;
}

interface SinkState {
  sink: AuditSink;
  /** Set for sinks that take records as they come (the file sink); they keep no cursor. */
  staged: StagedWriter | undefined;
  /** Absolute index of the next queued record this (batch) sink has not written. */
  next: number;
  error: unknown;
}

/**
 * Creates the batching audit log in front of the sinks. Records are queued in memory and
 * written in batches on a timer, when a batch fills up, on {@link AuditLog.flush} and on close.
 * Each sink has its own cursor, so a failing sink neither loses records nor makes the others
 * write them twice.
 */
export function createAuditLog(options: AuditLogOptions): AuditLogInternal {
  const flushIntervalMs = options.flushIntervalMs ?? 100;
  const maxBatch = options.maxBatch ?? 1000;
  const maxQueue = options.maxQueue ?? 10_000;
  const backpressureTimeoutMs = options.backpressureTimeoutMs ?? 5000;
  const sinks: SinkState[] = options.sinks.map((sink) => ({ sink, staged: stagedWriterOf(sink), next: 0, error: undefined }));
  const staged = sinks.filter((state) => state.staged !== undefined);
  const batched = sinks.filter((state) => state.staged === undefined);
  // Records wait here only for batch sinks; staged sinks hold encoded bytes instead.
  const queue: AuditRecord[] = [];
  let base = 0; // absolute index of queue[0]
  let reserved = 0;
  let waiters: (() => void)[] = [];
  let timer: NodeJS.Timeout | undefined;
  // A host that forgets close() still gets its records written before the process exits.
  const onBeforeExit = (): void => void flush().catch(() => undefined);

  function schedule(): void {
    if (timer !== undefined || sinks.length === 0) return;
    timer = setTimeout(() => {
      timer = undefined;
      void flush().catch(() => undefined);
    }, flushIntervalMs);
    timer.unref();
  }

  function failed(state: SinkState, error: unknown): void {
    state.error = error;
    options.onError?.(error, state.sink);
  }

  async function writeOnce(): Promise<void> {
    const end = base + queue.length;
    await Promise.all([
      ...staged.map(async (state) => {
        try {
          await state.staged?.drain();
          state.error = undefined;
        } catch (error) {
          failed(state, error);
        }
      }),
      ...batched.map(async (state) => {
        while (state.next < end) {
          const batch = queue.slice(state.next - base, Math.min(end, state.next + maxBatch) - base);
          try {
            await state.sink.write(batch);
            state.error = undefined;
          } catch (error) {
            failed(state, error);
            return;
          }
          state.next += batch.length;
        }
      }),
    ]);
    const done = batched.reduce((min, state) => Math.min(min, state.next), end);
    queue.splice(0, done - base);
    base = done;
    const ready = waiters;
    waiters = [];
    for (const wake of ready) wake();
    if (backlog() > 0) schedule();
  }

  /** Records accepted and not yet written by every sink. */
  function backlog(): number {
    let most = queue.length;
    for (const state of staged) most = Math.max(most, state.staged?.pending() ?? 0);
    return most;
  }

  // At most one write pass runs and one waits behind it: every flush asked for while a pass
  // waits joins that pass, so a burst of records past maxBatch does not queue a pass each.
  const pass = coalesced(writeOnce);

  function flush(): Promise<void> {
    return pass().then(() => {
      const failing = sinks.find((state) => state.error !== undefined);
      if (failing !== undefined) {
        throw new GatewayError('AUDIT_UNAVAILABLE', `Audit sink ${failing.sink.name} is failing; records are kept queued.`, {
          cause: failing.error,
          data: { sink: failing.sink.name, queued: backlog() },
        });
      }
    });
  }

  function hasRoom(): boolean {
    return backlog() + reserved < maxQueue;
  }

  return {
    async open() {
      for (const { sink } of sinks) await sink.open?.();
      process.on('beforeExit', onBeforeExit);
    },

    tryReserve() {
      if (!hasRoom()) return false;
      reserved += 1;
      return true;
    },

    async reserve(signal) {
      if (hasRoom()) {
        reserved += 1;
        return;
      }
      void flush().catch(() => undefined);
      await new Promise<void>((resolve, reject) => {
        const fail = (message: string): void => {
          cleanup();
          reject(new GatewayError('AUDIT_UNAVAILABLE', message, { data: { queued: backlog(), maxQueue } }));
        };
        const timeout = setTimeout(() => fail(`The audit queue stayed full for ${backpressureTimeoutMs} ms; the call was not run.`), backpressureTimeoutMs);
        const onAbort = (): void => fail('The call was aborted while waiting for room in the audit queue.');
        const wake = (): void => {
          if (hasRoom()) {
            cleanup();
            reserved += 1;
            resolve();
          } else {
            waiters.push(wake);
          }
        };
        function cleanup(): void {
          clearTimeout(timeout);
          signal?.removeEventListener('abort', onAbort);
          waiters = waiters.filter((w) => w !== wake);
        }
        signal?.addEventListener('abort', onAbort, { once: true });
        waiters.push(wake);
      });
    },

    record(given) {
      reserved = Math.max(0, reserved - 1);
      if (sinks.length === 0) return;
      const reason = visibleReason(given.reason);
      const record = reason === given.reason ? given : { ...given, reason };
      for (const state of staged) {
        try {
          state.staged?.stage(record);
        } catch (error) {
          // Encoding a well-typed record cannot fail; if it ever does, say so loudly.
          failed(state, error);
        }
      }
      if (batched.length > 0) queue.push(record);
      if (backlog() >= maxBatch) void flush().catch(() => undefined);
      else schedule();
    },

    flush,

    commit() {
      if (options.durability !== 'sync' || sinks.length === 0) return undefined;
      // Bounded like back-pressure: a hung disk refuses the call instead of holding it forever.
      return new Promise<void>((resolve, reject) => {
        const timeout = setTimeout(
          () => reject(new GatewayError('AUDIT_UNAVAILABLE', `The audit record was not durable within ${backpressureTimeoutMs} ms; it stays queued.`, { data: { queued: backlog() } })),
          backpressureTimeoutMs,
        );
        flush().then(
          () => {
            clearTimeout(timeout);
            resolve();
          },
          (error: Error) => {
            clearTimeout(timeout);
            reject(error);
          },
        );
      });
    },

    health() {
      const failing = sinks
        .filter((state) => state.error !== undefined)
        .map((state) => ({ sink: state.sink.name, error: state.error instanceof Error ? state.error.message : String(state.error) }));
      return { healthy: failing.length === 0 && hasRoom(), queued: backlog(), failing };
    },

    head() {
      for (const { sink } of sinks) {
        const head = sink.head?.();
        if (head !== undefined) return head;
      }
      return undefined;
    },

    async close() {
      process.off('beforeExit', onBeforeExit);
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      try {
        await flush();
      } finally {
        for (const { sink } of sinks) await sink.close?.();
      }
    },
  };
}
