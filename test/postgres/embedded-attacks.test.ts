// Issue 14's validator findings on the embedded database (PGlite in a worker) through
// gw.call('db.query'): each attack reads data on PGlite itself (the attack is real there), and
// the gateway refuses it with no row returned. The validator is the same code on both backends;
// this shows nothing in the embedded path skips it.
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway, type Gateway } from '../../src/index.js';
import { expectSqlRefused } from './refusal.js';

const SEED = `
CREATE TABLE t (id int); INSERT INTO t VALUES (1), (2);
CREATE TABLE secrets (token text); INSERT INTO secrets VALUES ('s3cret-embedded');
CREATE SCHEMA other; CREATE TABLE other.t (token text); INSERT INTO other.t VALUES ('s3cret-other');
`;

let seed: PGlite;
let gw: Gateway;

beforeAll(async () => {
  seed = await PGlite.create();
  await seed.exec(SEED);
  gw = await createGateway(
    { policy: { allowTools: ['db.*'], perTool: { 'db.query': { timeoutMs: 60_000 } } }, connectors: { postgres: { embedded: true, allowTables: ['t'] } } },
    { embeddedPostgres: seed },
  );
}, 180_000);

afterAll(async () => {
  await gw?.close();
  await seed?.close();
});

async function expectRefused(sql: string, reason: RegExp): Promise<void> {
  // The attack is real on PGlite: the seed instance answers it with data.
  expect(JSON.stringify((await seed.query(sql)).rows)).toMatch(/s3cret|rolname|setting|"ts_stat"|word/);
  await expectSqlRefused(gw, sql, reason);
}

describe('validator attacks on the embedded database', () => {
  it('answers an allowed query from the seeded copy', async () => {
    expect((await gw.call<{ rows: unknown[] }>('db.query', { sql: 'SELECT id FROM t ORDER BY id' })).rows).toEqual([{ id: 1 }, { id: 2 }]);
  }, 120_000);

  it.each([
    ['CTE name shadowing', 'WITH secrets AS (SELECT * FROM secrets) SELECT * FROM secrets', /table "secrets" is not allowed/],
    ['a bare allowTables entry in another schema', 'SELECT token FROM other.t', /other\.t/],
    ['a catalog view read unqualified', 'SELECT rolname FROM pg_roles', /pg_roles/],
    ['a catalog view with its schema', 'SELECT name, setting FROM pg_catalog.pg_settings', /pg_settings/],
    ['field notation running SQL', "SELECT ('SELECT array_to_tsvector(array[token]) FROM secrets'::text).ts_stat", /ts_stat/],
  ])('refuses %s', async (_, sql, reason) => {
    await expectRefused(sql, reason);
  }, 60_000);
});
