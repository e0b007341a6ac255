import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgres, type Postgres } from '../../src/postgres/index.js';
import { startFixture, type Fixture } from './fixture.js';

let db: Fixture;
let postgres: Postgres;
const limits = { timeoutMs: 5000, maxBytes: 10 * 1024 * 1024 };

/** Backends still running a query like `pattern`, after giving a cancel up to 3 s to land. */
async function activeQueries(pattern: string): Promise<unknown[]> {
  let active: unknown[] = [];
  for (let i = 0; i < 30; i++) {
    active = await db.admin("SELECT pid FROM pg_stat_activity WHERE query LIKE $1 AND state = 'active' AND pid <> pg_backend_pid()", [pattern]);
    if (active.length === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return active;
}

beforeAll(async () => {
  db = await startFixture();
  postgres = await createPostgres({ connectionString: db.agentUrl });
});
afterAll(async () => {
  await postgres?.close();
  await db?.stop();
});

describe('db.query: allowed queries', () => {
  it('runs parameters, joins, CTEs and window functions and returns typed columns', async () => {
    const result = await postgres.query(
      {
        sql: `WITH cheap AS (SELECT id, name, price FROM items WHERE price < $1)
              SELECT c.id, c.name, c.price, row_number() OVER (ORDER BY c.price DESC) AS rank, i."update"
              FROM cheap c JOIN items i ON i.id = c.id ORDER BY c.id LIMIT 3`,
        params: [5],
      },
      limits,
    );
    expect(result.columns).toEqual([
      { name: 'id', type: 'int4' },
      { name: 'name', type: 'text' },
      { name: 'price', type: 'numeric' },
      { name: 'rank', type: 'int8' },
      { name: 'update', type: 'text' },
    ]);
    expect(result.rows[0]).toEqual({ id: 1, name: 'item-1', price: '1.5', rank: '3', update: 'u1' });
    expect(result).toMatchObject({ rowCount: 3, truncated: false });
  });

  it("treats SQL inside strings as data: SELECT 'DROP TABLE' and a column named update", async () => {
    expect((await postgres.query({ sql: "SELECT 'DROP TABLE items' AS s" }, limits)).rows).toEqual([{ s: 'DROP TABLE items' }]);
    expect((await postgres.query({ sql: 'SELECT "update" FROM items WHERE id = $1', params: [2] }, limits)).rows).toEqual([{ update: 'u2' }]);
  });

  it('stops reading at maxRows and at maxBytes and says it truncated', async () => {
    const byRows = await postgres.query({ sql: 'SELECT * FROM big' }, limits);
    expect(byRows).toMatchObject({ rowCount: 1000, truncated: true }); // the connector's maxRows default
    const byBytes = await postgres.query({ sql: 'SELECT * FROM big ORDER BY id' }, { ...limits, maxBytes: 10_000 });
    expect(byBytes.truncated).toBe(true);
    expect(byBytes.rowCount).toBeLessThanOrEqual(11);
    expect(byBytes.rows[0]).toMatchObject({ id: 1 });
  });

  it('cancels a huge result on the server once maxBytes is passed', async () => {
    const wide = await createPostgres({ connectionString: db.agentUrl, maxRows: 1_000_000 });
    const started = Date.now();
    const result = await wide.query({ sql: 'SELECT b.payload, g FROM big b, generate_series(1, 1000) g' }, { ...limits, maxBytes: 50_000 });
    expect(result.truncated).toBe(true);
    expect(result.rowCount).toBeLessThanOrEqual(50);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(await activeQueries('%generate_series(1, 1000)%')).toEqual([]);
    await wide.close();
  });

  it('lists the tables and columns the role may read, and nothing else', async () => {
    const { tables } = await postgres.schema({}, limits);
    expect(tables.map((t) => t.table).sort()).toEqual(['audit_trail', 'big', 'items']);
    expect(tables.find((t) => t.table === 'items')?.columns.map((c) => c.name)).toEqual(['id', 'name', 'update', 'price', 'created_at']);
  });
});

describe('db.query: attacks', () => {
  it.each([
    "SELECT '--'; DROP TABLE items",
    'SELECT 1; COMMIT; DROP TABLE items',
    'SET TRANSACTION READ WRITE; DELETE FROM items',
    'WITH gone AS (DELETE FROM items RETURNING *) SELECT count(*) FROM gone',
    'SELECT * FROM writer()',
    'SELECT definer_writer()',
    "SELECT setval('counter', 99)",
    "SELECT nextval('counter')",
    "SELECT lo_from_bytea(0, 'x')",
    "SELECT pg_read_binary_file('/etc/passwd')",
    'SELECT * INTO items_copy FROM items',
    'SELECT * FROM items FOR UPDATE',
    'SELECT U&"s\\0065tval"(\'counter\', 7)',
  ])('refuses %s before anything reaches the server, and nothing changes', async (sql) => {
    const before = await db.snapshot();
    const pool = new pg.Pool({ connectionString: db.agentUrl, max: 1 });
    const guarded = await createPostgres({ connectionString: db.agentUrl }, { pool });
    await expect(guarded.query({ sql }, limits)).rejects.toMatchObject({ code: 'SQL_NOT_ALLOWED' });
    expect(pool.totalCount).toBe(0); // no connection was even opened
    await guarded.close();
    await pool.end();
    expect(await db.snapshot()).toEqual(before);
  });

  it('still cannot write when the host wrongly allows a writer function: the read-only transaction refuses', async () => {
    const before = await db.snapshot();
    const lax = await createPostgres({ connectionString: db.agentUrl, allowFunctions: ['writer', 'definer_writer'] });
    await expect(lax.query({ sql: 'SELECT writer()' }, limits)).rejects.toMatchObject({ code: 'UPSTREAM_ERROR', data: { sqlstate: '25006' } });
    await expect(lax.query({ sql: 'SELECT * FROM definer_writer()' }, limits)).rejects.toMatchObject({ code: 'UPSTREAM_ERROR', data: { sqlstate: '25006' } });
    // The pool is healthy afterwards: the failed transaction was rolled back.
    expect((await lax.query({ sql: 'SELECT count(*) AS n FROM items' }, limits)).rows).toEqual([{ n: '50' }]);
    await lax.close();
    expect(await db.snapshot()).toEqual(before);
  });

  it('cancels pg_sleep on the server at the timeout', async () => {
    const lax = await createPostgres({ connectionString: db.agentUrl, allowFunctions: ['pg_sleep'] });
    const started = Date.now();
    await expect(lax.query({ sql: 'SELECT pg_sleep(30)' }, { ...limits, timeoutMs: 300 })).rejects.toMatchObject({ code: 'TIMEOUT' });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(await activeQueries('%pg_sleep(30)%')).toEqual([]);
    await lax.close();
  });

  it('cancels on the caller abort too', async () => {
    const lax = await createPostgres({ connectionString: db.agentUrl, allowFunctions: ['pg_sleep'] });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    await expect(lax.query({ sql: 'SELECT pg_sleep(30)' }, { ...limits, signal: controller.signal })).rejects.toMatchObject({ code: 'ABORTED' });
    await lax.close();
  });

  it('warns when it connects as a superuser', async () => {
    const warnings: string[] = [];
    const asAdmin = await createPostgres({ connectionString: db.adminUrl }, { warn: (m) => warnings.push(m) });
    await asAdmin.query({ sql: 'SELECT 1' }, limits);
    await asAdmin.close();
    expect(warnings.join()).toMatch(/superuser/);
  });
});

describe('db.query through the gateway', () => {
  it('audits a refusal as a denial and an allowed query with its size', async () => {
    const { createGateway } = await import('../../src/index.js');
    const { tempDir } = await import('../helpers/temp-dir.js');
    const { readAudit } = await import('../helpers/audit.js');
    await using dir = await tempDir();
    const gw = await createGateway({
      policy: { allowTools: ['db.*'], perTool: { 'db.query': { timeoutMs: 2000 } } },
      audit: { file: dir.join('audit.jsonl') },
      connectors: { postgres: { connectionString: db.agentUrl } },
    });
    await expect(gw.call('db.query', { sql: 'DELETE FROM items' })).rejects.toMatchObject({ code: 'SQL_NOT_ALLOWED' });
    const result = await gw.call<{ rows: unknown[] }>('db.query', { sql: 'SELECT name FROM items WHERE id = $1', params: [1] });
    expect(result.rows).toEqual([{ name: 'item-1' }]);
    expect(gw.listTools().map((t) => t.name).sort()).toEqual(['db.query', 'db.schema']);
    await gw.close();
    const records = await readAudit(dir.join('audit.jsonl'));
    expect(records.map((r) => [r.tool, r.decision, r.error_code])).toEqual([
      ['db.query', 'deny', 'SQL_NOT_ALLOWED'],
      ['db.query', 'allow', null],
    ]);
  });
});

describe('the envelope on its own (as if the parser had been fooled)', () => {
  async function raw(sql: string): Promise<unknown> {
    const { ReadOnlyQuery } = await import('../../src/postgres/read-only-query.js');
    const client = new pg.Client({ connectionString: db.agentUrl });
    await client.connect();
    const query = new ReadOnlyQuery({ setup: ['BEGIN TRANSACTION READ ONLY'], sql, values: [], maxRows: 10, maxBytes: 1e6, onOverflow: () => undefined });
    void client.query(query as unknown as pg.QueryConfig); // a Submittable: pg returns it, not a promise
    const outcome = await query.result.then(
      () => 'ran',
      (error: { code?: string }) => error.code,
    );
    await query.done;
    await client.query('ROLLBACK');
    await client.end();
    return outcome;
  }

  it('has the server refuse a second statement over the extended protocol', async () => {
    const before = await db.snapshot();
    expect(await raw('SELECT 1; DROP TABLE items')).toBe('42601');
    expect(await raw("SELECT 1; COMMIT; DELETE FROM items")).toBe('42601');
    expect(await db.snapshot()).toEqual(before);
  });

  it('keeps the transaction read-only: a write fails, and a switch to read-write cannot be followed by anything', async () => {
    const before = await db.snapshot();
    expect(await raw('SELECT writer()')).toBe('25006');
    expect(await raw('SELECT definer_writer()')).toBe('25006');
    expect(await raw('SET TRANSACTION READ WRITE; DELETE FROM items')).toBe('42601');
    expect(await db.snapshot()).toEqual(before);
  });
});
