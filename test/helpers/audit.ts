import { readFile } from 'node:fs/promises';
import type { ChainedAuditRecord } from '../../src/audit/record.js';

/** The records of a JSONL audit file, parsed. */
export async function readAudit(path: string): Promise<ChainedAuditRecord[]> {
  const text = await readFile(path, 'utf8');
  return text
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as ChainedAuditRecord);
}
