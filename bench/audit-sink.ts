// Audit file sink throughput: RECORDS records through the audit log into a hash-chained JSONL
// file (canonical JSON, SHA-256 chain, fdatasync per batch), then verifyAuditLog over the file,
// versus a baseline in the same run that does the irreducible work of one line: JSON.stringify
// of the record, SHA-256 of it, and appending the lines to a file with one fdatasync per batch.
import { hash } from 'node:crypto';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAuditLog, jsonlFileSink, verifyAuditLog, type AuditRecord } from '../src/audit/index.js';
import { fmt, median, opsPerSecond } from './stats.js';

const RECORDS = Number(process.env.BENCH_RECORDS ?? 50_000);
const BATCH = 1000;
const ROUNDS = 5;

const dir = await mkdtemp(join(tmpdir(), 'portcullis-bench-sink-'));
const record = (i: number): AuditRecord => ({
  timestamp: '2026-01-01T00:00:00.000Z',
  request_id: `req-${i}`,
  tool: 'bench.noop',
  actor: 'bench',
  args_sha256: 'a'.repeat(64),
  decision: 'allow',
  reason: 'allowed by allowTools "bench.*"',
  duration_ms: 0,
  result_bytes: 4,
  error_code: null,
});

let round = 0;
async function sinkRound(): Promise<void> {
  const log = createAuditLog({ sinks: [jsonlFileSink({ path: join(dir, `sink-${round}.jsonl`) })], maxBatch: BATCH, maxQueue: BATCH * 2 });
  await log.open();
  for (let i = 0; i < RECORDS; i++) {
    if (!log.tryReserve()) await log.reserve();
    log.record(record(i));
  }
  await log.close();
}

async function baselineRound(): Promise<void> {
  const handle = await open(join(dir, `raw-${round}.jsonl`), 'a', 0o600);
  let prev = '0'.repeat(64);
  for (let start = 0; start < RECORDS; start += BATCH) {
    let text = '';
    for (let i = start; i < Math.min(RECORDS, start + BATCH); i++) {
      const line = JSON.stringify({ ...record(i), prev_hash: prev });
      prev = hash('sha256', line, 'hex');
      text += `${line.slice(0, -1)},"hash":"${prev}"}\n`;
    }
    await handle.write(text);
    await handle.datasync();
  }
  await handle.close();
}

async function verifyRound(): Promise<void> {
  const verdict = await verifyAuditLog(join(dir, `sink-${round}.jsonl`));
  if (!verdict.ok || verdict.records !== RECORDS) throw new Error(`verification failed: ${JSON.stringify(verdict)}`);
}

await baselineRound();
await sinkRound();
const baseline: number[] = [];
const sink: number[] = [];
const verify: number[] = [];
for (round = 1; round <= ROUNDS; round++) {
  baseline.push(await opsPerSecond(RECORDS, baselineRound));
  sink.push(await opsPerSecond(RECORDS, sinkRound));
  verify.push(await opsPerSecond(RECORDS, verifyRound));
}
await rm(dir, { recursive: true, force: true });
console.log(`audit-sink: ${RECORDS} records x ${ROUNDS} rounds (median), batches of ${BATCH}, fdatasync per batch`);
console.log(`  baseline (JSON.stringify + SHA-256 + append): ${fmt(median(baseline))} records/s`);
console.log(`  audit log -> jsonlFileSink:                  ${fmt(median(sink))} records/s`);
console.log(`  verifyAuditLog:                              ${fmt(median(verify))} records/s`);
console.log(`  ratio sink/baseline: ${(median(sink) / median(baseline)).toFixed(2)}x, verify/baseline: ${(median(verify) / median(baseline)).toFixed(2)}x`);
