import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgres } from '../../src/postgres/index.js';
import { startFixture, type Fixture } from './fixture.js';

// search_path trojans (the CVE-2018-1058 pattern), session state left on pooled connections,
// and the role recipe's temp_file_limit, on a real server.

let db: Fixture;
const limits = { timeoutMs: 10_000, maxBytes: 1024 * 1024 };

// Look-alikes of upper(text) and =(text, text) that win on varchar arguments: each says it ran
// (a NOTICE) and takes a session-level advisory lock, which a ROLLBACK does not release.
const TROJANS = `
CREATE FUNCTION public.upper(varchar) RETURNS text LANGUAGE plpgsql AS $$
BEGIN RAISE NOTICE 'trojan upper ran'; PERFORM pg_catalog.pg_advisory_lock(4242); RETURN pg_catalog.upper($1::text); END $$;
CREATE FUNCTION public.trojan_eq(varchar, varchar) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN RAISE NOTICE 'trojan = ran'; PERFORM pg_catalog.pg_advisory_lock(4343); RETURN $1::text OPERATOR(pg_catalog.=) $2::text; END $$;
CREATE OPERATOR public.= (LEFTARG = varchar, RIGHTARG = varchar, FUNCTION = public.trojan_eq);
`;
const TABLES = `
CREATE TABLE people (id int, name varchar(40));
INSERT INTO people VALUES (1, 'ada'), (2, 'grace');
GRANT SELECT ON people TO agent_ro;
CREATE FUNCTION public.grab() RETURNS int LANGUAGE sql AS $$ SELECT 1 FROM pg_catalog.pg_advisory_lock(77) $$;
CREATE FUNCTION public.grab_then_fail() RETURNS int LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_catalog.pg_advisory_lock(78); RAISE EXCEPTION 'boom'; END $$;
`;

/** Runs SQL as the superuser on one database of the fixture server. */
async function adminOn(database: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: db.adminUrl.replace(/\/postgres$/, `/${database}`) });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

async function advisoryLocks(): Promise<unknown[]> {
  return db.admin("SELECT objid FROM pg_locks WHERE locktype = 'advisory' ORDER BY objid");
}

/** A host pool on `database` as agent_ro, recording the NOTICEs its sessions receive. */
function notingPool(database: string): { pool: pg.Pool; notices: string[] } {
  const notices: string[] = [];
  const pool = new pg.Pool({ connectionString: db.agentUrl.replace(/\/postgres$/, `/${database}`), max: 1 });
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('notice', (notice) => notices.push(notice.message ?? '')));
  return { pool, notices };
}

const agentOn = (database: string): string => db.agentUrl.replace(/\/postgres$/, `/${database}`);

beforeAll(async () => {
  db = await startFixture();
  await db.admin('CREATE DATABASE trojan_before');
  await db.admin('CREATE DATABASE trojan_after');
  await adminOn('trojan_before', TABLES + TROJANS);
  await adminOn('trojan_after', `${TABLES} GRANT CREATE ON SCHEMA public TO PUBLIC;`);
  await db.admin(`CREATE ROLE agent_recipe LOGIN;
    ALTER ROLE agent_recipe SET temp_file_limit = '1MB';
    ALTER ROLE agent_recipe SET work_mem = '64kB';
    ALTER ROLE agent_recipe SET statement_timeout = '5s';
    GRANT SELECT ON big TO agent_recipe;`);
});
afterAll(async () => {
  await db?.stop();
});

describe('search_path trojans', () => {
  it('refuses to run anything (CONFIG_INVALID, naming the look-alikes) when searchPath schemas shadow built-ins; nothing ran', async () => {
    const { pool, notices } = notingPool('trojan_before');
    const warnings: string[] = [];
    const postgres = await createPostgres({ connectionString: agentOn('trojan_before') }, { pool, warn: (m) => warnings.push(m) });
    const refusal = { code: 'CONFIG_INVALID', message: expect.stringMatching(/function public\.upper\(character varying\).*operator public\.=\(character varying, character varying\)/) as unknown };
    await expect(postgres.query({ sql: 'SELECT upper(name) AS u FROM people' }, limits)).rejects.toMatchObject(refusal);
    await expect(postgres.query({ sql: "SELECT id FROM people WHERE name = 'ada'::varchar" }, limits)).rejects.toMatchObject(refusal);
    await expect(postgres.schema({}, limits)).rejects.toMatchObject(refusal);
    expect(warnings.join('\n')).toMatch(/refuses to run queries/);
    expect(notices).toEqual([]);
    expect(await advisoryLocks()).toEqual([]);
    await postgres.close();
    await pool.end();
  });

  it('db.schema never picks a look-alike created after the first connection, and it warned that the schema was writable', async () => {
    const { pool, notices } = notingPool('trojan_after');
    const warnings: string[] = [];
    const postgres = await createPostgres({ connectionString: agentOn('trojan_after') }, { pool, warn: (m) => warnings.push(m) });
    expect((await postgres.query({ sql: 'SELECT count(*) AS n FROM people' }, limits)).rows).toEqual([{ n: '2' }]);
    expect(warnings.join('\n')).toMatch(/create objects in searchPath schemas \(public \(PUBLIC\)\)/);
    await adminOn('trojan_after', TROJANS);
    try {
      const { tables } = await postgres.schema({}, limits);
      expect(tables.find((t) => t.table === 'people')?.columns).toEqual([
        { name: 'id', type: 'integer', nullable: true },
        { name: 'name', type: 'character varying', nullable: true },
      ]);
      expect(notices).toEqual([]); // the trojan `=` (is_nullable = 'YES' on varchar) did not run

      // An agent query can still reach it (the residual risk the warning is about), but the
      // session-level lock it takes does not survive the call on the pooled connection.
      expect((await postgres.query({ sql: "SELECT id FROM people WHERE name = 'ada'::varchar" }, limits)).rows).toEqual([{ id: 1 }]);
      expect(notices).toContain('trojan = ran');
      expect(await advisoryLocks()).toEqual([]);
    } finally {
      await adminOn('trojan_after', 'DROP OPERATOR public.= (varchar, varchar); DROP FUNCTION public.trojan_eq(varchar, varchar); DROP FUNCTION public.upper(varchar);');
      await postgres.close();
      await pool.end();
    }
  });
});

