// The shared ledger on PostgreSQL: reservations/s with 1, 4 and 8 processes against one
// owner's budget, with the in-memory tracker as the ceiling;
// and audit records/s into PostgreSQL versus the file sink. Starts its own PostgreSQL.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pg from 'pg';
import { jsonlFileSink } from '../src/audit/file-sink.js';
import { createAuditLog } from '../src/audit/log.js';
import type { AuditRecord, AuditSink } from '../src/audit/record.js';
import { createSpendTracker, isSpendRefusal } from '../src/pay/spend-tracker.js';
import { postgresAuditSink } from '../src/shared-state/index.js';
import { startPostgres } from '../test/helpers/postgres.js';
import { fmt, opsPerSecond } from './stats.js';

const RESERVATIONS = Number(process.env.BENCH_RESERVATIONS ?? 500);
const run = promisify(execFile);
const RECORDS = Number(process.env.BENCH_RECORDS ?? 50_000);
const server = await startPostgres();
const pool = new pg.Pool({ connectionString: server.adminUrl, max: 8 });
pool.on('error', () => undefined);

const memory = createSpendTracker({ maxSpendPerMinuteSats: 1e12, maxAutoPaySats: 1e9 });
const memoryRate = await opsPerSecond(200_000, () => {
  for (let i = 0; i < 200_000; i++) {
    const r = memory.tryReserve({ amountMsat: 1000, feeReserveMsat: 100 });
    if (!isSpendRefusal(r)) r.settle(10);
  }
});
console.log(`shared-state: PostgreSQL ${server.port} on this machine`);
console.log(`  in-memory tracker (ceiling):            ${fmt(memoryRate)} reservations/s`);
// Worker processes (test/shared-state/spend-worker.ts), each making RESERVATIONS reservations
// at once on a pool of 4 connections, against one owner's budget; each reports the time its reservations took, so
// process start-up is not counted. Reported: all reservations / the slowest worker's time.
for (const processes of [1, 4, 8]) {
  await pool.query("DELETE FROM portcullis.spend_entries WHERE owner = 'fleet'").catch(() => undefined);
  const outputs = await Promise.all(
    Array.from({ length: processes }, () =>
      run(process.execPath, ['--import', 'tsx', 'test/shared-state/spend-worker.ts'], {
        env: { ...process.env, PG_URL: server.adminUrl, CAP_SATS: String(1e9), RESERVATIONS: String(RESERVATIONS) },
      }),
    ),
  );
  const slowestMs = Math.max(...outputs.map(({ stdout }) => Number(stdout.trim().split(' ')[1])));
  const rate = (processes * RESERVATIONS) / (slowestMs / 1000);
  console.log(`  shared ledger, ${processes} process(es):          ${fmt(rate)} reservations+settles/s (${(rate / memoryRate).toFixed(4)}x the in-memory tracker)`);
}

const record: AuditRecord = {
  timestamp: new Date().toISOString(),
  request_id: 'r',
  tool: 'demo.echo',
  actor: 'bench',
  args_sha256: 'a'.repeat(64),
  decision: 'allow',
  reason: 'allowed',
  duration_ms: 1,
  result_bytes: 2,
  error_code: null,
};
async function auditRate(sink: AuditSink): Promise<number> {
  const log = createAuditLog({ sinks: [sink], flushIntervalMs: 20, maxBatch: 1000 });
  await log.open();
  return opsPerSecond(RECORDS, async () => {
    for (let i = 0; i < RECORDS; i++) {
      if (!log.tryReserve()) await log.reserve();
      log.record({ ...record, request_id: `r${i}` });
    }
    await log.close();
  });
}
const dir = await mkdtemp(join(tmpdir(), 'portcullis-bench-audit-'));
const fileRate = await auditRate(jsonlFileSink({ path: join(dir, 'audit.jsonl') }));
const pgRate = await auditRate(postgresAuditSink({ pool, stream: 'bench' }));
console.log(`  audit, file sink (fdatasync per batch): ${fmt(fileRate)} records/s`);
console.log(`  audit, PostgreSQL sink:                 ${fmt(pgRate)} records/s (${(pgRate / fileRate).toFixed(2)}x the file sink)`);
await rm(dir, { recursive: true, force: true });
await pool.end();
await server.stop();
