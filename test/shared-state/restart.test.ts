import { describe, expect, it } from 'vitest';
import { createAuditLog } from '../../src/audit/log.js';
import type { AuditRecord } from '../../src/audit/record.js';
import { isSpendRefusal } from '../../src/pay/spend-tracker.js';
import { postgresAuditSink, postgresSpendLedger, verifyPostgresAudit } from '../../src/shared-state/index.js';
import { sampleRecord } from '../helpers/audit.js';
import { useTestDatabase } from './database.js';

const db = useTestDatabase({ connectionTimeoutMillis: 1000 });

const record = (i: number): AuditRecord => sampleRecord({ request_id: `r${i}` });

describe('a database restart in the middle of a run', () => {
  it('loses and doubles no reservation, and flushes the buffered audit records once it is back', async () => {
    const ledger = await postgresSpendLedger({ pool: db.pool, owner: 'restart', maxSpendPerMinuteSats: 1000 });
    const log = createAuditLog({ sinks: [postgresAuditSink({ pool: db.pool, stream: 'restart' })], flushIntervalMs: 60_000 });
    await log.open();
    let reserved = 0;
    for (let i = 0; i < 5; i++) {
      const r = await ledger.tryReserve({ amountMsat: 1000, feeReserveMsat: 0 });
      if (!isSpendRefusal(r)) reserved += 1;
      log.tryReserve();
      log.record(record(i));
    }
    await log.flush();

    const restarting = db.server.restart({ downMs: 300 });
    await new Promise((resolve) => setTimeout(resolve, 100));
    // While it is down: a reservation fails cleanly (no payment would follow), records queue up.
    const during = await ledger.tryReserve({ amountMsat: 1000, feeReserveMsat: 0 }).then(
      () => 'reserved',
      (e: { code: string }) => e.code,
    );
    for (let i = 5; i < 10; i++) {
      log.tryReserve();
      log.record(record(i));
    }
    await expect(log.flush()).rejects.toMatchObject({ code: 'AUDIT_UNAVAILABLE' });
    expect(log.health()).toMatchObject({ healthy: false, queued: 5 });
    await restarting;

    if (during === 'reserved') reserved += 1; // it may have landed before the server went down
    await log.close();
    expect(await verifyPostgresAudit({ pool: db.pool, stream: 'restart' })).toMatchObject({ ok: true, records: 10 });
    await ledger.close(); // gives the leases back with what was used
    const { rows } = await db.pool.query<{ n: string }>("SELECT sum(used_msat) / 1000 AS n FROM portcullis.spend_leases WHERE owner = 'restart'");
    expect(Number(rows[0]?.n)).toBe(reserved);
    expect(reserved).toBeGreaterThanOrEqual(5);
  });
});
