import { canonicalJson, sha256Hex } from './canonical-json.js';
import type { AuditRecord, ChainedAuditRecord, ChainHead } from './record.js';

/** `prev_hash` of the first record of a chain. */
export const GENESIS_HASH = '0'.repeat(64);

/** Links `record` after `head` (or starts a chain). The hash covers every other field. */
export function chainRecord(record: AuditRecord, head: ChainHead | undefined): ChainedAuditRecord {
  const linked = { ...record, seq: (head?.seq ?? 0) + 1, prev_hash: head?.hash ?? GENESIS_HASH };
  return { ...linked, hash: sha256Hex(canonicalJson(linked)) };
}

/** Recomputes the hash a chained record should have. */
export function expectedHash(record: Omit<ChainedAuditRecord, 'hash'> & { hash?: unknown }): string {
  const { hash: _hash, ...rest } = record;
  return sha256Hex(canonicalJson(rest));
}
