// validateSql on a 200-character SELECT (statements/s), and db.query end to end (validation,
// read-only envelope, portal read, rollback) versus a raw pool.query of the same SELECT, on the
// same local server, 4 queries in flight on pools of 4. Starts its own PostgreSQL.
import pg from 'pg';
import { createPostgres, loadParser, validateSqlSync } from '../src/postgres/index.js';
import { startFixture } from '../test/postgres/fixture.js';
import { fmt, inFlight, median, opsPerSecond, reportRatio } from './stats.js';

const ROUNDS = 5;
const SQL =
  "SELECT i.id, i.name, i.price, lower(i.\"update\") AS u, count(*) OVER () AS total FROM items i WHERE i.price BETWEEN $1 AND $2 AND i.name LIKE 'item-%' ORDER BY i.price DESC, i.id LIMIT 10 OFFSET 0";

await loadParser();
const VALIDATIONS = 20_000;
const validateRates: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  validateRates.push(
    await opsPerSecond(VALIDATIONS, () => {
      for (let i = 0; i < VALIDATIONS; i++) if (!validateSqlSync(SQL).allowed) throw new Error('refused');
    }),
  );
}

const db = await startFixture();
const QUERIES = Number(process.env.BENCH_QUERIES ?? 4000);
const CONCURRENCY = 4;
const raw = new pg.Pool({ connectionString: db.agentUrl, max: CONCURRENCY });
raw.on('error', () => undefined); // the server's goodbye at shutdown
const guarded = await createPostgres({ connectionString: db.agentUrl, poolSize: CONCURRENCY, warnIfSuperuser: false });
const uncached = await createPostgres({ connectionString: db.agentUrl, poolSize: CONCURRENCY, warnIfSuperuser: false, verdictCacheSize: 0 });
const limits = { timeoutMs: 10_000, maxBytes: 10 * 1024 * 1024 };

const load = (one: () => Promise<unknown>): Promise<void> => inFlight(QUERIES, CONCURRENCY, one);
const rawOnce = (): Promise<unknown> => raw.query(SQL, [10, 60]);
const guardedOnce = (): Promise<unknown> => guarded.query({ sql: SQL, params: [10, 60] }, limits);
const uncachedOnce = (): Promise<unknown> => uncached.query({ sql: SQL, params: [10, 60] }, limits);

await load(rawOnce);
await load(guardedOnce);
await load(uncachedOnce);
const rawRates: number[] = [];
const guardedRates: number[] = [];
const uncachedRates: number[] = [];
const contenders: [number[], () => Promise<unknown>][] = [
  [rawRates, rawOnce],
  [guardedRates, guardedOnce],
  [uncachedRates, uncachedOnce],
];
for (let round = 0; round < ROUNDS; round++) {
  for (const [rates, one] of round % 2 === 0 ? contenders : [...contenders].reverse()) rates.push(await opsPerSecond(QUERIES, () => load(one)));
}
await guarded.close();
await uncached.close();
await raw.end();
await db.stop();

console.log(`postgres: ${ROUNDS} rounds (median); ${CONCURRENCY} queries in flight on pools of ${CONCURRENCY}`);
console.log(`  validateSql, ${SQL.length}-character SELECT: ${fmt(median(validateRates))} statements/s (target >= 20,000) ${median(validateRates) >= 20_000 ? 'PASS' : 'BELOW TARGET'}`);
console.log(`  raw pool.query:                 ${fmt(median(rawRates))} queries/s`);
console.log(`  db.query, verdict cached:       ${fmt(median(guardedRates))} queries/s`);
console.log(`  db.query, parsed every time:    ${fmt(median(uncachedRates))} queries/s`);
reportRatio('  ratio db.query / pool.query (cached verdict)', median(guardedRates) / median(rawRates), 0.6);
console.log(`  ratio db.query / pool.query (parsed every time): ${(median(uncachedRates) / median(rawRates)).toFixed(2)}x`);
