// The shared spend ledger on PostgreSQL: reservations+settles/s with 1, 4 and 8 processes against
// one owner's budget, for the leased ledger (src), the previous advisory-lock design
// (bench/baselines) and the in-memory tracker (one budget per process: the ceiling), all in the
// same run on the same server; and audit records/s into PostgreSQL versus the file sink.
// Starts its own PostgreSQL.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pg from 'pg';
import { jsonlFileSink } from '../src/audit/file-sink.js';
import { createAuditLog } from '../src/audit/log.js';
import type { AuditRecord, AuditSink } from '../src/audit/record.js';
import { postgresAuditSink } from '../src/shared-state/index.js';
import { startPostgres } from '../test/helpers/postgres.js';
import { fmt, opsPerSecond } from './stats.js';

const run = promisify(execFile);
const RECORDS = Number(process.env.BENCH_RECORDS ?? 50_000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 64);
/** Reservations per process: enough for each design to run for a while, the slow one less. */
const DESIGNS = [
  { design: 'lease', label: 'leased ledger (src)', reservations: Number(process.env.BENCH_LEASE_RESERVATIONS ?? 40_000) },
  { design: 'advisory', label: 'advisory lock (baseline)', reservations: Number(process.env.BENCH_ADVISORY_RESERVATIONS ?? 400) },
  { design: 'memory', label: 'in-memory tracker', reservations: Number(process.env.BENCH_MEMORY_RESERVATIONS ?? 200_000) },
] as const;
const server = await startPostgres();
const pool = new pg.Pool({ connectionString: server.adminUrl, max: 8 });
pool.on('error', () => undefined);

console.log(`shared-state: PostgreSQL ${server.port} on this machine, ${CONCURRENCY} reservations in flight per process`);
// Worker processes (test/shared-state/spend-worker.ts), each reserving and settling 1 sat at a
// time with CONCURRENCY in flight, on a pool of 4 connections, against one owner's budget (a cap
// never reached). Each reports the time its reservations took (ledger created, start-up not
// counted); reported: all reservations / the slowest worker's time.
const rates = new Map<string, number>();
for (const processes of [1, 4, 8]) {
  for (const { design, reservations } of DESIGNS) {
    const owner = `bench-${design}-${processes}`;
    const outputs = await Promise.all(
      Array.from({ length: processes }, () =>
        run(process.execPath, ['--import', 'tsx', 'test/shared-state/spend-worker.ts'], {
          env: { ...process.env, PG_URL: server.adminUrl, CAP_SATS: String(1e12), RESERVATIONS: String(reservations), CONCURRENCY: String(CONCURRENCY), DESIGN: design, OWNER: owner },
        }),
      ),
    );
    const slowestMs = Math.max(...outputs.map(({ stdout }) => Number(stdout.trim().split(' ')[1])));
    rates.set(`${design}/${processes}`, (processes * reservations) / (slowestMs / 1000));
  }
  const at = (design: string): number => rates.get(`${design}/${processes}`) ?? Number.NaN;
  for (const { design, label } of DESIGNS) console.log(`  ${processes} process(es), ${label.padEnd(26)} ${fmt(at(design)).padStart(10)} reservations+settles/s`);
  console.log(`  ${processes} process(es), leased / advisory lock: ${(at('lease') / at('advisory')).toFixed(1)}x, leased / in-memory: ${(at('lease') / at('memory')).toFixed(3)}x`);
}
const { rows } = await pool.query<{ leases: string }>("SELECT count(*) AS leases FROM portcullis.spend_leases WHERE owner LIKE 'bench-lease-%'");
console.log(`  leases taken by the leased ledger over all its runs: ${rows[0]?.leases}`);

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
