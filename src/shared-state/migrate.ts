import type pg from 'pg';
import { GatewayError } from '../errors.js';

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/** The schema name, checked: it is written into SQL. */
export function checkSchema(schema: string | undefined): string {
  const name = schema ?? 'portcullis';
  if (!IDENTIFIER.test(name)) throw new GatewayError('CONFIG_INVALID', 'The shared-state schema must be a lower-case SQL identifier.');
  return name;
}

/**
 * Creates a component's tables on first use: idempotent statements, run in one transaction
 * under an advisory lock so that processes starting together do not collide, and the
 * component's version recorded in `<schema>.schema_version`.
 */
export async function migrate(pool: pg.Pool, schema: string, component: string, version: number, statements: readonly string[]): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query("SELECT pg_advisory_xact_lock(hashtext('portcullis-migrate'))");
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await client.query(`CREATE TABLE IF NOT EXISTS ${schema}.schema_version (component text PRIMARY KEY, version int NOT NULL)`);
    for (const statement of statements) await client.query(statement);
    await client.query(
      `INSERT INTO ${schema}.schema_version VALUES ($1, $2) ON CONFLICT (component) DO UPDATE SET version = GREATEST(${schema}.schema_version.version, EXCLUDED.version)`,
      [component, version],
    );
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw new GatewayError('CONFIG_INVALID', `Cannot create the ${component} tables in schema ${schema}.`, { cause: error });
  } finally {
    client.release();
  }
}
