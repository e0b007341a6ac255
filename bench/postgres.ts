// The PostgreSQL hot paths, each against the raw library it wraps, measured in the same run on the
// same data (rounds alternate so that both sides see the same machine):
//   - validateSql on a 200-character SELECT vs libpg-query's own parseSync of the same text;
//   - db.query returning 1 row (validation, read-only envelope, portal read, rollback) vs a raw
//     pool.query of the same SELECT, 4 queries in flight on pools of 4;
//   - gw.call('db.query') with a 10,000-row result vs the connector's own query() (same SQL).
// Starts its own PostgreSQL. BENCH_QUERIES sets the number of 1-row queries per round.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModule, parseSync } from 'libpg-query';
import pg from 'pg';
import { createGateway } from '../src/index.js';
import { createPostgres, loadParser, validateSqlSync } from '../src/postgres/index.js';
import { startFixture } from '../test/postgres/fixture.js';
import { fmt, inFlight, median, opsPerSecond, reportRatio } from './stats.js';

const ROUNDS = 5;
const SQL =
  "SELECT i.id, i.name, i.price, lower(i.\"update\") AS u, count(*) OVER () AS total FROM items i WHERE i.price BETWEEN $1 AND $2 AND i.name LIKE 'item-%' ORDER BY i.price DESC, i.id LIMIT 10 OFFSET 0";
/** Prices are 1.5 × id: exactly one row (id 7) lies between these. */
const ONE_ROW: [number, number] = [10, 11];

// validateSql vs parseSync.
await loadParser();
await loadModule();
const VALIDATIONS = 20_000;
const validateRates: number[] = [];
const parseRates: number[] = [];
let parsedSink = 0;
const validateRound = (): void => {
  for (let i = 0; i < VALIDATIONS; i++) if (!validateSqlSync(SQL).allowed) throw new Error('refused');
};
const parseRound = (): void => {
  for (let i = 0; i < VALIDATIONS; i++) parsedSink += parseSync(SQL).stmts?.length ?? 0;
};
validateRound();
parseRound();
for (let round = 0; round < ROUNDS; round++) {
  parseRates.push(await opsPerSecond(VALIDATIONS, parseRound));
  validateRates.push(await opsPerSecond(VALIDATIONS, validateRound));
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
const rawOnce = (): Promise<unknown> => raw.query(SQL, ONE_ROW);
const guardedOnce = (): Promise<unknown> => guarded.query({ sql: SQL, params: ONE_ROW }, limits);
const uncachedOnce = (): Promise<unknown> => uncached.query({ sql: SQL, params: ONE_ROW }, limits);

const check = (await guarded.query({ sql: SQL, params: ONE_ROW }, limits)).rowCount;
if (check !== 1) throw new Error(`the 1-row query returned ${check} rows`);
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

// gw.call('db.query') with 10,000 rows vs the connector alone, one at a time.
const BIG_SQL = "SELECT i AS id, 'name-' || i AS name, i * 1.5 AS price FROM generate_series(1, 10000) i";
const BIG_CALLS = Number(process.env.BENCH_BIG_CALLS ?? 40);
const bigLimits = { timeoutMs: 30_000, maxBytes: 16 * 1024 * 1024 };
const dir = await mkdtemp(join(tmpdir(), 'portcullis-bench-'));
const connectorConfig = { connectionString: db.agentUrl, poolSize: 1, maxRows: 10_000, warnIfSuperuser: false };
const alone = await createPostgres(connectorConfig);
const gw = await createGateway({
  policy: { allowTools: ['db.query'], perTool: { 'db.query': { timeoutMs: bigLimits.timeoutMs, maxBytes: bigLimits.maxBytes } } },
  audit: { file: join(dir, 'audit.jsonl') },
  connectors: { postgres: connectorConfig },
});
const aloneOnce = async (): Promise<void> => {
  const result = await alone.query({ sql: BIG_SQL }, bigLimits);
  if (result.rowCount !== 10_000 || result.truncated) throw new Error('the 10k-row query came back short');
};
const gatewayOnce = async (): Promise<void> => {
  const result = await gw.call<{ rowCount: number; truncated: boolean }>('db.query', { sql: BIG_SQL });
  if (result.rowCount !== 10_000 || result.truncated) throw new Error('the 10k-row call came back short');
};
const bigRound = (one: () => Promise<void>) => async (): Promise<void> => {
  for (let i = 0; i < BIG_CALLS; i++) await one();
};
await bigRound(aloneOnce)();
await bigRound(gatewayOnce)();
const aloneRates: number[] = [];
const gatewayRates: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  const pair: [number[], () => Promise<void>][] = [
    [aloneRates, aloneOnce],
    [gatewayRates, gatewayOnce],
  ];
  for (const [rates, one] of round % 2 === 0 ? pair : pair.reverse()) rates.push(await opsPerSecond(BIG_CALLS, bigRound(one)));
}
await gw.close();
await alone.close();
await rm(dir, { recursive: true, force: true });
await db.stop();

console.log(`postgres: ${ROUNDS} rounds (median); ${CONCURRENCY} queries in flight on pools of ${CONCURRENCY}`);
console.log(`  libpg-query parseSync, ${SQL.length}-character SELECT: ${fmt(median(parseRates))} statements/s`);
console.log(`  validateSql, same text:                  ${fmt(median(validateRates))} statements/s`);
reportRatio('  ratio validateSql / parseSync', median(validateRates) / median(parseRates), 0.85);
console.log(`  raw pool.query, 1 row:           ${fmt(median(rawRates))} queries/s`);
console.log(`  db.query, 1 row, verdict cached: ${fmt(median(guardedRates))} queries/s`);
console.log(`  db.query, 1 row, parsed each time: ${fmt(median(uncachedRates))} queries/s`);
reportRatio('  ratio db.query / pool.query (1 row, cached verdict)', median(guardedRates) / median(rawRates), 0.75);
console.log(`  ratio db.query / pool.query (1 row, parsed every time): ${(median(uncachedRates) / median(rawRates)).toFixed(2)}x`);
console.log(`  connector query(), 10,000 rows: ${fmt(median(aloneRates), 1)} calls/s`);
console.log(`  gw.call('db.query'), 10,000 rows: ${fmt(median(gatewayRates), 1)} calls/s`);
reportRatio("  ratio gw.call('db.query') / connector (10,000 rows)", median(gatewayRates) / median(aloneRates), 0.9);
if (parsedSink === 0) console.log('');
