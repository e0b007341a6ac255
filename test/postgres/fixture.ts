import pg from 'pg';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';

/** The fixture database: a server, a superuser URL for set-up and checks, and a SELECT-only role. */
export interface Fixture extends TestPostgres {
  /** Connection string of `agent_ro`, a role with SELECT on the fixture tables only. */
  agentUrl: string;
  /** Runs SQL as the superuser (fixtures and assertions only). */
  admin<T extends pg.QueryResultRow = Record<string, unknown>>(sql: string, values?: unknown[]): Promise<T[]>;
  /** What an attack could have changed: row counts, the sequence, large objects, the tables that exist. */
  snapshot(): Promise<Record<string, unknown>>;
}

const SETUP = `
CREATE ROLE agent_ro LOGIN;
CREATE TABLE items (id serial PRIMARY KEY, name text NOT NULL, "update" text, price numeric, created_at timestamptz DEFAULT now());
INSERT INTO items (name, "update", price) SELECT 'item-' || i, 'u' || i, i * 1.5 FROM generate_series(1, 50) i;
CREATE TABLE big (id int, payload text);
INSERT INTO big SELECT i, repeat('x', 1000) FROM generate_series(1, 5000) i;
CREATE TABLE audit_trail (note text);
CREATE TABLE secret_table (token text);
INSERT INTO secret_table VALUES ('not-for-agents');
CREATE SEQUENCE counter;
CREATE FUNCTION writer() RETURNS int LANGUAGE sql VOLATILE AS $$ INSERT INTO audit_trail VALUES ('written'); SELECT 1 $$;
CREATE FUNCTION definer_writer() RETURNS int LANGUAGE sql VOLATILE SECURITY DEFINER AS $$ INSERT INTO audit_trail VALUES ('definer'); SELECT 1 $$;
SELECT lo_from_bytea(0, 'a large object');
GRANT USAGE ON SCHEMA public TO agent_ro;
GRANT SELECT ON items, big, audit_trail TO agent_ro;
GRANT USAGE ON SEQUENCE counter TO agent_ro;
`;

export async function startFixture(): Promise<Fixture> {
  const server = await startPostgres();
  const pool = new pg.Pool({ connectionString: server.adminUrl, max: 2 });
  pool.on('error', () => undefined); // the server's goodbye (57P01) at shutdown
  await pool.query(SETUP);
  const admin = async <T extends pg.QueryResultRow>(sql: string, values: unknown[] = []): Promise<T[]> => (await pool.query<T>(sql, values)).rows;
  return {
    ...server,
    agentUrl: `postgres://agent_ro@127.0.0.1:${server.port}/postgres`,
    admin,
    async snapshot() {
      const [counts] = await admin(`SELECT (SELECT count(*) FROM items) AS items, (SELECT count(*) FROM audit_trail) AS audit_trail,
        (SELECT count(*) FROM big) AS big, (SELECT last_value FROM counter) AS counter_value, (SELECT is_called FROM counter) AS counter_called,
        (SELECT count(*) FROM pg_largeobject_metadata) AS large_objects,
        (SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables WHERE schemaname = 'public') AS tables`);
      return counts ?? {};
    },
    async stop() {
      await pool.end();
      await server.stop();
    },
  };
}
