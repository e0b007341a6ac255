import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway } from '../../src/index.js';
import { createPostgres } from '../../src/postgres/index.js';
import { readAudit } from '../helpers/audit.js';
import { tempDir } from '../helpers/temp-dir.js';
import { startFixture, type Fixture } from './fixture.js';

// The envelope under attack: results too big for the host (crash and memory), truncation within
// maxBytes, errors that would quote data. Trojans and the role recipe are in trojan.test.ts.

let db: Fixture;
const limits = { timeoutMs: 20_000, maxBytes: 1024 * 1024 };

/** Backends of the agent still running a query like `pattern`, after giving a cancel up to 5 s to land. */
async function activeQueries(pattern: string): Promise<unknown[]> {
  let active: unknown[] = [];
  for (let i = 0; i < 50; i++) {
    active = await db.admin("SELECT pid FROM pg_stat_activity WHERE query LIKE $1 AND state <> 'idle' AND pid <> pg_backend_pid()", [pattern]);
    if (active.length === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return active;
}

/** Fails the test if anything escapes as an uncaught exception while `run` is under way. */
async function noUncaught<T>(run: () => Promise<T>): Promise<T> {
  const escaped: unknown[] = [];
  const onUncaught = (error: unknown): void => void escaped.push(error);
  process.on('uncaughtException', onUncaught);
  try {
    const outcome = await run();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(escaped).toEqual([]);
    return outcome;
  } finally {
    process.off('uncaughtException', onUncaught);
  }
}

beforeAll(async () => {
  db = await startFixture();
  await db.admin(`CREATE TABLE notes (id int, body text);
    INSERT INTO notes VALUES (1, 'hunter2-secret');
    GRANT SELECT ON notes TO agent_ro;`);
});
afterAll(async () => {
  await db?.stop();
});

describe('a result too big for the host', () => {
  it.each([
    ['a 540 MB value (more than Node can hold as a string)', "SELECT repeat('x', 540000000) AS v"],
    ['a 200 MB row under a 1 MB limit', "SELECT repeat('y', 200000000) AS v"],
  ])('%s: refused as RESPONSE_TOO_LARGE, the host alive and small, the backend stopped', async (_, sql) => {
    await using dir = await tempDir();
    const gw = await createGateway({
      policy: { allowTools: ['db.*'], perTool: { 'db.query': { timeoutMs: 150_000, maxBytes: 1024 * 1024 } } },
      audit: { file: dir.join('audit.jsonl') },
      connectors: { postgres: { connectionString: db.agentUrl, warnIfSuperuser: false } },
    });
    global.gc?.();
    const rssBefore = process.memoryUsage().rss;
    let peakRss = rssBefore;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 5);
    try {
      await noUncaught(() => expect(gw.call('db.query', { sql })).rejects.toMatchObject({ code: 'RESPONSE_TOO_LARGE', data: { maxBytes: 1024 * 1024 } }));
    } finally {
      clearInterval(sampler);
    }
    expect(peakRss - rssBefore).toBeLessThan(300 * 1024 * 1024);
    expect(await activeQueries('%repeat(%')).toEqual([]);
    // The pool is healthy: the cut connection was discarded, the next query runs.
    expect(await gw.call('db.query', { sql: 'SELECT 1 AS one' })).toMatchObject({ rows: [{ one: 1 }] });
    await gw.close();
    const records = await readAudit(dir.join('audit.jsonl'));
    expect(records.map((r) => r.error_code)).toEqual(['RESPONSE_TOO_LARGE', null]);
  }, 180_000);
});

describe('truncated rows within maxBytes', () => {
  it('returns the rows that fit, counting their JSON form, with truncated: true', async () => {
    const postgres = await createPostgres({ connectionString: db.agentUrl, warnIfSuperuser: false });
    for (const maxBytes of [2000, 10_000, 100_000]) {
      const result = await postgres.query({ sql: 'SELECT id, payload FROM big ORDER BY id' }, { ...limits, maxBytes });
      const bytes = Buffer.byteLength(JSON.stringify(result));
      expect(result.truncated).toBe(true);
      expect(bytes).toBeLessThanOrEqual(maxBytes);
      expect(bytes + 1030).toBeGreaterThan(maxBytes); // one more row would not have fit
      expect(result.rows.map((r) => r.id)).toEqual(Array.from({ length: result.rowCount }, (_, i) => i + 1));
    }
    await postgres.close();
  });

  it('counts escapes and multi-byte characters as JSON does (UTF-8)', async () => {
    const postgres = await createPostgres({ connectionString: db.agentUrl, warnIfSuperuser: false });
    for (const value of ["repeat(chr(1), 300)", "repeat('é\"\\', 300)", "repeat('😀', 300)"]) {
      const result = await postgres.query({ sql: `SELECT g, ${value} AS v FROM generate_series(1, 100) g` }, { ...limits, maxBytes: 20_000 });
      expect(result.truncated).toBe(true);
      expect(result.rowCount).toBeGreaterThan(0);
      expect(Buffer.byteLength(JSON.stringify(result))).toBeLessThanOrEqual(20_000);
    }
    await postgres.close();
  });

  it('answers truncated rows through the gateway where RESPONSE_TOO_LARGE came before', async () => {
    await using dir = await tempDir();
    const gw = await createGateway({
      policy: { allowTools: ['db.*'], perTool: { 'db.query': { maxBytes: 5000 } } },
      audit: { file: dir.join('audit.jsonl') },
      connectors: { postgres: { connectionString: db.agentUrl, warnIfSuperuser: false } },
    });
    const result = await gw.call<{ rowCount: number; truncated: boolean }>('db.query', { sql: 'SELECT * FROM big' });
    expect(result).toMatchObject({ truncated: true });
    expect(result.rowCount).toBeGreaterThanOrEqual(3);
    await gw.close();
  });

  it('refuses a single row bigger than maxBytes with RESPONSE_TOO_LARGE, and keeps the pool usable', async () => {
    const postgres = await createPostgres({ connectionString: db.agentUrl, poolSize: 1, warnIfSuperuser: false });
    await expect(postgres.query({ sql: 'SELECT payload FROM big ORDER BY id' }, { ...limits, maxBytes: 900 })).rejects.toMatchObject({
      code: 'RESPONSE_TOO_LARGE',
      message: expect.stringMatching(/single row/) as unknown,
    });
    expect((await postgres.query({ sql: 'SELECT count(*) AS n FROM big' }, limits)).rows).toEqual([{ n: '5000' }]);
    await postgres.close();
  });

  it('refuses a db.schema listing over maxBytes rather than answer part of it', async () => {
    const postgres = await createPostgres({ connectionString: db.agentUrl, warnIfSuperuser: false });
    await expect(postgres.schema({}, { ...limits, maxBytes: 600 })).rejects.toMatchObject({ code: 'RESPONSE_TOO_LARGE' });
    expect((await postgres.schema({ table: 'notes' }, { ...limits, maxBytes: 600 })).tables.map((t) => t.table)).toEqual(['notes']);
    await postgres.close();
  });

  it('still stops a flood of small rows at maxBytes and cancels it on the server', async () => {
    const postgres = await createPostgres({ connectionString: db.agentUrl, maxRows: 1_000_000, warnIfSuperuser: false });
    const result = await postgres.query({ sql: 'SELECT g FROM generate_series(1, 5000000) g' }, { ...limits, maxBytes: 100_000 });
    expect(result.truncated).toBe(true);
    expect(Buffer.byteLength(JSON.stringify(result))).toBeLessThanOrEqual(100_000);
    expect(await activeQueries('%generate_series(1, 5000000)%')).toEqual([]);
    await postgres.close();
  });
});

describe('errors without data', () => {
  it.each([
    ['to_tsquery of a column', "SELECT to_tsquery(body || ' &') FROM notes", '42601'],
    ['a cast to integer', 'SELECT body::int FROM notes', '22P02'],
    ['a cast to date', 'SELECT body::date FROM notes', '22007'],
    ['a parameter', 'SELECT to_tsquery($1)', '42601'],
  ])('%s: the agent and the audit record get the SQLSTATE and a generic text; the host logger the full text', async (_, sql, sqlstate) => {
    await using dir = await tempDir();
    const logged: string[] = [];
    const gw = await createGateway(
      {
        policy: { allowTools: ['db.*'] },
        audit: { file: dir.join('audit.jsonl') },
        connectors: { postgres: { connectionString: db.agentUrl, warnIfSuperuser: false } },
      },
      { logger: { warn: (m) => logged.push(m) } },
    );
    const error = (await gw.call('db.query', { sql, ...(sql.includes('$1') ? { params: ['hunter2-secret &'] } : {}) }).catch((e: unknown) => e)) as Error & {
      code: string;
      data: unknown;
    };
    await gw.close();
    expect(error).toMatchObject({ code: 'UPSTREAM_ERROR', data: { sqlstate } });
    expect(error.message).toContain(`SQLSTATE ${sqlstate}`);
    expect(`${error.message} ${JSON.stringify(error)} ${JSON.stringify(error.data)}`).not.toContain('hunter2');
    const audit = await readAudit(dir.join('audit.jsonl'));
    expect(audit).toHaveLength(1);
    expect(JSON.stringify(audit)).not.toContain('hunter2');
    expect(logged.join('\n')).toContain('hunter2-secret');
  });
});