describe('functions callable as x.f', () => {
  it('refuses to run anything while the role may execute a one-argument function of a searchPath schema; runs once EXECUTE is revoked', async () => {
    await db.admin('CREATE DATABASE field_notation');
    await adminOn(
      'field_notation',
      `${TABLES}
      CREATE FUNCTION public.leak(people) RETURNS int LANGUAGE plpgsql AS $$ BEGIN RAISE NOTICE 'leak ran'; PERFORM pg_catalog.pg_advisory_lock(4444); RETURN 1; END $$;`,
    );
    const { pool, notices } = notingPool('field_notation');
    const postgres = await createPostgres({ connectionString: agentOn('field_notation') }, { pool, warn: () => undefined });
    // Without the check, `people.leak` is the call leak(people): the validator cannot tell it from a column.
    await expect(postgres.query({ sql: 'SELECT people.leak FROM people' }, limits)).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringMatching(/function public\.leak\(public\.people\), callable as x\.leak/) as unknown,
    });
    expect(notices).toEqual([]);
    expect(await advisoryLocks()).toEqual([]);
    await postgres.close();
    await pool.end();

    await adminOn('field_notation', 'REVOKE EXECUTE ON FUNCTION public.leak(people) FROM PUBLIC');
    const revoked = await createPostgres({ connectionString: agentOn('field_notation') }, { warn: () => undefined });
    try {
      expect((await revoked.query({ sql: 'SELECT count(*) AS n FROM people' }, limits)).rows).toEqual([{ n: '2' }]);
      await expect(revoked.query({ sql: 'SELECT people.leak FROM people' }, limits)).rejects.toMatchObject({ code: 'UPSTREAM_ERROR' });
      expect(await advisoryLocks()).toEqual([]);
    } finally {
      await revoked.close();
    }
  });
});

describe('session state does not survive on the pooled connection', () => {
  it.each([
    ['the connector pool (DISCARD ALL)', false],
    ['a host pool (pg_advisory_unlock_all)', true],
  ])('%s: advisory locks taken by a query are released, also when the query then fails', async (_, hostPool) => {
    const { pool } = notingPool('trojan_after');
    const postgres = await createPostgres(
      { connectionString: agentOn('trojan_after'), poolSize: 1, allowFunctions: ['grab', 'grab_then_fail'], warnIfSuperuser: false },
      { ...(hostPool ? { pool } : {}), warn: () => undefined },
    );
    expect((await postgres.query({ sql: 'SELECT grab() AS g' }, limits)).rows).toEqual([{ g: 1 }]);
    expect(await advisoryLocks()).toEqual([]);
    await expect(postgres.query({ sql: 'SELECT grab_then_fail()' }, limits)).rejects.toMatchObject({ code: 'UPSTREAM_ERROR', data: { sqlstate: 'P0001' } });
    expect(await advisoryLocks()).toEqual([]);
    // The same (single) connection is still usable.
    expect((await postgres.query({ sql: 'SELECT 1 AS one' }, limits)).rows).toEqual([{ one: 1 }]);
    await postgres.close();
    await pool.end();
  });
});

describe('temporary files and the role recipe', () => {
  const bigSort = "SELECT payload || id::text AS p FROM big ORDER BY 1 DESC";

  it('a big sort under the recipe role (temp_file_limit 1MB, work_mem 64kB) fails with a verdict', async () => {
    const postgres = await createPostgres({ connectionString: db.agentUrl.replace('agent_ro', 'agent_recipe'), maxRows: 5 }, { warn: () => undefined });
    await expect(postgres.query({ sql: bigSort }, limits)).rejects.toMatchObject({ code: 'UPSTREAM_ERROR', data: { sqlstate: '53400' } });
    // Without the limit the same sort runs (the verdict above is the limit's).
    const unlimited = await createPostgres({ connectionString: db.agentUrl, maxRows: 5 });
    expect((await unlimited.query({ sql: bigSort }, limits)).rowCount).toBe(5);
    await unlimited.close();
    await postgres.close();
  });

  it('sets tempFileLimitKb itself when the role may (a superuser), and warns that it cannot otherwise', async () => {
    const asAdmin = await createPostgres({ connectionString: db.adminUrl, maxRows: 5, tempFileLimitKb: 512, workMemKb: 64, warnIfSuperuser: false });
    await expect(asAdmin.query({ sql: bigSort }, limits)).rejects.toMatchObject({ code: 'UPSTREAM_ERROR', data: { sqlstate: '53400' } });
    await asAdmin.close();
    const warnings: string[] = [];
    const asAgent = await createPostgres({ connectionString: db.agentUrl, maxRows: 5, tempFileLimitKb: 512 }, { warn: (m) => warnings.push(m) });
    expect((await asAgent.query({ sql: 'SELECT 1 AS one' }, limits)).rows).toEqual([{ one: 1 }]);
    expect(warnings.join('\n')).toMatch(/tempFileLimitKb is not applied/);
    await asAgent.close();
  });
});
