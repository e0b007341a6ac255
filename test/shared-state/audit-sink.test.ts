import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { createAuditLog } from '../../src/audit/log.js';
import type { AuditRecord } from '../../src/audit/record.js';
import { postgresAuditSink, verifyPostgresAudit } from '../../src/shared-state/index.js';
import { sampleRecord } from '../helpers/audit.js';
import { useTestDatabase } from './database.js';

const db = useTestDatabase({ max: 10 });

function record(writer: number, i: number): AuditRecord {
  return sampleRecord({ request_id: `w${writer}-${i}`, actor: `writer-${writer}` });
}

describe('PostgreSQL audit sink', () => {
  it('keeps one unbroken chain for 8 concurrent writers of 10,000 records each', async () => {
    const writers = Array.from({ length: 8 }, () => createAuditLog({ sinks: [postgresAuditSink({ pool: db.pool, stream: 'fleet' })], flushIntervalMs: 20, maxBatch: 500 }));
    await Promise.all(writers.map((log) => log.open()));
    await Promise.all(
      writers.map(async (log, w) => {
        for (let i = 0; i < 10_000; i++) {
          if (!log.tryReserve()) await log.reserve();
          log.record(record(w, i));
        }
        await log.close();
      }),
    );
    expect(await verifyPostgresAudit({ pool: db.pool, stream: 'fleet' })).toMatchObject({ ok: true, records: 80_000 });
    const { rows } = await db.pool.query<{ n: string; writers: string }>("SELECT count(*) AS n, count(DISTINCT line::jsonb->>'actor') AS writers FROM portcullis.audit_records WHERE stream = 'fleet'");
    expect(rows[0]).toEqual({ n: '80000', writers: '8' });
  });

  it('detects an edited row, a deleted row and a cut-off tail (with the anchor)', async () => {
    const sink = postgresAuditSink({ pool: db.pool, stream: 'tamper' });
    await sink.open?.();
    await sink.write(Array.from({ length: 10 }, (_, i) => record(0, i)));
    const head = sink.head();
    expect(await verifyPostgresAudit({ pool: db.pool, stream: 'tamper', ...(head === undefined ? {} : { expectedHead: head }) })).toMatchObject({ ok: true, records: 10 });
    await db.pool.query("UPDATE portcullis.audit_records SET line = replace(line, '\"allow\"', '\"deny\"') WHERE stream = 'tamper' AND seq = 4");
    expect(await verifyPostgresAudit({ pool: db.pool, stream: 'tamper' })).toMatchObject({ ok: false, line: 4 });
    await db.pool.query("DELETE FROM portcullis.audit_records WHERE stream = 'tamper' AND seq = 4");
    expect(await verifyPostgresAudit({ pool: db.pool, stream: 'tamper' })).toMatchObject({ ok: false });
    const sink2 = postgresAuditSink({ pool: db.pool, stream: 'tail' });
    await sink2.write(Array.from({ length: 5 }, (_, i) => record(1, i)));
    const anchor = sink2.head();
    await db.pool.query("DELETE FROM portcullis.audit_records WHERE stream = 'tail' AND seq = 5");
    expect(await verifyPostgresAudit({ pool: db.pool, stream: 'tail' })).toMatchObject({ ok: true, records: 4 });
    expect(await verifyPostgresAudit({ pool: db.pool, stream: 'tail', ...(anchor === undefined ? {} : { expectedHead: anchor }) })).toMatchObject({ ok: false });
  });

  it('keeps records queued and reports the sink unhealthy while the database refuses writes', async () => {
    const broken = new pg.Pool({ connectionString: db.server.adminUrl.replace(/:(\d+)\//, ':1/'), max: 1, connectionTimeoutMillis: 500 });
    broken.on('error', () => undefined);
    const log = createAuditLog({ sinks: [postgresAuditSink({ pool: broken, stream: 'down' })], flushIntervalMs: 60_000 });
    for (let i = 0; i < 3; i++) {
      log.tryReserve();
      log.record(record(2, i));
    }
    await expect(log.flush()).rejects.toMatchObject({ code: 'AUDIT_UNAVAILABLE' });
    expect(log.health()).toMatchObject({ healthy: false, queued: 3 });
    await broken.end();
  });
});
