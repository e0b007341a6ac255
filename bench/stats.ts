/** Small helpers shared by the benchmarks: each prints ratios measured in the same run. */

/** The p-th percentile (0-100) of a list of numbers. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] ?? Number.NaN;
}

/** The median of a list of numbers. */
export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/** Operations per second of `run`, which performs `ops` operations. */
export async function opsPerSecond(ops: number, run: () => Promise<void> | void): Promise<number> {
  const started = process.hrtime.bigint();
  await run();
  const elapsedNs = Number(process.hrtime.bigint() - started);
  return ops / (elapsedNs / 1e9);
}

/** Formats a number with thousands separators. */
export function fmt(value: number, digits = 0): string {
  return value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

/** Prints a ratio with its target and a PASS/BELOW verdict. */
export function reportRatio(label: string, ratio: number, target: number): void {
  const verdict = ratio >= target ? 'PASS' : 'BELOW TARGET';
  console.log(`${label}: ${ratio.toFixed(2)}x (target >= ${target}x) ${verdict}`);
}

/** Runs `one` `total` times with `concurrency` calls in flight at once. */
export async function inFlight(total: number, concurrency: number, one: () => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < total) await one();
    }),
  );
}
