import type { AuditRecord, AuditSink } from './record.js';

/**
 * A sink that takes records one at a time as they are made and writes them later in one go.
 * The audit log prefers this to batch `write` where a sink offers it: the record is encoded at
 * once and only its bytes wait for the disk, so a burst of calls does not keep thousands of
 * record objects alive (and copied by every young-generation GC) until the write completes.
 */
export interface StagedWriter {
  /** Encodes one record into the pending bytes. Synchronous; never waits. */
  stage(record: AuditRecord): void;
  /** Writes everything staged so far. On a throw the bytes stay staged and are tried again. */
  drain(): Promise<void>;
  /** Records staged and not yet written. */
  pending(): number;
}

// A WeakMap rather than a method keeps the capability out of the public sink types.
const writers = new WeakMap<AuditSink, StagedWriter>();

/** Marks `sink` as one the audit log feeds through `writer`. */
export function attachStagedWriter(sink: AuditSink, writer: StagedWriter): void {
  writers.set(sink, writer);
}

/** The staged writer of `sink`, if it has one. */
export function stagedWriterOf(sink: AuditSink): StagedWriter | undefined {
  return writers.get(sink);
}
