// One worker process: makes RESERVATIONS reservations against the shared ledger, CONCURRENCY at
// a time (default: all at once), settling each, and prints how many succeeded. Started by
// spend-ledger.test.ts and bench/shared-state.ts, never on its own. DESIGN picks the ledger:
// `lease` (default, src), `advisory` (the previous design, bench/baselines) or `memory` (the
// in-process tracker, the ceiling).
import pg from 'pg';
import { advisoryLockSpendLedger } from '../../bench/baselines/advisory-spend-ledger.js';
import { createSpendTracker, isSpendRefusal, type SpendLedger } from '../../src/pay/spend-tracker.js';
import { postgresSpendLedger } from '../../src/shared-state/spend-ledger.js';

const pool = new pg.Pool({ connectionString: process.env.PG_URL, max: 4 });
pool.on('error', () => undefined);
const optional = (name: string): number | undefined => (process.env[name] === undefined ? undefined : Number(process.env[name]));
const limits = {
  maxAutoPaySats: 1000,
  maxSpendPerMinuteSats: Number(process.env.CAP_SATS),
  maxSpendPerOriginPerMinuteSats: optional('ORIGIN_CAP_SATS'),
  maxSpendPerActorPerMinuteSats: optional('ACTOR_CAP_SATS'),
  maxSpendPerDaySats: optional('DAY_CAP_SATS'),
};
// Request i goes to origin o<i % ORIGINS> for actor a<i % ACTORS> (none when unset).
const origins = optional('ORIGINS');
const actors = optional('ACTORS');
const byKey: Record<string, number> = {};
const design = process.env.DESIGN ?? 'lease';
const owner = process.env.OWNER ?? 'fleet';
const ledger: SpendLedger & { close?: () => Promise<void> } =
  design === 'memory'
    ? createSpendTracker(limits)
    : design === 'advisory'
      ? await advisoryLockSpendLedger({ pool, owner, ...limits })
      : await postgresSpendLedger({ pool, owner, ...limits });
const total = Number(process.env.RESERVATIONS);
const concurrency = Number(process.env.CONCURRENCY ?? total);
let next = 0;
let succeeded = 0;
const started = performance.now();
await Promise.all(
  Array.from({ length: Math.min(concurrency, total) }, async () => {
    while (next < total) {
      const i = next++;
      const origin = origins === undefined ? undefined : `https://o${i % origins}.test`;
      const actor = actors === undefined ? undefined : `a${i % actors}`;
      const result = await ledger.tryReserve({ amountMsat: 1000, feeReserveMsat: 0, origin, actor });
      if (isSpendRefusal(result)) continue;
      await result.settle(0);
      succeeded += 1;
      for (const key of [origin, actor]) if (key !== undefined) byKey[key] = (byKey[key] ?? 0) + 1;
    }
  }),
);
const elapsedMs = performance.now() - started;
await ledger.close?.();
// "<succeeded> <ms spent reserving> <succeeded per origin and actor>": the bench reads the time, the tests the counts.
process.stdout.write(`${succeeded} ${elapsedMs.toFixed(1)} ${JSON.stringify(byKey)}\n`);
await pool.end();
