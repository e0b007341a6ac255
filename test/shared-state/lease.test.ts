import { describe, expect, it } from 'vitest';
import { isSpendRefusal, type LedgerReservation, type SpendRefusal } from '../../src/pay/spend-tracker.js';
import { postgresSpendLedger } from '../../src/shared-state/spend-ledger.js';
import { useTestDatabase } from './database.js';

const db = useTestDatabase({ connectionTimeoutMillis: 1000 });

function reserved(result: LedgerReservation | SpendRefusal): LedgerReservation {
  if (isSpendRefusal(result)) throw new Error(result.reason);
  return result;
}

interface LeaseRow {
  granted: number;
  used: number | null;
  returned: boolean;
}

async function leases(owner: string): Promise<LeaseRow[]> {
  const { rows } = await db.pool.query<{ granted_msat: string; used_msat: string | null; returned_at: Date | null }>(
    'SELECT granted_msat, used_msat, returned_at FROM portcullis.spend_leases WHERE owner = $1 ORDER BY id',
    [owner],
  );
  return rows.map((row) => ({ granted: Number(row.granted_msat), used: row.used_msat === null ? null : Number(row.used_msat), returned: row.returned_at !== null }));
}

const sat = { amountMsat: 1000, feeReserveMsat: 0 };

describe('leases of the shared spend ledger', () => {
  it('lets a quiet process make its payment while a hot one spends close to the cap', async () => {
    const limits = { maxSpendPerMinuteSats: 1000, maxAutoPaySats: 1000 };
    await using hot = await postgresSpendLedger({ pool: db.newPool({ max: 4 }), owner: 'fair', ...limits });
    await using quiet = await postgresSpendLedger({ pool: db.newPool({ max: 2 }), owner: 'fair', ...limits });
    let spent = 0;
    let refused = 0;
    let stop = false;
    const hotLoop = Promise.all(
      Array.from({ length: 10 }, async () => {
        while (!stop) {
          const r = await hot.tryReserve(sat);
          if (isSpendRefusal(r)) {
            refused += 1;
            await new Promise((resolve) => setTimeout(resolve, 5));
            continue;
          }
          spent += 1;
          await r.settle(0);
        }
      }),
    );
    while (spent < 900) await new Promise((resolve) => setTimeout(resolve, 1));
    // The hot process holds at most 1/8 of the headroom at a time: 20 sats fit in the rest.
    const payment = await quiet.tryReserve({ amountMsat: 20_000, feeReserveMsat: 0 });
    expect(isSpendRefusal(payment)).toBe(false);
    while (refused === 0) await new Promise((resolve) => setTimeout(resolve, 5)); // the hot one runs into the cap
    stop = true;
    await hotLoop;
    expect(spent + 20).toBeLessThanOrEqual(1000);
    expect(spent).toBeGreaterThanOrEqual(1000 - 20 - 1000 / 8);
  }, 30_000);

  it('does not use a lease past its TTL, on the local monotonic clock', async () => {
    await using ledger = await postgresSpendLedger({ pool: db.pool, owner: 'ttl', maxSpendPerMinuteSats: 1000, leaseTtlMs: 200 });
    await reserved(await ledger.tryReserve(sat)).settle(0); // lease 1: exactly the request
    await reserved(await ledger.tryReserve(sat)).settle(0); // lease 2: twice the demand, 1 sat left
    // Block the event loop past the TTL, so no timer runs: the check at reservation time must refuse the lease.
    const until = performance.now() + 250;
    while (performance.now() < until) {
      // busy
    }
    await reserved(await ledger.tryReserve(sat)).settle(0);
    await new Promise((resolve) => setTimeout(resolve, 100)); // the return of lease 2 is on its way
    const rows = await leases('ttl');
    expect(rows.slice(0, 2)).toEqual([
      { granted: 1000, used: 1000, returned: true },
      { granted: 2000, used: 1000, returned: true },
    ]);
    expect(rows).toHaveLength(3);
  });

  it('gives the unused part back at close(), counts open reservations in full, then rejects with GATEWAY_CLOSED', async () => {
    const ledger = await postgresSpendLedger({ pool: db.pool, owner: 'close', maxSpendPerMinuteSats: 1000 });
    await reserved(await ledger.tryReserve(sat)).settle(0);
    const settled = reserved(await ledger.tryReserve({ amountMsat: 1000, feeReserveMsat: 500 }));
    const open = reserved(await ledger.tryReserve({ amountMsat: 500, feeReserveMsat: 0 })); // the rest of lease 2
    await settled.settle(200);
    expect((await leases('close')).at(-1)).toMatchObject({ used: null, returned: false });
    await ledger.close();
    // Lease 1: 1 sat; lease 2: the settled 1.2 sats and the open 0.5 sat (outcome unknown).
    expect(await leases('close')).toEqual([
      { granted: 1000, used: 1000, returned: true },
      { granted: 2000, used: 1700, returned: true },
    ]);
    await expect(ledger.tryReserve(sat)).rejects.toMatchObject({ code: 'GATEWAY_CLOSED' });
    await open.release(); // too late to give back: it was counted when the lease was returned
    await using other = await postgresSpendLedger({ pool: db.pool, owner: 'close', maxSpendPerMinuteSats: 1000 });
    expect(await other.spentLastMinuteMsat()).toBe(2700);
    await ledger.close(); // twice is fine
  });

  it('fails with UPSTREAM_ERROR and reserves nothing while the database is down', async () => {
    await using ledger = await postgresSpendLedger({ pool: db.newPool({ connectionTimeoutMillis: 500 }), owner: 'down', maxSpendPerMinuteSats: 1000 });
    const restarting = db.server.restart({ downMs: 1500 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const attempts = await Promise.allSettled([ledger.tryReserve(sat), ledger.tryReserve(sat), ledger.tryReserve(sat)]);
    await restarting;
    for (const attempt of attempts) expect(attempt).toMatchObject({ status: 'rejected', reason: { code: 'UPSTREAM_ERROR' } });
    expect(await leases('down')).toEqual([]);
    // Back up: the ledger works again.
    await reserved(await ledger.tryReserve(sat)).settle(0);
    expect(await leases('down')).toHaveLength(1);
  }, 30_000);
});
