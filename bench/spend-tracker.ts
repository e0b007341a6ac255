// tryReserve + settle ops/s with 10,000 reservations in the rolling minute versus an empty
// window: the cost must not grow with what the window holds.
import { createSpendTracker, isSpendRefusal } from '../src/pay/spend-tracker.js';
import { fmt, median, opsPerSecond, reportRatio } from './stats.js';

const OPS = 200_000;
const ROUNDS = 5;
let t = 0;
const now = (): number => t;

function tracker(prefill: number) {
  const spend = createSpendTracker({ maxSpendPerMinuteSats: 1e12, maxAutoPaySats: 1e9, now });
  // Prefill spread over the last 59 s, so everything is still in the window during the run.
  for (let i = 0; i < prefill; i++) {
    t = (i * 59_000) / Math.max(1, prefill);
    const r = spend.tryReserve({ amountMsat: 1000, feeReserveMsat: 100 });
    if (!isSpendRefusal(r)) r.settle(10);
  }
  return spend;
}

function run(spend: ReturnType<typeof createSpendTracker>): void {
  const base = 59_000;
  for (let i = 0; i < OPS; i++) {
    t = base + (i % 500) / 500; // stays within one bucket: the window keeps its prefill
    const r = spend.tryReserve({ amountMsat: 1000, feeReserveMsat: 100 });
    if (isSpendRefusal(r)) throw new Error(r.reason);
    r.settle(10);
  }
}

const empty: number[] = [];
const full: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  const a = tracker(0);
  empty.push(await opsPerSecond(OPS, () => run(a)));
  const b = tracker(10_000);
  full.push(await opsPerSecond(OPS, () => run(b)));
}
console.log(`spend-tracker: ${OPS} tryReserve+settle x ${ROUNDS} rounds (median)`);
console.log(`  empty window:             ${fmt(median(empty))} ops/s`);
console.log(`  10,000 entries in window: ${fmt(median(full))} ops/s`);
reportRatio('  ratio full/empty', median(full) / median(empty), 0.8);
