/** A rate limit: at most `maxCalls` in any sliding window of `windowMs`. */
export interface RateLimit {
  /** Calls allowed within one window. */
  maxCalls: number;
  /** Window length, in ms. */
  windowMs: number;
}

/**
 * Where rate-limit hits are counted. The in-memory store is the default; a shared store
 * (PostgreSQL) lets many processes share one limit.
 */
export interface RateLimitStore {
  /**
   * Records a hit for `key` if it fits the limit, in one step (no check-then-record race).
   * @returns true when the hit was recorded, false when the limit is reached.
   */
  tryHit(key: string, limit: RateLimit, nowMs: number): boolean | Promise<boolean>;
}

/** Options for {@link createMemoryRateLimitStore}. */
export interface MemoryRateLimitStoreOptions {
  /**
   * Keys kept at most; when full, keys with no hit inside their window are evicted first, then
   * the least recently used tenth. An evicted key starts afresh, so keep this above the number
   * of actors and tools that are limited at once.
   * @default 10000
   */
  maxKeys?: number;
}

/** The in-memory store: synchronous, and it can say how many keys it holds. */
export interface MemoryRateLimitStore extends RateLimitStore {
  tryHit(key: string, limit: RateLimit, nowMs: number): boolean;
  /** Keys held now. */
  size(): number;
}

interface Bucket {
  /** Ring of hit times in ms, oldest at `head`; length grows up to `maxCalls`. */
  hits: number[];
  head: number;
  windowMs: number;
  lastMs: number;
}

/**
 * An exact sliding-window limiter in memory. Each key keeps the times of its last `maxCalls`
 * hits in a ring, so a check is O(1): the call fits when fewer than `maxCalls` hits are
 * recorded, or when the oldest of them has left the window.
 */
export function createMemoryRateLimitStore(options: MemoryRateLimitStoreOptions = {}): MemoryRateLimitStore {
  const maxKeys = options.maxKeys ?? 10_000;
  // Map iteration order is insertion order; re-inserting on every hit makes it LRU order.
  const buckets = new Map<string, Bucket>();

  function evict(nowMs: number): void {
    for (const [key, bucket] of buckets) {
      if (nowMs - bucket.lastMs >= bucket.windowMs) buckets.delete(key);
    }
    // Still full of live keys: drop the least recently used tenth at once, so that a stream of
    // new keys costs O(1) amortised instead of a scan per key.
    const target = Math.floor(maxKeys * 0.9);
    for (const key of buckets.keys()) {
      if (buckets.size <= target) break;
      buckets.delete(key);
    }
  }

  return {
    size: () => buckets.size,
    tryHit(key, limit, nowMs) {
      let bucket = buckets.get(key);
      if (bucket === undefined) {
        if (buckets.size >= maxKeys) evict(nowMs);
        bucket = { hits: [], head: 0, windowMs: limit.windowMs, lastMs: nowMs };
      } else {
        buckets.delete(key);
      }
      buckets.set(key, bucket);
      if (limit.maxCalls <= 0) return false;
      const { hits } = bucket;
      if (hits.length < limit.maxCalls) {
        hits.push(nowMs);
      } else {
        const oldestMs = hits[bucket.head] ?? Number.NEGATIVE_INFINITY;
        if (nowMs - oldestMs < limit.windowMs) return false;
        hits[bucket.head] = nowMs;
        bucket.head = (bucket.head + 1) % hits.length;
      }
      bucket.windowMs = limit.windowMs;
      bucket.lastMs = nowMs;
      return true;
    },
  };
}
