// Issue 14, part A, on a real PostgreSQL server through gw.call('db.query'): each attack is first
// shown to work for the agent role on its own (the role can read it), then refused by the
// validator, with nothing run on the server (no row, no advisory lock, no backend left running).
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway, type Gateway } from '../../src/index.js';
import { startFixture, type Fixture } from './fixture.js';
import { expectSqlRefused } from './refusal.js';

const SETUP = `
CREATE TABLE secrets (token text);
INSERT INTO secrets VALUES ('s3cret-cte');
CREATE TABLE t (id int);
INSERT INTO t VALUES (1), (2);
CREATE SCHEMA other;
CREATE TABLE other.t (token text);
INSERT INTO other.t VALUES ('s3cret-other');
CREATE SCHEMA s;
CREATE FUNCTION s.grab(int, int) RETURNS boolean LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_advisory_lock(4242); RETURN true; END $$;
CREATE OPERATOR s.=== (LEFTARG = int, RIGHTARG = int, FUNCTION = s.grab);
CREATE FUNCTION s.check_dom(int) RETURNS boolean LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_advisory_lock(4243); RETURN true; END $$;
CREATE DOMAIN s.dom AS int CHECK (s.check_dom(VALUE));
GRANT SELECT ON secrets, t TO agent_ro;
GRANT USAGE ON SCHEMA other, s TO agent_ro;
GRANT SELECT ON other.t TO agent_ro;
`;

let db: Fixture;
let agent: pg.Client;
let gw: Gateway;
let catalogs: Gateway;

/** What the agent role can read on its own, without the validator: the attack is real. */
async function asAgent(sql: string): Promise<unknown[]> {
  return (await agent.query<Record<string, unknown>>(sql)).rows;
}

const expectRefused = expectSqlRefused;

async function advisoryLocks(): Promise<unknown[]> {
  return db.admin("SELECT objid FROM pg_locks WHERE locktype = 'advisory' AND objid IN (4242, 4243)");
}

beforeAll(async () => {
  db = await startFixture();
  await db.admin(SETUP);
  agent = new pg.Client({ connectionString: db.agentUrl });
  await agent.connect();
  const quiet = { logger: { warn: () => undefined } };
  gw = await createGateway(
    { policy: { allowTools: ['db.*'], perTool: { 'db.query': { timeoutMs: 1500 } } }, connectors: { postgres: { connectionString: db.agentUrl, allowTables: ['t'] } } },
    quiet,
  );
  catalogs = await createGateway(
    { policy: { allowTools: ['db.*'] }, connectors: { postgres: { connectionString: db.agentUrl, allowSchemas: ['public'] } } },
    quiet,
  );
}, 60_000);

afterAll(async () => {
  await gw?.close();
  await catalogs?.close();
  await agent?.end();
  await db?.stop();
});

describe('finding 1: allowTables bypass by CTE name shadowing', () => {
  it.each([
    'WITH secrets AS (SELECT * FROM secrets) SELECT * FROM secrets',
    'WITH a AS (SELECT * FROM secrets), secrets AS (SELECT 1) SELECT * FROM a',
    'SELECT * FROM (WITH secrets AS (SELECT * FROM secrets) SELECT * FROM secrets) x',
    'SELECT * FROM t WHERE EXISTS (WITH secrets AS (SELECT token FROM secrets) SELECT * FROM secrets WHERE token LIKE $$s3%$$)',
  ])('refuses %s (the role alone would read the secret)', async (sql) => {
    expect(JSON.stringify(await asAgent(sql))).toMatch(/s3cret-cte|"id":1/);
    await expectRefused(gw, sql, /table "secrets" is not allowed/);
  });

  it('still runs a CTE that only reads allowed tables, with earlier siblings in scope', async () => {
    const result = await gw.call<{ rows: unknown[] }>('db.query', { sql: 'WITH a AS (SELECT id FROM t), b AS (SELECT id FROM a) SELECT id FROM b ORDER BY id' });
    expect(result.rows).toEqual([{ id: 1 }, { id: 2 }]);
  });
});

