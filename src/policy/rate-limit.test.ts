import { describe, expect, it } from 'vitest';
import { createMemoryRateLimitStore } from './rate-limit.js';

const limit = { maxCalls: 3, windowMs: 1000 };

describe('memory rate-limit store', () => {
  it('allows maxCalls hits in a window, then refuses', () => {
    const store = createMemoryRateLimitStore();
    expect([0, 10, 20, 30].map((t) => store.tryHit('k', limit, t))).toEqual([true, true, true, false]);
  });

  it('slides: a slot frees exactly when the oldest hit leaves the window', () => {
    const store = createMemoryRateLimitStore();
    for (const t of [0, 400, 800]) store.tryHit('k', limit, t);
    expect(store.tryHit('k', limit, 999)).toBe(false);
    expect(store.tryHit('k', limit, 1000)).toBe(true);
    expect(store.tryHit('k', limit, 1399)).toBe(false);
    expect(store.tryHit('k', limit, 1400)).toBe(true);
  });

  it('does not count refused hits', () => {
    const store = createMemoryRateLimitStore();
    for (const t of [0, 1, 2]) store.tryHit('k', limit, t);
    for (let t = 3; t < 1000; t += 50) expect(store.tryHit('k', limit, t)).toBe(false);
    expect(store.tryHit('k', limit, 1000)).toBe(true);
  });

  it('keeps keys apart', () => {
    const store = createMemoryRateLimitStore();
    for (const t of [0, 1, 2]) store.tryHit('a', limit, t);
    expect(store.tryHit('a', limit, 3)).toBe(false);
    expect(store.tryHit('b', limit, 3)).toBe(true);
  });

  it('bounds memory: stale keys go first, then the least recently used', () => {
    const store = createMemoryRateLimitStore({ maxKeys: 100 });
    for (let i = 0; i < 100; i++) store.tryHit(`old-${i}`, limit, 0);
    expect(store.size()).toBe(100);
    store.tryHit('fresh', limit, 5000); // every old key is outside its window
    expect(store.size()).toBe(1);
    for (let i = 0; i < 250; i++) store.tryHit(`live-${i}`, limit, 6000);
    expect(store.size()).toBeLessThanOrEqual(100);
    // The most recent key survived the eviction and kept its count.
    store.tryHit('live-249', limit, 6001);
    store.tryHit('live-249', limit, 6002);
    expect(store.tryHit('live-249', limit, 6003)).toBe(false);
  });

  it('refuses everything for a limit of zero calls', () => {
    const store = createMemoryRateLimitStore();
    expect(store.tryHit('k', { maxCalls: 0, windowMs: 1000 }, 0)).toBe(false);
  });
});
