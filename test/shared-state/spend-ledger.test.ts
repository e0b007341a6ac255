import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { isSpendRefusal } from '../../src/pay/spend-tracker.js';
import { postgresSpendLedger } from '../../src/shared-state/spend-ledger.js';
import { useTestDatabase } from './database.js';

const db = useTestDatabase();

const run = promisify(execFile);

/** Runs `count` spend workers (spend-worker.ts) at once; returns each one's accepted count and counts per key. */
async function workers(count: number, env: Record<string, string>): Promise<{ succeeded: number; byKey: Record<string, number> }[]> {
  const outputs = await Promise.all(
    Array.from({ length: count }, () =>
      run(process.execPath, ['--import', 'tsx', 'test/shared-state/spend-worker.ts'], { env: { ...process.env, PG_URL: db.server.adminUrl, ...env }, timeout: 90_000 }),
    ),
  );
  return outputs.map(({ stdout }) => {
    const [succeeded, , byKey] = stdout.trim().split(' ');
    return { succeeded: Number(succeeded), byKey: JSON.parse(byKey ?? '{}') as Record<string, number> };
  });
}

async function leaseRows(owner: string): Promise<{ counted: number; live: number }> {
  const { rows } = await db.pool.query<{ counted: string; live: string }>(
    'SELECT coalesce(sum(coalesce(used_msat, granted_msat)), 0)::bigint AS counted, count(*) FILTER (WHERE used_msat IS NULL) AS live FROM portcullis.spend_leases WHERE owner = $1',
    [owner],
  );
  return { counted: Number(rows[0]?.counted), live: Number(rows[0]?.live) };
}

