import { spellOut } from '../util/escape.js';
import { canonicalJson, sha256Hex } from './canonical-json.js';
import type { AuditRecord, ChainedAuditRecord, ChainHead } from './record.js';

/** `prev_hash` of the first record of a chain. */
export const GENESIS_HASH = '0'.repeat(64);

/** Every field a chained record may have. */
export const CHAINED_FIELDS: ReadonlySet<string> = new Set([
  'actor',
  'args_sha256',
  'decision',
  'details',
  'duration_ms',
  'error_code',
  'hash',
  'head_sig',
  'prev_hash',
  'reason',
  'request_id',
  'result_bytes',
  'seq',
  'timestamp',
  'tool',
]);

/**
 * Computes a record's `hash` from its canonical JSON (the text, or its UTF-8 bytes): SHA-256,
 * or an HMAC for a keyed chain.
 */
export type ChainHasher = (canonical: string | Uint8Array) => string;


/**
 * Canonical JSON of a record with `seq` and `prev_hash` (everything but `hash`). The object
 * literal lists the fields in sorted order and every value but `details` is a primitive, so one
 * `JSON.stringify` gives exactly what {@link canonicalJson} would, much faster. Fields outside
 * this shape are not part of a chained record.
 */
export function canonicalLinked(record: AuditRecord, seq: number, prevHash: string): string {
  return JSON.stringify({
    actor: record.actor,
    args_sha256: record.args_sha256,
    decision: record.decision,
    details: record.details === undefined ? undefined : (JSON.parse(canonicalJson(record.details)) as unknown),
    duration_ms: record.duration_ms,
    error_code: record.error_code,
    prev_hash: prevHash,
    reason: record.reason,
    request_id: record.request_id,
    result_bytes: record.result_bytes,
    seq,
    timestamp: record.timestamp,
    tool: record.tool,
  });
}

/**
 * Links `record` after `head` (or starts a chain) and returns the JSON line to store (without
 * the newline) and the new head. `hash` is the SHA-256 of the record's canonical JSON without
 * the `hash` field, and is written last on the line.
 */
export function chainLine(record: AuditRecord, head: ChainHead | undefined, hasher: ChainHasher = sha256Hex): { line: string; head: ChainHead } {
  const seq = (head?.seq ?? 0) + 1;
  const canonical = canonicalLinked(record, seq, head?.hash ?? GENESIS_HASH);
  const hash = hasher(canonical);
  return { line: `${asciiJson(canonical.slice(0, -1))},"hash":"${hash}"}`, head: { seq, hash } };
}

const NON_ASCII = /[\u0080-\uffff]/g;

/**
 * JSON text with every non-ASCII UTF-16 unit written as `\uXXXX`: the same value once parsed,
 * but a line no Unicode-aware splitter can break (U+2028, U+2029 and U+0085 are line breaks to
 * JavaScript, Python's `splitlines` and others; `JSON.stringify` leaves them raw). The hash is
 * taken over the unescaped canonical JSON, so older logs with raw characters still verify.
 */
export function asciiJson(json: string): string {
  if (Buffer.byteLength(json, 'utf8') === json.length) return json; // all ASCII: the common case, checked natively
  return spellOut(json, NON_ASCII);
}

const CONTROL = /\p{Cc}/u;

/**
 * `reason` as stored: characters a reader cannot see, or that a tool may take for a line break,
 * are written out as the text `\uXXXX`, so agent-chosen text quoted in a reason (an unknown key
 * name, a path) reads as what it is, even after the JSON is parsed.
 */
export function visibleReason(reason: string): string {
  // All ASCII and no control character (ESC, CR, LF…): nothing to spell out, the common case.
  if (Buffer.byteLength(reason, 'utf8') === reason.length && !CONTROL.test(reason)) return reason;
  return spellOut(reason);
}

/** Links `record` after `head` and returns the chained record as an object. */
export function chainRecord(record: AuditRecord, head: ChainHead | undefined): ChainedAuditRecord {
  return JSON.parse(chainLine(record, head).line) as ChainedAuditRecord;
}

/** The canonical JSON of a chained record (everything but `hash`): what its `hash` covers. */
export function canonicalOf(record: ChainedAuditRecord): string {
  return canonicalLinked(record, record.seq, record.prev_hash);
}

/**
 * The exact line the file sink writes for a parsed record (without the newline), from its
 * canonical JSON: `hash` last, then `head_sig` if signed. `ascii: false` gives the form of logs
 * written before lines were ASCII-escaped.
 */
export function storedLineOf(canonical: string, hash: string, signature: string | undefined, ascii: boolean): string {
  const body = canonical.slice(0, -1);
  const signed = signature === undefined ? '' : `,"head_sig":"${signature}"`;
  return `${ascii ? asciiJson(body) : body},"hash":"${hash}"${signed}}`;
}
