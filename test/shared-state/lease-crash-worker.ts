// A worker process for lease-crash.test.ts, never run on its own: spends 1 sat at a time under
// the shared ledger's leases, CONCURRENCY payments in flight. Each reservation is written to
// kill_payments (worker, msat) after it is reserved and before its "payment" (a short wait),
// then settled. Runs until the budget refuses it, then closes the ledger and prints its count;
// the test kills some workers with -9 before that.
import pg from 'pg';
import { isSpendRefusal } from '../../src/pay/spend-tracker.js';
import { postgresSpendLedger } from '../../src/shared-state/spend-ledger.js';

const env = process.env as Record<string, string>;
const pool = new pg.Pool({ connectionString: env.PG_URL, max: 4 });
pool.on('error', () => undefined);
const ledger = await postgresSpendLedger({ pool, owner: 'kill', maxSpendPerMinuteSats: Number(env.CAP_SATS), leaseTtlMs: Number(env.LEASE_TTL_MS) });
let paid = 0;
let refused = false;
await Promise.all(
  Array.from({ length: Number(env.CONCURRENCY) }, async () => {
    while (!refused) {
      const reservation = await ledger.tryReserve({ amountMsat: 1000, feeReserveMsat: 0 });
      if (isSpendRefusal(reservation)) {
        refused = true;
        break;
      }
      await pool.query('INSERT INTO kill_payments (worker, msat) VALUES ($1, $2)', [env.WORKER, 1000]);
      await new Promise((resolve) => setTimeout(resolve, 5)); // the payment
      await reservation.settle(0);
      paid += 1;
    }
  }),
);
await ledger.close();
process.stdout.write(`${paid}\n`);
await pool.end();
