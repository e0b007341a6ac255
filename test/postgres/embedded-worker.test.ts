import { readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway } from '../../src/index.js';
import { createPostgres, type Postgres } from '../../src/postgres/index.js';

// PGlite starts in seconds (tens of them on a busy machine): one connector serves the tests in
// order, and the timeouts below are for the start-ups, not for the queries.
const START_MS = 180_000;
const roomy = { timeoutMs: 60_000, maxBytes: 10 * 1024 * 1024 };
/** A query that keeps PGlite busy for minutes without growing its memory (a cross join). */
const HEAVY = 'SELECT count(*) FROM generate_series(1, 100000) AS a(x), generate_series(1, 100000) AS b(y)';
const threads = (): number => readdirSync('/proc/self/task').length;

/** Counts event-loop turns while `work` runs: a blocked host thread would show a long gap. */
async function watchLoop<T>(work: () => Promise<T>): Promise<{ outcome: PromiseSettledResult<T>; ms: number; ticks: number; maxGapMs: number }> {
  let ticks = 0;
  let last = performance.now();
  let maxGapMs = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    maxGapMs = Math.max(maxGapMs, now - last);
    last = now;
    ticks++;
  }, 20);
  const started = performance.now();
  const [outcome] = await Promise.allSettled([work()]);
  const ms = performance.now() - started;
  clearInterval(timer);
  return { outcome, ms, ticks, maxGapMs: Math.max(maxGapMs, performance.now() - last) };
}

