import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway } from '../../src/index.js';
import { startFixture, type Fixture } from '../postgres/fixture.js';

let db: Fixture;
beforeAll(async () => {
  db = await startFixture();
}, 120_000);
afterAll(async () => db?.stop());

const rules = [
  { id: 'no-secret', tool: 'db.query', effect: 'deny' as const, when: { tables: { anyIn: ['public.secret_table'] } } },
  { id: 'items-only', tool: 'db.query', effect: 'allow' as const, when: { statement: { in: ['select'] }, explain: { equals: false }, tables: { in: ['public.items'] }, schemas: { in: ['public'] }, functions: { in: ['count', 'lower'] } } },
];

async function agentConnections(): Promise<number> {
  const [row] = await db.admin<{ n: string }>(`SELECT count(*) AS n FROM pg_stat_activity WHERE usename = 'agent_ro'`);
  return Number(row?.n);
}

describe('argument rules on SQL', () => {
  it('decides on the parse tree: no quoting, case, comment or escape spelling reads another table, and nothing reaches the server', async () => {
    await using gw = await createGateway(
      { policy: { allowTools: ['db.query'], rules }, connectors: { postgres: { connectionString: db.agentUrl } } },
      { logger: { warn: () => undefined } },
    );
    const table = fc.constantFrom('secret_table', '"secret_table"', 'public.secret_table', 'PUBLIC.SECRET_TABLE', '"public"."secret_table"', 'U&"secret\\005ftable"', 'Secret_Table');
    const wrap = fc.constantFrom(
      (t: string) => `SELECT * FROM ${t}`,
      (t: string) => `/* FROM items */ SELECT count(*) FROM ${t}`,
      (t: string) => `SELECT 1 FROM items -- comment\n, ${t}`,
      (t: string) => `SELECT * FROM items WHERE id IN (SELECT 1 FROM ${t})`,
      (t: string) => `WITH items AS (SELECT 1) SELECT * FROM (SELECT * FROM ${t}) s`,
    );
    await fc.assert(
      fc.asyncProperty(table, wrap, async (t, w) => {
        await expect(gw.call('db.query', { sql: w(t) })).rejects.toMatchObject({ code: 'POLICY_DENIED' });
      }),
      { numRuns: 60 },
    );
    await expect(gw.call('db.query', { sql: 'EXPLAIN SELECT * FROM items' })).rejects.toMatchObject({ code: 'POLICY_DENIED', data: { rule: 'default-deny:db.query' } });
    await expect(gw.call('db.query', { sql: 'SELECT upper(name) FROM items' })).rejects.toMatchObject({ code: 'POLICY_DENIED' });
    await expect(gw.call('db.query', { sql: 'SELECT * FROM "ITEMS"' })).rejects.toMatchObject({ code: 'POLICY_DENIED' });
    expect(await agentConnections()).toBe(0);
    const explained = await gw.policy.explain('db.query', { sql: 'select COUNT(*) from "public".Items' });
    expect(explained).toMatchObject({ outcome: 'allow', rule: 'items-only', facts: { tables: ['public.items'], functions: ['count'], statement: 'select' } });
    expect(await agentConnections()).toBe(0);
    const result = await gw.call<{ rows: { n: string }[] }>('db.query', { sql: 'SELECT count(*) AS n FROM /* x */ "items"' });
    expect(result.rows[0]?.n).toBe('50');
  }, 60_000);
});
