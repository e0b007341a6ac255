import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { isSpendRefusal } from '../../src/pay/spend-tracker.js';
import { postgresSpendLedger } from '../../src/shared-state/spend-ledger.js';
import { useTestDatabase } from './database.js';

const db = useTestDatabase();
const run = promisify(execFile);

const CAP_SATS = 3000;
const TTL_MS = 2000;

async function paymentsBy(worker: string): Promise<number> {
  const { rows } = await db.pool.query<{ n: string }>('SELECT count(*) AS n FROM kill_payments WHERE worker = $1', [worker]);
  return Number(rows[0]?.n);
}

describe('workers spending under leases, some killed with -9 mid-payment', () => {
  it('never pays past the cap, keeps the dead leases counted in full, and gives a new process what the rule leaves', async () => {
    await db.pool.query('CREATE TABLE kill_payments (worker text NOT NULL, msat bigint NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp())');
    const env = { ...process.env, PG_URL: db.server.adminUrl, CAP_SATS: String(CAP_SATS), LEASE_TTL_MS: String(TTL_MS), CONCURRENCY: '4' };
    const start = (worker: string): ChildProcess =>
      spawn(process.execPath, ['--import', 'tsx', 'test/shared-state/lease-crash-worker.ts'], { env: { ...env, WORKER: worker }, stdio: ['ignore', 'ignore', 'inherit'] });
    const victims = [start('victim-1'), start('victim-2')];
    const exited = victims.map((victim) => once(victim, 'exit'));
    const survivors = ['survivor-1', 'survivor-2'].map((worker) =>
      run(process.execPath, ['--import', 'tsx', 'test/shared-state/lease-crash-worker.ts'], { env: { ...env, WORKER: worker }, timeout: 60_000 }),
    );
    // Mid-way: each victim has paid some, with reservations in flight under a live lease.
    while ((await paymentsBy('victim-1')) < 100 || (await paymentsBy('victim-2')) < 100) await new Promise((resolve) => setTimeout(resolve, 20));
    const { rows: killedAt } = await db.pool.query<{ at: Date }>('SELECT clock_timestamp() AS at');
    for (const victim of victims) victim.kill('SIGKILL');
    await Promise.all(exited);
    expect(victims.map((victim) => victim.signalCode)).toEqual(['SIGKILL', 'SIGKILL']);

    // The survivors go on until the budget refuses them, then close and give their leases back.
    const survivorCounts = (await Promise.all(survivors)).map(({ stdout }) => Number(stdout.trim()));
    const { rows: after } = await db.pool.query<{ n: string }>("SELECT count(*) AS n FROM kill_payments WHERE worker LIKE 'survivor-%' AND at > $1", [killedAt[0]?.at]);
    expect(Number(after[0]?.n)).toBeGreaterThan(0);
    expect(await paymentsBy('survivor-1')).toBe(survivorCounts[0]);
    expect(await paymentsBy('survivor-2')).toBe(survivorCounts[1]);

    // Never past the cap: every payment of the window, dead workers' included.
    const { rows: paid } = await db.pool.query<{ msat: string }>('SELECT coalesce(sum(msat), 0)::bigint AS msat FROM kill_payments');
    const paidMsat = Number(paid[0]?.msat);
    expect(paidMsat).toBeLessThanOrEqual(CAP_SATS * 1000);

    // After the TTL the dead leases are expired but still count in full (granted, not used)
    // until their expiry leaves the minute; nothing paid is uncounted.
    await new Promise((resolve) => setTimeout(resolve, TTL_MS + 200));
    const { rows: leases } = await db.pool.query<{ dead: string; dead_msat: string; counted_msat: string; expired: boolean; kept_expiry: boolean }>(
      `SELECT count(*) FILTER (WHERE used_msat IS NULL) AS dead,
              coalesce(sum(granted_msat) FILTER (WHERE used_msat IS NULL), 0)::bigint AS dead_msat,
              sum(coalesce(used_msat, granted_msat)) FILTER (WHERE counted_until > clock_timestamp() - interval '60 seconds')::bigint AS counted_msat,
              coalesce(bool_and(counted_until < clock_timestamp()) FILTER (WHERE used_msat IS NULL), false) AS expired,
              coalesce(bool_and(counted_until = created_at + interval '${TTL_MS} milliseconds') FILTER (WHERE used_msat IS NULL), false) AS kept_expiry
       FROM portcullis.spend_leases WHERE owner = 'kill'`,
    );
    const row = leases[0];
    expect(Number(row?.dead)).toBeGreaterThanOrEqual(2); // one live lease per victim at least
    expect(row?.expired).toBe(true);
    expect(row?.kept_expiry).toBe(true);
    const countedMsat = Number(row?.counted_msat);
    expect(countedMsat).toBeLessThanOrEqual(CAP_SATS * 1000);
    expect(paidMsat).toBeLessThanOrEqual(countedMsat);

    // A new process gets exactly what the rule leaves: the cap minus what is counted, dead leases in full.
    await using fresh = await postgresSpendLedger({ pool: db.pool, owner: 'kill', maxSpendPerMinuteSats: CAP_SATS, maxAutoPaySats: CAP_SATS, leaseTtlMs: TTL_MS });
    const leftMsat = CAP_SATS * 1000 - countedMsat;
    if (leftMsat > 0) {
      const r = await fresh.tryReserve({ amountMsat: leftMsat, feeReserveMsat: 0 });
      expect(isSpendRefusal(r)).toBe(false);
    }
    expect(await fresh.tryReserve({ amountMsat: 1000, feeReserveMsat: 0 })).toMatchObject({ code: 'SPEND_LIMIT_EXCEEDED' });
  }, 90_000);
});
