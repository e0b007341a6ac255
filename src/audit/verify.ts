import { createReadStream } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { sha256Hex } from './canonical-json.js';
import { asciiJson, canonicalOf, CHAINED_FIELDS, GENESIS_HASH, storedLineOf, type ChainHasher } from './chain.js';
import { chainHasher, headVerifier, type SigningKeyInput } from './keys.js';
import type { ChainedAuditRecord, ChainHead } from './record.js';

/** Options of {@link verifyAuditLog} and {@link verifyAuditRecords}. */
export interface VerifyAuditOptions {
  /**
   * The head you recorded elsewhere (`gw.audit.head()`). A hash chain alone cannot tell that
   * records were cut off its end; with an anchor, a missing tail is caught.
   */
  expectedHead?: ChainHead;
  /**
   * The key provider's 32-byte key of a keyed chain (`audit.key`): every `hash` must be the
   * HMAC under the key derived from it. A log edited and re-hashed without it fails.
   */
  key?: Uint8Array;
  /**
   * The Ed25519 public key matching `audit.signingKey` (a `KeyObject` or SPKI PEM): every
   * `head_sig` must verify and the last record must carry one. Needs no secret, so a third
   * party can verify an unkeyed chain with it alone.
   */
  publicKey?: SigningKeyInput;
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

/** A value from the file for a message: JSON, bounded, ASCII only (no terminal escapes or line breaks). */
function quoted(value: unknown): string {
  const text = typeof value === 'string' ? value.slice(0, 40) : value;
  return asciiJson(JSON.stringify(text) ?? 'undefined');
}

/** Checks a sequence of chained records: parsing, sequence, links and hashes. */
export async function verifyAuditRecords(
  source: AsyncIterable<string | ChainedAuditRecord> | Iterable<string | ChainedAuditRecord>,
  options: VerifyAuditOptions = {},
): Promise<AuditVerification> {
  return verifyWith(source, options, options.publicKey === undefined ? undefined : headVerifier(options.publicKey));
}

async function verifyWith(
  source: AsyncIterable<string | ChainedAuditRecord> | Iterable<string | ChainedAuditRecord>,
  options: VerifyAuditOptions,
  verifySignature: ((head: ChainHead, signature: string) => boolean) | undefined,
): Promise<AuditVerification> {
  const anchor = options.expectedHead;
  const hasher: ChainHasher = options.key === undefined ? sha256Hex : chainHasher(options.key);
  let head: ChainHead | undefined;
  let signedSeq = 0;
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
    if (unknown !== undefined) return { ok: false, records, line, reason: `unknown field ${quoted(unknown)} (record edited)` };
    const wantSeq = (head?.seq ?? 0) + 1;
    if (record.seq !== wantSeq) {
      return { ok: false, records, line, reason: `sequence ${quoted(record.seq)} where ${wantSeq} was expected (record deleted, inserted or reordered)` };
    }
    const wantPrev = head?.hash ?? GENESIS_HASH;
    if (record.prev_hash !== wantPrev) {
      return { ok: false, records, line, reason: 'prev_hash does not match the previous record (record deleted, inserted or reordered)' };
    }
    const signature = (record as { head_sig?: unknown }).head_sig; // not covered by hash (the canonical form lists its fields)
    // The canonical JSON is built once: the hash covers it and the stored line is made from it.
    const canonical = canonicalOf(record as ChainedAuditRecord);
    if (typeof record.hash !== 'string' || record.hash !== hasher(canonical)) {
      const hint = options.key === undefined ? ' (record edited, or a keyed chain checked without its key)' : ' under the key (record edited, or re-hashed without the key)';
      return { ok: false, records, line, reason: `hash does not match the record${hint}` };
    }
    // The line must be the bytes the sink writes, not only parse to the same values: whitespace,
    // `5.0e0` for 5, `\u006f` for `o`, or a duplicate key (JSON.parse keeps the last, another
    // reader the first) would otherwise verify while other tools read something else.
    if (typeof item === 'string') {
      const sig = typeof signature === 'string' ? signature : undefined;
      if (item !== storedLineOf(canonical, record.hash, sig, true) && item !== storedLineOf(canonical, record.hash, sig, false)) {
        return { ok: false, records, line, reason: 'the line is not in the canonical form the log writes (edited: spacing, number or string spelling, duplicate or reordered keys)' };
      }
    }
    head = { seq: record.seq, hash: record.hash };
    if (signature !== undefined) {
      if (typeof signature !== 'string') return { ok: false, records, line, reason: 'head_sig is not a string (record edited)' };
      if (verifySignature !== undefined) {
        if (!verifySignature(head, signature)) return { ok: false, records, line, reason: 'head_sig does not verify with the public key (head forged or record edited)' };
        signedSeq = head.seq;
      }
    }
    if (anchor !== undefined && head.seq === anchor.seq && head.hash !== anchor.hash) {
      return { ok: false, records, line, reason: 'the record at the expected head differs from the anchor (log rewritten)' };
    }
  }
  const records = head?.seq ?? 0;
  if (anchor !== undefined && records < anchor.seq) {
    return { ok: false, records, line: line + 1, reason: `log ends at sequence ${records}, before the expected head ${anchor.seq} (tail removed)` };
  }
  if (verifySignature !== undefined && signedSeq < records) {
    return { ok: false, records: signedSeq, line: signedSeq + 1, reason: `records after sequence ${signedSeq} carry no signed head (appended or edited without the signing key)` };
  }
  return { ok: true, records: head?.seq ?? 0, head };
}