describe('finding 2: names resolved as the server resolves them', () => {
  it('reads t but not other.t with allowTables [t]', async () => {
    expect(await asAgent('SELECT token FROM other.t')).toEqual([{ token: 's3cret-other' }]);
    await expectRefused(gw, 'SELECT token FROM other.t', /other\.t/);
    await expectRefused(gw, 'SELECT token FROM "other".t');
    expect((await gw.call<{ rows: unknown[] }>('db.query', { sql: 'SELECT id FROM public.t ORDER BY id' })).rows).toEqual([{ id: 1 }, { id: 2 }]);
  });

  it.each(['SELECT rolname FROM pg_roles', 'SELECT name, setting FROM pg_settings', 'SELECT query FROM pg_stat_activity', 'SELECT proname FROM pg_proc', 'SELECT table_name FROM information_schema.tables', 'SELECT * FROM "pg_catalog".pg_roles'])(
    'refuses the catalog read %s with allowSchemas [public] (the role alone reads it)',
    async (sql) => {
      expect((await asAgent(sql)).length).toBeGreaterThan(0);
      await expectRefused(catalogs, sql, /pg_catalog|information_schema/);
    },
  );

  it('resolves against the configured searchPath, as the server does', async () => {
    await using app = await createGateway(
      { policy: { allowTools: ['db.*'] }, connectors: { postgres: { connectionString: db.agentUrl, allowTables: ['t'], searchPath: ['other'] } } },
      { logger: { warn: () => undefined } },
    );
    expect((await app.call<{ rows: unknown[] }>('db.query', { sql: 'SELECT token FROM t' })).rows).toEqual([{ token: 's3cret-other' }]);
    await expectRefused(app, 'SELECT id FROM public.t', /search_path \(other\)/);
    await expectRefused(app, 'SELECT rolname FROM pg_roles', /pg_catalog/);
  });

  it.each(['TABLE pg_roles', 'SELECT * FROM ONLY pg_settings', 'SELECT * FROM t NATURAL JOIN secrets', 'SELECT NULL::secrets', 'EXPLAIN SELECT * FROM secrets'])(
    'refuses the other spellings %s',
    async (sql) => {
      await expectRefused(gw, sql);
    },
  );

  it('holds the assumption the resolver makes: every pg_catalog relation is named pg_*', async () => {
    const rows = await db.admin("SELECT relname FROM pg_class WHERE relnamespace = 'pg_catalog'::regnamespace AND relkind IN ('r', 'v', 'm', 'f', 'p') AND relname NOT LIKE 'pg\\_%'");
    expect(rows).toEqual([]);
  });
});

describe('finding 5: operators and types the walker never looked at', () => {
  it.each([
    ['SELECT 1 WHERE 1 OPERATOR(s.===) ANY (SELECT 1)', /operator "s\.==="/],
    ["SELECT * FROM jsonb_to_record('{\"a\": 1}') AS x(a s.dom)", /type "s\.dom"/],
    ['SELECT id FROM t ORDER BY id USING OPERATOR(s.===)', /operator "s\.==="/],
    ['SELECT sum(id) OVER (ORDER BY id USING OPERATOR(s.===)) FROM t', /operator "s\.==="/],
    ["SELECT CAST('1' AS s.dom)", /type "s\.dom"/],
    ['SELECT id FROM t TABLESAMPLE s.m (10)', /TABLESAMPLE method "s\.m"/],
    ['SELECT \'a\' COLLATE s.c', /collation "s\.c"/],
  ])('refuses %s and nothing runs on the server', async (sql, reason) => {
    await expectRefused(gw, sql, reason);
    expect(await advisoryLocks()).toEqual([]);
  });

  it('shows the first two really ran the host functions without the validator', async () => {
    await asAgent('SELECT 1 WHERE 1 OPERATOR(s.===) ANY (SELECT 1)');
    await asAgent("SELECT * FROM jsonb_to_record('{\"a\": 1}') AS x(a s.dom)");
    expect((await advisoryLocks()).length).toBe(2);
    await agent.query('SELECT pg_advisory_unlock_all()');
    expect(await advisoryLocks()).toEqual([]);
  });
});

describe('finding 4: XMLTABLE and XPath', () => {
  it.each([
    "SELECT * FROM XMLTABLE('/a' PASSING '<a>1</a>' COLUMNS x int PATH '.')",
    "SELECT xpath('/a', '<a/>'::xml)",
    "SELECT XMLEXISTS('/a' PASSING '<a/>')",
    "SELECT '<a/>'::xml",
  ])('refuses %s and leaves no backend running', async (sql) => {
    await expectRefused(gw, sql, /XML|xml/);
    expect(await db.admin("SELECT pid FROM pg_stat_activity WHERE query ILIKE '%xml%' AND state = 'active' AND pid <> pg_backend_pid()")).toEqual([]);
  });
});

describe('finding 9a: no input crashes or overflows the validator', () => {
  it.each([
    ['a 3,000-term 1+1+…', `SELECT ${Array(3000).fill('1').join('+')}`],
    ['a 49,000-term 1+1+… (just under the length limit)', `SELECT ${Array(49_000).fill('1').join('+')}`],
    ['20,000 nested parentheses', `SELECT ${'('.repeat(20_000)}1${')'.repeat(20_000)}`],
    ['5,000 nested scalar subqueries', `SELECT ${'(SELECT '.repeat(5000)}1${')'.repeat(5000)}`],
    ['10,000 nested ARRAY[…]', `SELECT ${'ARRAY['.repeat(10_000)}1${']'.repeat(10_000)}`],
    ["15,000 'a'||'a'||…", `SELECT ${Array(15_000).fill("'a'").join('||')}`],
  ])('refuses %s as too complex, and the next query runs', async (_label, sql) => {
    await expectRefused(gw, sql, /too complex/);
    expect((await gw.call<{ rows: unknown[] }>('db.query', { sql: 'SELECT id FROM t ORDER BY id LIMIT 1' })).rows).toEqual([{ id: 1 }]);
  });

  it('answers a 100,000-term sum (past the length limit) with a verdict, not a failure', async () => {
    const error = (await gw.call('db.query', { sql: `SELECT ${Array(100_000).fill('1').join('+')}` }).catch((caught: unknown) => caught)) as { code: string };
    expect(['VALIDATION_FAILED', 'SQL_NOT_ALLOWED']).toContain(error.code);
  });
});

