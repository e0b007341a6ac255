/**
 * A rolling sum over time, in fixed buckets: adding, adjusting and reading cost O(1)
 * amortised and memory is bounded by `windowMs / bucketMs` whatever the traffic. A bucket
 * leaves the window only once its whole span is older than the window, so an amount is never
 * forgotten early: the sum may count something up to one bucket too long (the safe side for a
 * budget).
 */
export class RollingSum {
  readonly #windowMs: number;
  readonly #bucketMs: number;
  /** Bucket start times (ms) and their sums (msat), oldest first; a ring would save little here. */
  readonly #starts: number[] = [];
  readonly #sums: number[] = [];
  #head = 0;
  #total = 0;

  constructor(windowMs: number, bucketMs: number) {
    this.#windowMs = windowMs;
    this.#bucketMs = bucketMs;
  }

  /** Drops the buckets that lie wholly before `nowMs - windowMs`. */
  #evict(nowMs: number): void {
    const horizon = nowMs - this.#windowMs;
    while (this.#head < this.#starts.length && (this.#starts[this.#head] ?? 0) + this.#bucketMs <= horizon) {
      this.#total -= this.#sums[this.#head] ?? 0;
      this.#head += 1;
    }
    // Compact now and then so the arrays do not grow with the number of buckets ever used.
    if (this.#head > 1024 && this.#head * 2 > this.#starts.length) {
      this.#starts.splice(0, this.#head);
      this.#sums.splice(0, this.#head);
      this.#head = 0;
    }
  }

  /** The sum of the window at `nowMs`. */
  total(nowMs: number): number {
    this.#evict(nowMs);
    return this.#total;
  }

  /** Adds `amount` at `nowMs`; returns the bucket's start, the handle for {@link adjust}. */
  add(amount: number, nowMs: number): number {
    this.#evict(nowMs);
    const start = nowMs - (nowMs % this.#bucketMs);
    const last = this.#starts.length - 1;
    if (last >= this.#head && this.#starts[last] === start) {
      this.#sums[last] = (this.#sums[last] ?? 0) + amount;
    } else {
      this.#starts.push(start);
      this.#sums.push(amount);
    }
    this.#total += amount;
    return start;
  }

  /**
   * Changes the amount recorded in the bucket that starts at `bucket` by `delta` (a settle or a
   * release). A bucket that already left the window is not counted any more: nothing to do.
   */
  adjust(bucket: number, delta: number, nowMs: number): void {
    this.#evict(nowMs);
    // Buckets are in time order: search from the newest, where adjustments usually land.
    for (let i = this.#starts.length - 1; i >= this.#head; i--) {
      const start = this.#starts[i] ?? 0;
      if (start === bucket) {
        this.#sums[i] = (this.#sums[i] ?? 0) + delta;
        this.#total += delta;
        return;
      }
      if (start < bucket) return;
    }
  }

  /** True when nothing is counted any more (the window can be dropped). */
  isEmpty(nowMs: number): boolean {
    this.#evict(nowMs);
    return this.#head === this.#starts.length;
  }
}
