import { readFile } from 'node:fs/promises';
import type { AuditRecord, ChainedAuditRecord } from '../../src/audit/record.js';

/** The records of a JSONL audit file, parsed. */
export async function readAudit(path: string): Promise<ChainedAuditRecord[]> {
  const text = await readFile(path, 'utf8');
  return text
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as ChainedAuditRecord);
}

/** A well-formed audit record for sink tests; `overrides` set what a test cares about. */
export function sampleRecord(overrides: Partial<AuditRecord> = {}): AuditRecord {
  return {
    timestamp: new Date().toISOString(),
    request_id: 'req-1',
    tool: 'demo.echo',
    actor: 'agent-1',
    args_sha256: 'a'.repeat(64),
    decision: 'allow',
    reason: 'allowed by allowTools "demo.*"',
    duration_ms: 1,
    result_bytes: 10,
    error_code: null,
    ...overrides,
  };
}