describe('embedded PostgreSQL in a worker thread', { timeout: START_MS }, () => {
  let db: Postgres;
  let threadsIdle: number;

  beforeAll(async () => {
    threadsIdle = threads();
    const started = performance.now();
    db = await createPostgres({ embedded: true, maxRows: 100 });
    // Lazy: creating the connector starts no PGlite and no thread.
    expect(performance.now() - started).toBeLessThan(3000);
    expect(threads()).toBe(threadsIdle);
    expect(await db.query({ sql: 'SELECT 1 AS one' }, roomy)).toMatchObject({ rows: [{ one: 1 }] });
    expect(threads()).toBeGreaterThan(threadsIdle);
  }, START_MS);
  afterAll(async () => {
    await db.close();
  });

  it('reads a 10-million-row result only up to maxRows + 1, without materialising it', async () => {
    const before = process.memoryUsage().rss;
    const started = performance.now();
    const result = await db.query({ sql: 'SELECT generate_series(1, 10000000) AS n' }, roomy);
    expect(result).toMatchObject({ rowCount: 100, truncated: true });
    expect(result.rows.at(-1)).toEqual({ n: 100 });
    expect(performance.now() - started).toBeLessThan(5000); // 10 million rows would take minutes
    expect(process.memoryUsage().rss - before).toBeLessThan(300 * 1024 * 1024);
  });

  it('bounds what PostgreSQL materialises itself (a function scan in FROM) by a temp_file_limit', async () => {
    const before = process.memoryUsage().rss;
    await expect(db.query({ sql: 'SELECT n, md5(n::text) AS h FROM generate_series(1, 10000000) AS g(n)' }, roomy)).rejects.toMatchObject({
      code: 'UPSTREAM_ERROR',
      data: { sqlstate: '53400' },
    });
    expect(process.memoryUsage().rss - before).toBeLessThan(300 * 1024 * 1024);
    const sorted = await db.query({ sql: 'SELECT n FROM generate_series(1, 1000) AS g(n) ORDER BY n DESC' }, roomy);
    expect(sorted).toMatchObject({ rowCount: 100, truncated: true });
    expect(sorted.rows[0]).toEqual({ n: 1000 });
  });

  it('keeps the rows within maxBytes (JSON form), and drops a huge row in the worker', async () => {
    const limits = { timeoutMs: 60_000, maxBytes: 10_000 };
    const rows = await db.query({ sql: "SELECT repeat('x', 1000) AS s FROM generate_series(1, 50)" }, limits);
    expect(rows.truncated).toBe(true);
    expect(rows.rowCount).toBeGreaterThan(5);
    expect(Buffer.byteLength(JSON.stringify(rows.rows))).toBeLessThanOrEqual(10_000);
    const huge = await db.query({ sql: "SELECT 1 AS a, repeat('x', 50000000) AS big UNION ALL SELECT 2, 'small'" }, limits);
    expect(huge).toMatchObject({ rows: [], rowCount: 0, truncated: true });
    expect(await db.query({ sql: 'SELECT 2 AS two' }, limits)).toMatchObject({ rows: [{ two: 2 }], truncated: false });
  });

  it('reports server errors with their SQLSTATE, and the next query still works', async () => {
    await expect(db.query({ sql: 'SELECT nope FROM generate_series(1, 2) AS g(n)' }, roomy)).rejects.toMatchObject({ code: 'UPSTREAM_ERROR', data: { sqlstate: '42703' } });
    await expect(db.query({ sql: 'SELECT 1 / (n - 1) FROM generate_series(1, 2) AS g(n)' }, roomy)).rejects.toMatchObject({ code: 'UPSTREAM_ERROR', data: { sqlstate: '22012' } });
    expect(await db.query({ sql: 'SELECT $1::int + 1 AS n', params: [41] }, roomy)).toMatchObject({ rows: [{ n: 42 }] });
  });

  it('stops a query at its timeout by terminating the worker, with the host loop running all along', async () => {
    const running = threads();
    const watched = await watchLoop(() => db.query({ sql: HEAVY }, { timeoutMs: 1000, maxBytes: 1024 }));
    expect(watched.outcome).toMatchObject({ status: 'rejected', reason: { code: 'TIMEOUT' } });
    expect(watched.ms).toBeGreaterThanOrEqual(990);
    expect(watched.ms).toBeLessThan(2500);
    expect(watched.ticks).toBeGreaterThan(10);
    expect(watched.maxGapMs).toBeLessThan(500);
    // The worker is gone (terminate() takes a moment to join the thread).
    await expect.poll(threads, { timeout: 5000 }).toBeLessThan(running);
  });

  it('answers a query queued behind a timed-out one, from a fresh worker', async () => {
    expect(await db.query({ sql: 'SELECT count(*)::int AS n FROM generate_series(1, 3) AS g(n)' }, roomy)).toMatchObject({ rows: [{ n: 3 }], truncated: false });
    // A query queued behind the one that times out runs on the next worker.
    const heavy = db.query({ sql: HEAVY }, { timeoutMs: 1000, maxBytes: 1024 });
    const queued = db.query({ sql: 'SELECT 3 AS three' }, roomy);
    await expect(heavy).rejects.toMatchObject({ code: 'TIMEOUT' });
    expect(await queued).toMatchObject({ rows: [{ three: 3 }] });
  });

  it('stops at an abort as at a timeout', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 300);
    const watched = await watchLoop(() => db.query({ sql: HEAVY }, { ...roomy, signal: controller.signal }));
    expect(watched.outcome).toMatchObject({ status: 'rejected', reason: { code: 'ABORTED' } });
    expect(watched.ms).toBeLessThan(1500);
    expect(await db.query({ sql: 'SELECT 4 AS four' }, roomy)).toMatchObject({ rows: [{ four: 4 }] });
  });
});

describe('gw.close() with an embedded query running', { timeout: START_MS }, () => {
  it('resolves promptly, ends the call and leaves no worker behind', async () => {
    const idle = threads();
    const gw = await createGateway({
      policy: { allowTools: ['db.*'], perTool: { 'db.query': { timeoutMs: 120_000 } } },
      connectors: { postgres: { embedded: true } },
    });
    await gw.call('db.query', { sql: 'SELECT 1' });
    const call = gw.call('db.query', { sql: HEAVY });
    call.catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const started = performance.now();
    await gw.close();
    expect(performance.now() - started).toBeLessThan(2000);
    await expect(call).rejects.toMatchObject({ code: 'ABORTED' });
    await expect.poll(threads, { timeout: 5000 }).toBeLessThanOrEqual(idle);
  });
});
