import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { isSpendRefusal } from '../../src/pay/spend-tracker.js';
import { postgresSpendLedger } from '../../src/shared-state/spend-ledger.js';
import { useTestDatabase } from './database.js';

const db = useTestDatabase();

const run = promisify(execFile);

describe('PostgreSQL spend ledger', () => {
  it('holds one budget across 8 processes making 200 concurrent reservations each', async () => {
    const capSats = 300; // 1600 attempts of 1 sat against 300 sats
    const workers = await Promise.all(
      Array.from({ length: 8 }, () =>
        run(process.execPath, ['--import', 'tsx', 'test/shared-state/spend-worker.ts'], {
          env: { ...process.env, PG_URL: db.server.adminUrl, CAP_SATS: String(capSats), RESERVATIONS: '200' },
          timeout: 120_000,
        }),
      ),
    );
    const succeeded = workers.reduce((sum, { stdout }) => sum + Number(stdout.trim().split(' ')[0]), 0);
    expect(succeeded).toBe(capSats);
    const { rows } = await db.pool.query<{ total: string }>("SELECT sum(amount_msat + coalesce(fee_msat, fee_reserve_msat))::bigint AS total FROM portcullis.spend_entries WHERE owner = 'fleet' AND state <> 'released'");
    expect(Number(rows[0]?.total)).toBe(capSats * 1000);
  });

  it('keeps the cap, fee reserves, settle and release semantics of the in-memory tracker', async () => {
    const ledger = await postgresSpendLedger({ pool: db.pool, owner: 'single', maxAutoPaySats: 5, maxSpendPerMinuteSats: 10 });
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

  it('refuses a negative or fractional limit with CONFIG_INVALID before creating any table', async () => {
    await expect(postgresSpendLedger({ pool: db.pool, schema: 'bad_limits', maxSpendPerDaySats: -1 })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    await expect(postgresSpendLedger({ pool: db.pool, schema: 'bad_limits', maxAutoPaySats: 1.5 })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    const { rows } = await db.pool.query("SELECT 1 FROM information_schema.schemata WHERE schema_name = 'bad_limits'");
    expect(rows).toHaveLength(0);
  });

  it("keeps a dead process's reservation counting until it is settled or released", async () => {
    const ledger = await postgresSpendLedger({ pool: db.pool, owner: 'crash', maxSpendPerMinuteSats: 10 });
    const orphan = await ledger.tryReserve({ amountMsat: 9000, feeReserveMsat: 0 });
    expect(isSpendRefusal(orphan)).toBe(false);
    // Another process, later: the orphan still holds its budget.
    const other = await postgresSpendLedger({ pool: db.pool, owner: 'crash', maxSpendPerMinuteSats: 10 });
    expect(await other.tryReserve({ amountMsat: 2000, feeReserveMsat: 0 })).toMatchObject({ code: 'SPEND_LIMIT_EXCEEDED' });
  });
});
