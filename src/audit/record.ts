import type { ErrorCode } from '../errors.js';

/** What the gateway decided about a call. `error`: it was allowed, then failed. */
export type AuditDecision = 'allow' | 'deny' | 'error';

/**
 * One audit record, with the field names of the gateway security guide. `args_sha256` is the
 * SHA-256 of the canonical JSON of the arguments: the arguments themselves are never stored.
 */
export interface AuditRecord {
  /** ISO 8601 time the call started. */
  timestamp: string;
  request_id: string;
  tool: string;
  actor: string | null;
  /** `null` only when the arguments could not be serialised. */
  args_sha256: string | null;
  decision: AuditDecision;
  /** Why, in words that carry no argument values or secrets. */
  reason: string;
  duration_ms: number;
  result_bytes: number;
  error_code: ErrorCode | null;
  /** Secret-free extra facts some tools add (amounts, payment hashes, origins). */
  details?: Readonly<Record<string, string | number | boolean | null>>;
}

/** A record as stored in a chained log: `hash` covers every other field, `prev_hash` included. */
export interface ChainedAuditRecord extends AuditRecord {
  /** Position in the chain, from 1. */
  seq: number;
  /** `hash` of the record before, or 64 zeros for the first. */
  prev_hash: string;
  hash: string;
}

/** The newest record of a chain: keep it elsewhere to detect a truncated tail. */
export interface ChainHead {
  seq: number;
  hash: string;
}

/** Where audit records go. `write` receives each record exactly once, in order. */
export interface AuditSink {
  /** Short name for health reports, such as `file:/var/log/audit.jsonl`. */
  readonly name: string;
  /** Called once before the first write; a sink that cannot open fails the gateway start. */
  open?(): Promise<void>;
  /** Persists a batch. On a throw the same batch is offered again later. */
  write(records: readonly AuditRecord[]): Promise<void>;
  /** The chain head, for sinks that keep a hash chain. */
  head?(): ChainHead | undefined;
  close?(): Promise<void>;
}
