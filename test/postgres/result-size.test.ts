// The size db.query and db.schema report to the gateway (their `measure`) is the size the
// envelope counted as the rows came: it must never be below the result's own JSON length, since
// the gateway checks it against maxBytes (a security limit) and audits it.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway } from '../../src/index.js';
import { createPostgres, type Postgres, type QueryResult } from '../../src/postgres/index.js';
import { jsonBytes, resultBytes } from '../../src/postgres/result-bytes.js';
import { readAudit } from '../helpers/audit.js';
import { tempDir } from '../helpers/temp-dir.js';
import { startFixture, type Fixture } from './fixture.js';

let db: Fixture;
let postgres: Postgres;

beforeAll(async () => {
  db = await startFixture();
  postgres = await createPostgres({ connectionString: db.agentUrl, maxRows: 30, warnIfSuperuser: false });
});
afterAll(async () => {
  await postgres?.close();
  await db?.stop();
});

const RECORDSET = 'SELECT a, b, c, d, e FROM jsonb_to_recordset($1::jsonb) AS x(a text, b float8, c jsonb, d bool, e timestamptz)';
const noNul = (value: unknown): boolean => !JSON.stringify(value).includes('\\u0000');
const text = fc.string({ unit: 'grapheme', maxLength: 60 }).filter(noNul);
const row = fc.record({
  a: fc.option(text),
  b: fc.option(fc.double({ noNaN: true, noDefaultInfinity: true })),
  c: fc.jsonValue({ maxDepth: 3 }).filter(noNul),
  d: fc.option(fc.boolean()),
  e: fc.option(fc.date({ min: new Date('1900-01-01'), max: new Date('2200-01-01'), noInvalidDate: true }).map((date) => date.toISOString())),
});

describe('db.query: the size recorded for the gateway', () => {
  it('is exactly the JSON length of random rows, cut by maxBytes and maxRows as before (real server)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(row, { maxLength: 40 }), fc.integer({ min: 150, max: 6000 }), async (rows, maxBytes) => {
        const params = [JSON.stringify(rows)];
        const whole = await postgres.query({ sql: RECORDSET, params }, { timeoutMs: 5000, maxBytes: 10_000_000 });
        expect(resultBytes(whole)).toBe(jsonBytes(whole));
        let cut: QueryResult;
        try {
          cut = await postgres.query({ sql: RECORDSET, params }, { timeoutMs: 5000, maxBytes });
        } catch (error) {
          // Only a first row that does not fit alone is refused.
          expect(error).toMatchObject({ code: 'RESPONSE_TOO_LARGE' });
          return;
        }
        expect(resultBytes(cut)).toBe(jsonBytes(cut));
        // An empty result is returned whatever its size (the gateway then refuses one over its maxBytes).
        if (cut.rowCount > 0) expect(resultBytes(cut)).toBeLessThanOrEqual(maxBytes);
        expect(cut.rows).toEqual(whole.rows.slice(0, cut.rowCount));
        expect(cut.truncated).toBe(cut.rowCount < Math.min(rows.length, 30) || rows.length > 30);
      }),
      { numRuns: 60 },
    );
  });
});

describe('through the gateway', () => {
  it('audits the exact size, truncates at maxBytes and refuses a row larger than it, as before', async () => {
    await using dir = await tempDir();
    const gw = await createGateway({
      policy: { allowTools: ['db.*'], perTool: { 'db.query': { maxBytes: 20_000 }, 'db.schema': { maxBytes: 400 } } },
      audit: { file: dir.join('audit.jsonl') },
      connectors: { postgres: { connectionString: db.agentUrl, warnIfSuperuser: false } },
    });
    const cut = await gw.call<QueryResult>('db.query', { sql: 'SELECT id, payload FROM big ORDER BY id' });
    expect(cut.truncated).toBe(true);
    expect(cut.rowCount).toBeGreaterThan(10);
    expect(jsonBytes(cut)).toBeLessThanOrEqual(20_000);
    const small = await gw.call<QueryResult>('db.query', { sql: "SELECT name, 'é\"' AS q FROM items WHERE id < $1", params: [4] });
    expect(small.rowCount).toBe(3);
    await expect(gw.call('db.query', { sql: "SELECT repeat('x', 30000) AS wide" })).rejects.toMatchObject({ code: 'RESPONSE_TOO_LARGE' });
    // The listing of every table is over 400 bytes: refused; one table's is not.
    await expect(gw.call('db.schema', {})).rejects.toMatchObject({ code: 'RESPONSE_TOO_LARGE' });
    const one = await gw.call('db.schema', { table: 'audit_trail' });
    expect(one).toEqual({ tables: [{ schema: 'public', table: 'audit_trail', columns: [{ name: 'note', type: 'text', nullable: true }] }] });
    await gw.close();
    const records = await readAudit(dir.join('audit.jsonl'));
    expect(records.map((r) => [r.tool, r.error_code, r.result_bytes])).toEqual([
      ['db.query', null, jsonBytes(cut)],
      ['db.query', null, jsonBytes(small)],
      ['db.query', 'RESPONSE_TOO_LARGE', 0],
      ['db.schema', 'RESPONSE_TOO_LARGE', 0],
      ['db.schema', null, expect.any(Number)],
    ]);
    expect(records[4]?.result_bytes).toBeGreaterThanOrEqual(jsonBytes(one));
  });
});
