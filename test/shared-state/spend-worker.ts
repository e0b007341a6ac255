// One worker process: makes RESERVATIONS concurrent reservations against the shared ledger and
// prints how many succeeded. Started by spend-ledger.test.ts, never on its own.
import pg from 'pg';
import { isSpendRefusal } from '../../src/pay/spend-tracker.js';
import { postgresSpendLedger } from '../../src/shared-state/spend-ledger.js';

const pool = new pg.Pool({ connectionString: process.env.PG_URL, max: 4 });
pool.on('error', () => undefined);
const ledger = await postgresSpendLedger({ pool, owner: 'fleet', maxAutoPaySats: 1000, maxSpendPerMinuteSats: Number(process.env.CAP_SATS) });
const started = performance.now();
const results = await Promise.all(
  Array.from({ length: Number(process.env.RESERVATIONS) }, async () => {
    const result = await ledger.tryReserve({ amountMsat: 1000, feeReserveMsat: 0 });
    if (isSpendRefusal(result)) return 0;
    await result.settle(0);
    return 1;
  }),
);
// "<succeeded> <ms spent reserving>": the bench reads the time, the test the count.
process.stdout.write(`${results.reduce((a: number, b: number) => a + b, 0)} ${(performance.now() - started).toFixed(1)}\n`);
await pool.end();