/**
 * Verifies a JSONL audit file written by the file sink: every line parses, sequence numbers
 * run 1, 2, 3…, each `prev_hash` is the hash of the line before, and each `hash` matches its
 * record (an HMAC with `key` for a keyed chain); with `publicKey`, every signed head verifies
 * and the log ends on one. Catches an edited, deleted, inserted or reordered line; a removed
 * tail needs `expectedHead`.
 *
 * @example
 * ```ts
 * const verdict = await verifyAuditLog('./audit.jsonl');
 * if (!verdict.ok) console.error(`line ${verdict.line}: ${verdict.reason}`);
 * ```
 */
export async function verifyAuditLog(path: string, options: VerifyAuditOptions = {}): Promise<AuditVerification> {
  // Parsed once, and before the file is opened: a bad key fails first.
  const verifySignature = options.publicKey === undefined ? undefined : headVerifier(options.publicKey);
  const stream = createReadStream(path);
  try {
    const verdict = await verifyWith(linesOf(stream), options, verifySignature);
    if (verdict.ok && verdict.records === 0 && options.publicKey !== undefined) {
      return { ok: false, records: 0, line: 1, reason: 'the log is empty: there is no signed head to verify (truncated?)' };
    }
    return verdict;
  } catch (error) {
    if (error instanceof LineTooLong) return { ok: false, records: error.records, line: error.line, reason: `a line longer than ${MAX_LINE_CHARS} characters (not a record)` };
    throw error;
  } finally {
    stream.destroy();
  }
}

/** Longest line read, in characters: a record is far shorter; /dev/zero must not fill memory. */
const MAX_LINE_CHARS = 1024 * 1024;

class LineTooLong extends Error {
  constructor(
    readonly line: number,
    readonly records: number,
  ) {
    super('line too long');
  }
}

/**
 * The lines of a stream split on `\n` only: a `\r` is part of the line (so a CRLF or CR-edited log
 * fails the canonical-form check instead of being read as the same lines), and no line may pass
 * MAX_LINE_CHARS. A last line without its newline is yielded too (verification then judges it).
 */
async function* linesOf(stream: AsyncIterable<Buffer>): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8');
  let pending = '';
  let line = 0;
  for await (const chunk of stream) {
    pending += decoder.write(chunk);
    let newline = pending.indexOf('\n');
    while (newline !== -1) {
      line += 1;
      yield pending.slice(0, newline);
      pending = pending.slice(newline + 1);
      newline = pending.indexOf('\n');
    }
    if (pending.length > MAX_LINE_CHARS) throw new LineTooLong(line + 1, line);
  }
  pending += decoder.end();
  if (pending.length > 0) yield pending;
}