describe('set-returning functions, ROWS FROM and LATERAL', () => {
  it('runs LATERAL and ROWS FROM over allowed tables', async () => {
    const lateral = await gw.call<{ rows: unknown[] }>('db.query', { sql: 'SELECT t.id, g FROM t, LATERAL generate_series(1, t.id) g ORDER BY 1, 2' });
    expect(lateral.rows).toEqual([{ id: 1, g: 1 }, { id: 2, g: 1 }, { id: 2, g: 2 }]);
    const rowsFrom = await gw.call<{ rows: unknown[] }>('db.query', { sql: 'SELECT * FROM ROWS FROM (generate_series(1, 2), unnest(ARRAY[10])) WITH ORDINALITY AS x(a, b, n)' });
    expect(rowsFrom.rows).toEqual([{ a: 1, b: 10, n: '1' }, { a: 2, b: null, n: '2' }]);
  });

  it('stops a huge generate_series at the timeout and leaves no backend running', async () => {
    const error = (await gw.call('db.query', { sql: 'SELECT count(*) FROM generate_series(1, 1000000000000) g' }).catch((caught: unknown) => caught)) as { code: string };
    expect(error.code).toBe('TIMEOUT');
    let active: unknown[] = [];
    for (let i = 0; i < 30; i++) {
      active = await db.admin("SELECT pid FROM pg_stat_activity WHERE query LIKE '%1000000000000%' AND state = 'active' AND pid <> pg_backend_pid()");
      if (active.length === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(active).toEqual([]);
  });
});

describe('review: functional notation (x.f is the call f(x)) and allowlist names', () => {
  it('refuses ts_stat through field notation, which reads a table the role may read but allowTables forbids', async () => {
    const sql = "SELECT ('SELECT array_to_tsvector(array[token]) FROM secrets'::text).ts_stat";
    expect(JSON.stringify(await asAgent(sql))).toContain('s3cret-cte');
    await expectRefused(gw, sql, /ts_stat/);
  });

  it('refuses an advisory lock through field notation, and no lock is held', async () => {
    await expectRefused(gw, 'SELECT (4242::bigint).pg_advisory_lock', /pg_advisory_lock/);
    expect(await advisoryLocks()).toEqual([]);
  });

  it('lists every pg_catalog function callable as x.f that is neither IMMUTABLE nor on the allowlist', async () => {
    const { FIELD_NOTATION_FUNCTIONS } = await import('../../src/postgres/walker/field-functions.js');
    const { SAFE_FUNCTIONS } = await import('../../src/postgres/allowlists.js');
    // The query that generated FIELD_NOTATION_FUNCTIONS (run it on a new major version to refresh it).
    const rows = await db.admin<{ proname: string }>(`
      SELECT proname FROM pg_proc WHERE pronamespace = 'pg_catalog'::regnamespace
        AND ((pronargs - pronargdefaults <= 1 AND pronargs >= 1) OR provariadic <> 0)
      GROUP BY proname
      HAVING bool_or(provolatile <> 'i') OR proname ~ '^(xml|xpath|table_to_xml|query_to_xml|cursor_to_xml|schema_to_xml|database_to_xml)'`);
    expect(rows.length).toBeGreaterThan(300);
    const missing = rows.map((row) => row.proname).filter((name) => !FIELD_NOTATION_FUNCTIONS.has(name) && !SAFE_FUNCTIONS.has(name));
    expect(missing).toEqual([]);
  });

  it('allows only names that exist in pg_catalog (a missing one would resolve through the search_path)', async () => {
    const { SAFE_FUNCTIONS, SAFE_OPERATORS, SAFE_TYPES } = await import('../../src/postgres/allowlists.js');
    const missing = async (catalog: string, column: string, namespace: string, names: ReadonlySet<string>): Promise<string[]> =>
      (await db.admin<{ n: string }>(`SELECT n FROM unnest($1::text[]) AS n WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.${catalog} WHERE ${column} = n AND ${namespace} = 'pg_catalog'::regnamespace)`, [[...names]])).map((row) => row.n);
    expect(await missing('pg_proc', 'proname', 'pronamespace', SAFE_FUNCTIONS)).toEqual([]);
    expect(await missing('pg_type', 'typname', 'typnamespace', SAFE_TYPES)).toEqual([]);
    expect(await missing('pg_operator', 'oprname', 'oprnamespace', SAFE_OPERATORS)).toEqual([]);
  });
});