describe('PostgreSQL spend ledger (leased budget slices)', () => {
  it('holds one budget across 8 processes making 200 concurrent reservations each, and uses nearly all of it', async () => {
    const capSats = 300; // 1600 attempts of 1 sat against 300 sats
    const results = await workers(8, { CAP_SATS: String(capSats), RESERVATIONS: '200', OWNER: 'fleet' });
    const succeeded = results.reduce((sum, r) => sum + r.succeeded, 0);
    expect(succeeded).toBeLessThanOrEqual(capSats);
    // Budget left unused once demand stops is at most one lease, and a lease is at most 1/8 of
    // the headroom: only a process whose whole demand was met can end with part of one unused.
    expect(succeeded).toBeGreaterThanOrEqual(capSats - capSats / 8);
    // Every lease was given back at close(), with exactly what was used.
    expect(await leaseRows('fleet')).toEqual({ counted: succeeded * 1000, live: 0 });
  }, 90_000);

  it('holds the per-origin, per-actor and day limits across 4 processes', async () => {
    const results = await workers(4, {
      OWNER: 'keyed',
      RESERVATIONS: '120',
      CONCURRENCY: '20',
      CAP_SATS: '1000',
      ORIGIN_CAP_SATS: '30',
      ACTOR_CAP_SATS: '25',
      DAY_CAP_SATS: '50',
      ORIGINS: '2',
      ACTORS: '3',
    });
    const sum = (key: string): number => results.reduce((total, r) => total + (r.byKey[key] ?? 0), 0);
    const succeeded = results.reduce((total, r) => total + r.succeeded, 0);
    expect(succeeded).toBeLessThanOrEqual(50);
    expect(succeeded).toBeGreaterThan(0);
    for (const origin of ['https://o0.test', 'https://o1.test']) expect(sum(origin)).toBeLessThanOrEqual(30);
    for (const actor of ['a0', 'a1', 'a2']) expect(sum(actor)).toBeLessThanOrEqual(25);
    // Leases are keyed by (origin, actor): each row counts in its origin's and actor's sums.
    const { rows } = await db.pool.query<{ origin: string; actor: string; used: string }>(
      "SELECT origin, actor, sum(used_msat)::bigint AS used FROM portcullis.spend_leases WHERE owner = 'keyed' GROUP BY origin, actor",
    );
    expect(rows.every((row) => row.origin !== null && row.actor !== null)).toBe(true);
    expect(rows.reduce((total, row) => total + Number(row.used), 0)).toBe(succeeded * 1000);
    expect(await leaseRows('keyed')).toMatchObject({ live: 0 });
  }, 90_000);

  it('keeps the cap, fee reserves, settle and release semantics of the in-memory tracker', async () => {
    await using ledger = await postgresSpendLedger({ pool: db.pool, owner: 'single', maxAutoPaySats: 5, maxSpendPerMinuteSats: 10 });
    expect(await ledger.tryReserve({ amountMsat: 5001, feeReserveMsat: 0 })).toMatchObject({ code: 'APPROVAL_REQUIRED' });
    const first = await ledger.tryReserve({ amountMsat: 5000, feeReserveMsat: 3000 });
    if (isSpendRefusal(first)) throw new Error(first.reason);
    expect(await ledger.tryReserve({ amountMsat: 3000, feeReserveMsat: 0 })).toMatchObject({ code: 'SPEND_LIMIT_EXCEEDED' });
    await first.settle(1000);
    expect(await ledger.spentLastMinuteMsat()).toBe(6000);
    const second = await ledger.tryReserve({ amountMsat: 4000, feeReserveMsat: 0 });
    if (isSpendRefusal(second)) throw new Error(second.reason);
    await second.release();
    expect(await ledger.spentLastMinuteMsat()).toBe(6000);
  });

  it('asks for approval per request, even with room left in a live lease', async () => {
    await using ledger = await postgresSpendLedger({ pool: db.pool, owner: 'approval', maxAutoPaySats: 5, maxSpendPerMinuteSats: 1000 });
    // Two leases: the second is twice the first's demand (20 sats), so 10 sats are left in it.
    for (let i = 0; i < 2; i++) {
      const r = await ledger.tryReserve({ amountMsat: 10_000, feeReserveMsat: 0, approved: true });
      if (isSpendRefusal(r)) throw new Error(r.reason);
    }
    expect(await ledger.tryReserve({ amountMsat: 5001, feeReserveMsat: 0 })).toMatchObject({ code: 'APPROVAL_REQUIRED', limit: 'maxAutoPaySats' });
    expect(isSpendRefusal(await ledger.tryReserve({ amountMsat: 5001, feeReserveMsat: 0, approved: true }))).toBe(false);
    const { rows } = await db.pool.query("SELECT granted_msat FROM portcullis.spend_leases WHERE owner = 'approval' ORDER BY id");
    expect(rows).toEqual([{ granted_msat: '10000' }, { granted_msat: '20000' }]); // the approved one came from the lease
  });

  it('refuses a negative or fractional limit, or a bad lease TTL, with CONFIG_INVALID before creating any table', async () => {
    await expect(postgresSpendLedger({ pool: db.pool, schema: 'bad_limits', maxSpendPerDaySats: -1 })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    await expect(postgresSpendLedger({ pool: db.pool, schema: 'bad_limits', maxAutoPaySats: 1.5 })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    for (const leaseTtlMs of [0, 9, 1.5, 600_001, Number.NaN]) {
      await expect(postgresSpendLedger({ pool: db.pool, schema: 'bad_limits', leaseTtlMs })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    }
    const { rows } = await db.pool.query("SELECT 1 FROM information_schema.schemata WHERE schema_name = 'bad_limits'");
    expect(rows).toHaveLength(0);
  });

  it("keeps a dead process's lease counting in full", async () => {
    const ledger = await postgresSpendLedger({ pool: db.pool, owner: 'crash', maxSpendPerMinuteSats: 10 });
    const orphan = await ledger.tryReserve({ amountMsat: 9000, feeReserveMsat: 0 });
    expect(isSpendRefusal(orphan)).toBe(false);
    // Another process, later: the orphan still holds its budget.
    await using other = await postgresSpendLedger({ pool: db.pool, owner: 'crash', maxSpendPerMinuteSats: 10 });
    expect(await other.tryReserve({ amountMsat: 2000, feeReserveMsat: 0 })).toMatchObject({ code: 'SPEND_LIMIT_EXCEEDED' });
    expect(isSpendRefusal(await other.tryReserve({ amountMsat: 1000, feeReserveMsat: 0 }))).toBe(false);
  });
});
