import { describe, expect, it, vi } from 'vitest';
import { isSpendRefusal, type LedgerReservation, type SpendRefusal } from '../../src/pay/spend-tracker.js';
import { postgresSpendLedger } from '../../src/shared-state/spend-ledger.js';
import { useTestDatabase } from './database.js';

const db = useTestDatabase({ connectionTimeoutMillis: 2000 });

function reserved(result: LedgerReservation | SpendRefusal): LedgerReservation {
  if (isSpendRefusal(result)) throw new Error(result.reason);
  return result;
}

async function rows(schema: string, owner: string): Promise<{ granted: number; used: number | null }[]> {
  const { rows: found } = await db.pool.query<{ granted_msat: string; used_msat: string | null }>(
    `SELECT granted_msat, used_msat FROM ${schema}.spend_leases WHERE owner = $1 ORDER BY id`,
    [owner],
  );
  return found.map((row) => ({ granted: Number(row.granted_msat), used: row.used_msat === null ? null : Number(row.used_msat) }));
}

async function until(check: () => Promise<boolean>, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return check();
}

describe('review of the leased spend ledger', () => {
  it('returns a retired lease that its last settle overdraws (fee above the reserve), so the real spend counts', async () => {
    const limits = { maxSpendPerMinuteSats: 100, maxAutoPaySats: 100 };
    const ledger = await postgresSpendLedger({ pool: db.pool, owner: 'overdraw', ...limits, leaseTtlMs: 60_000 });
    // Two concurrent requests: the first lease is exactly the first, the second waits and takes its own lease,
    // retiring the first while its reservation is open.
    const [first, second] = (await Promise.all([ledger.tryReserve({ amountMsat: 10_000, feeReserveMsat: 0 }), ledger.tryReserve({ amountMsat: 10_000, feeReserveMsat: 0 })])).map(reserved);
    await second?.release();
    await first?.settle(5000); // the wallet charged 5 sats of fee over a reserve of 0
    // Every lease is given back, the first one with what was really spent.
    expect(await until(async () => (await rows('portcullis', 'overdraw')).every((row) => row.used !== null), 3000)).toBe(true);
    expect((await rows('portcullis', 'overdraw')).map((row) => row.used)).toEqual([15_000, 0]);
    // Another process sees the 15 sats at once and cannot take the cap past 100 sats.
    await using other = await postgresSpendLedger({ pool: db.pool, owner: 'overdraw', ...limits });
    expect(await other.spentLastMinuteMsat()).toBe(15_000);
    expect(isSpendRefusal(await other.tryReserve({ amountMsat: 86_000, feeReserveMsat: 0 }))).toBe(true);
    await ledger.close();
  }, 30_000);

  it('answers (UPSTREAM_ERROR, nothing reserved) instead of looping when every lease arrives after its TTL', async () => {
    const options = { pool: db.pool, schema: 'slow', owner: 'slow', maxSpendPerMinuteSats: 100, leaseTtlMs: 10 };
    await (await postgresSpendLedger(options)).close(); // creates the table
    // A slow database: every grant takes 50 ms, longer than the 10 ms TTL.
    await db.pool.query(`CREATE FUNCTION slow.sleep() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(0.05); RETURN NEW; END $$`);
    await db.pool.query('CREATE TRIGGER sleep BEFORE INSERT ON slow.spend_leases FOR EACH ROW EXECUTE FUNCTION slow.sleep()');
    const ledger = await postgresSpendLedger(options);
    const verdict = await Promise.race([
      ledger.tryReserve({ amountMsat: 1000, feeReserveMsat: 0 }).then(
        (value) => ({ value }),
        (error: unknown) => ({ error }),
      ),
      new Promise((resolve) => setTimeout(() => resolve('no verdict'), 5000)),
    ]);
    await ledger.close();
    expect(verdict).toMatchObject({ error: { code: 'UPSTREAM_ERROR' } });
    const found = await rows('slow', 'slow');
    expect(found.length).toBeGreaterThan(0);
    expect(found.length).toBeLessThanOrEqual(5);
    expect(found.every((row) => row.used === 0)).toBe(true);
  }, 30_000);

  it('keeps every sum an exact integer of msat with limits past Number.MAX_SAFE_INTEGER msat', async () => {
    const max = Number.MAX_SAFE_INTEGER;
    const ledger = await postgresSpendLedger({ pool: db.pool, owner: 'huge', maxSpendPerMinuteSats: max, maxAutoPaySats: max });
    let made = 0n;
    for (let i = 0; i < 16; i += 1) {
      const result = await ledger.tryReserve({ amountMsat: max, feeReserveMsat: 0 });
      if (isSpendRefusal(result)) {
        expect(result.code).toBe('SPEND_LIMIT_EXCEEDED');
        continue;
      }
      await result.settle(0);
      made += BigInt(max);
    }
    await ledger.close();
    const { rows: found } = await db.pool.query<{ used: string }>("SELECT coalesce(sum(used_msat), 0)::text AS used FROM portcullis.spend_leases WHERE owner = 'huge'");
    expect(BigInt(found[0]?.used ?? '-1')).toBe(made);
    expect(made).toBeGreaterThan(0n);
  });

  it('counts a fee above the reserve paid by a reservation settled after its lease was given back', async () => {
    const limits = { maxSpendPerMinuteSats: 100, maxAutoPaySats: 100 };
    const ledger = await postgresSpendLedger({ pool: db.pool, owner: 'late-fee', ...limits });
    const open = reserved(await ledger.tryReserve({ amountMsat: 10_000, feeReserveMsat: 1000 }));
    await ledger.close(); // the open reservation is counted in full: 11 sats
    expect((await rows('portcullis', 'late-fee')).map((row) => row.used)).toEqual([11_000]);
    await open.settle(5000); // the wallet charged 5 sats, 4 over the reserve
    expect((await rows('portcullis', 'late-fee')).map((row) => row.used)).toEqual([15_000]);
    await using other = await postgresSpendLedger({ pool: db.pool, owner: 'late-fee', ...limits });
    expect(await other.spentLastMinuteMsat()).toBe(15_000);
    expect(isSpendRefusal(await other.tryReserve({ amountMsat: 86_000, feeReserveMsat: 0 }))).toBe(true);
  });

  it('answers UPSTREAM_ERROR, nothing reserved, while a stalled process holds the owner lock past the TTL', async () => {
    const ledger = await postgresSpendLedger({ pool: db.pool, owner: 'stalled', maxSpendPerMinuteSats: 100, leaseTtlMs: 1000 });
    // A process stopped (SIGSTOP, a frozen VM) in the middle of taking a lease.
    const stalled = await db.pool.connect();
    await stalled.query('BEGIN');
    await stalled.query("SELECT pg_advisory_xact_lock(hashtextextended('portcullis-spend:stalled', 0))");
    try {
      const verdict = await Promise.race([
        ledger.tryReserve({ amountMsat: 1000, feeReserveMsat: 0 }).then(
          (value) => ({ value }),
          (error: unknown) => ({ error }),
        ),
        new Promise((resolve) => setTimeout(() => resolve('no verdict'), 8000)),
      ]);
      expect(verdict).toMatchObject({ error: { code: 'UPSTREAM_ERROR' } });
    } finally {
      await stalled.query('ROLLBACK');
      stalled.release();
    }
    expect(await rows('portcullis', 'stalled')).toEqual([]);
    await reserved(await ledger.tryReserve({ amountMsat: 1000, feeReserveMsat: 0 })).settle(0); // works again
    await ledger.close();
  }, 30_000);

  it('does not use a lease after the machine was suspended past its TTL (the monotonic clock stops while suspended)', async () => {
    const ledger = await postgresSpendLedger({ pool: db.pool, owner: 'suspended', maxSpendPerMinuteSats: 1000, leaseTtlMs: 60_000 });
    await reserved(await ledger.tryReserve({ amountMsat: 1000, feeReserveMsat: 0 })).settle(0); // lease 1: exactly the request
    await reserved(await ledger.tryReserve({ amountMsat: 1000, feeReserveMsat: 0 })).settle(0); // lease 2: room for one more
    // A suspend of 10 minutes, as seen after resume: performance.now() (CLOCK_MONOTONIC) barely
    // moved, the wall clock did (here shown by moving Date.now; the database's clock is not touched,
    // so lease 2 still counts: the point is only that this process must not use it any more).
    const realNow = Date.now.bind(Date);
    const spy = vi.spyOn(Date, 'now').mockImplementation(() => realNow() + 600_000);
    try {
      await reserved(await ledger.tryReserve({ amountMsat: 1000, feeReserveMsat: 0 })).settle(0);
    } finally {
      spy.mockRestore();
    }
    await ledger.close();
    expect(await rows('portcullis', 'suspended')).toHaveLength(3);
  });

  it('gives back, once the database is back, a lease whose return failed while it was down', async () => {
    const ledger = await postgresSpendLedger({ pool: db.newPool({ connectionTimeoutMillis: 500 }), owner: 'return-failed', maxSpendPerMinuteSats: 1000, leaseTtlMs: 60_000 });
    await reserved(await ledger.tryReserve({ amountMsat: 1000, feeReserveMsat: 0 })).settle(0);
    await db.server.restart({ downMs: 2500 }); // the lease is given back after 1 s idle: while the server is down
    expect(await rows('portcullis', 'return-failed')).toEqual([{ granted: 1000, used: null }]);
    await reserved(await ledger.tryReserve({ amountMsat: 1000, feeReserveMsat: 0 })).settle(0); // the database answers again
    expect(await until(async () => (await rows('portcullis', 'return-failed'))[0]?.used === 1000, 3000)).toBe(true);
    await ledger.close();
  }, 30_000);

  it('gives a verdict for an origin or actor with a NUL character (PostgreSQL text cannot hold one)', async () => {
    const limits = { maxSpendPerMinuteSats: 100, maxSpendPerOriginPerMinuteSats: 10, maxSpendPerActorPerMinuteSats: 10 };
    await using ledger = await postgresSpendLedger({ pool: db.pool, owner: 'nul', ...limits });
    const request = { amountMsat: 6000, feeReserveMsat: 0, origin: 'https://a.example\u0000', actor: 'agent\u0000x' };
    await reserved(await ledger.tryReserve(request)).settle(0);
    const second = await ledger.tryReserve(request); // 12 sats for the origin and the actor: over 10
    expect(isSpendRefusal(second) && second.code).toBe('SPEND_LIMIT_EXCEEDED');
  });
});
