import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { CHAINED_FIELDS, expectedHash, GENESIS_HASH } from './chain.js';
import type { ChainedAuditRecord, ChainHead } from './record.js';

/** Options of {@link verifyAuditLog} and {@link verifyAuditRecords}. */
export interface VerifyAuditOptions {
  /**
   * The head you recorded elsewhere (`gw.audit.head()`). A hash chain alone cannot tell that
   * records were cut off its end; with an anchor, a missing tail is caught.
   */
  expectedHead?: ChainHead;
}

/** The verdict of a verification. */
export type AuditVerification =
  | { ok: true; records: number; head: ChainHead | undefined }
  | {
      ok: false;
      /** Records that verified before the first problem. */
      records: number;
      /** 1-based line (or position) of the first problem. */
      line: number;
      reason: string;
    };

/** Checks a sequence of chained records: parsing, sequence, links and hashes. */
export async function verifyAuditRecords(
  source: AsyncIterable<string | ChainedAuditRecord> | Iterable<string | ChainedAuditRecord>,
  options: VerifyAuditOptions = {},
): Promise<AuditVerification> {
  const anchor = options.expectedHead;
  let head: ChainHead | undefined;
  let line = 0;
  for await (const item of source) {
    line += 1;
    const records = line - 1;
    let record: Partial<ChainedAuditRecord>;
    if (typeof item === 'string') {
      if (item.length === 0) return { ok: false, records, line, reason: 'empty line' };
      try {
        record = JSON.parse(item) as Partial<ChainedAuditRecord>;
      } catch {
        return { ok: false, records, line, reason: 'not valid JSON (torn or edited line)' };
      }
    } else {
      record = item;
    }
    if (record === null || typeof record !== 'object') return { ok: false, records, line, reason: 'not a record' };
    const unknown = Object.keys(record).find((key) => !CHAINED_FIELDS.has(key));
    if (unknown !== undefined) return { ok: false, records, line, reason: `unknown field "${unknown.slice(0, 40)}" (record edited)` };
    const wantSeq = (head?.seq ?? 0) + 1;
    if (record.seq !== wantSeq) {
      return { ok: false, records, line, reason: `sequence ${String(record.seq)} where ${wantSeq} was expected (record deleted, inserted or reordered)` };
    }
    const wantPrev = head?.hash ?? GENESIS_HASH;
    if (record.prev_hash !== wantPrev) {
      return { ok: false, records, line, reason: 'prev_hash does not match the previous record (record deleted, inserted or reordered)' };
    }
    if (typeof record.hash !== 'string' || record.hash !== expectedHash(record as ChainedAuditRecord)) {
      return { ok: false, records, line, reason: 'hash does not match the record (record edited)' };
    }
    head = { seq: record.seq, hash: record.hash };
    if (anchor !== undefined && head.seq === anchor.seq && head.hash !== anchor.hash) {
      return { ok: false, records, line, reason: 'the record at the expected head differs from the anchor (log rewritten)' };
    }
  }
  const records = head?.seq ?? 0;
  if (anchor !== undefined && records < anchor.seq) {
    return { ok: false, records, line: line + 1, reason: `log ends at sequence ${records}, before the expected head ${anchor.seq} (tail removed)` };
  }
  return { ok: true, records: head?.seq ?? 0, head };
}

/**
 * Verifies a JSONL audit file written by the file sink: every line parses, sequence numbers
 * run 1, 2, 3…, each `prev_hash` is the hash of the line before, and each `hash` matches its
 * record. Catches an edited, deleted, inserted or reordered line.
 *
 * @example
 * ```ts
 * const verdict = await verifyAuditLog('./audit.jsonl');
 * if (!verdict.ok) console.error(`line ${verdict.line}: ${verdict.reason}`);
 * ```
 */
export async function verifyAuditLog(path: string, options: VerifyAuditOptions = {}): Promise<AuditVerification> {
  const stream = createReadStream(path, { encoding: 'utf8' });
  const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
  try {
    return await verifyAuditRecords(lines, options);
  } finally {
    lines.close();
    stream.destroy();
  }
}
