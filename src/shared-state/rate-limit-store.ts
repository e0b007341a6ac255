import type pg from 'pg';
import { GatewayError } from '../errors.js';
import type { RateLimit, RateLimitStore } from '../policy/rate-limit.js';
import { checkSchema, migrate } from './migrate.js';

/**
 * The policy engine's rate limits shared through PostgreSQL: every process counting the same
 * key sees the same sliding window. Each hit is one short transaction under the key's advisory
 * lock (count the window, insert if there is room); old hits are pruned as they leave it.
 * Pass it as `createGateway(config, { rateLimitStore })`.
 */
export async function postgresRateLimitStore(options: { pool: pg.Pool; schema?: string; namespace?: string }): Promise<RateLimitStore> {
  const schema = checkSchema(options.schema);
  const namespace = options.namespace ?? 'default';
  const table = `${schema}.rate_limit_hits`;
  await migrate(options.pool, schema, 'rate-limit', 1, [
    `CREATE TABLE IF NOT EXISTS ${table} (key text NOT NULL, at_ms bigint NOT NULL)`,
    `CREATE INDEX IF NOT EXISTS rate_limit_hits_key_time ON ${table} (key, at_ms)`,
  ]);
  return {
    async tryHit(key: string, limit: RateLimit, nowMs: number): Promise<boolean> {
      const fullKey = `${namespace}:${key}`;
      const client = await options.pool.connect();
      try {
        await client.query('BEGIN');
        await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`portcullis-rate:${fullKey}`]);
        await client.query(`DELETE FROM ${table} WHERE key = $1 AND at_ms <= $2`, [fullKey, nowMs - limit.windowMs]);
        const { rows } = await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${table} WHERE key = $1`, [fullKey]);
        const allowed = Number(rows[0]?.n ?? 0) < limit.maxCalls;
        if (allowed) await client.query(`INSERT INTO ${table} (key, at_ms) VALUES ($1, $2)`, [fullKey, nowMs]);
        await client.query('COMMIT');
        return allowed;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw new GatewayError('UPSTREAM_ERROR', 'The shared rate-limit store could not be reached; the call was not run.', { cause: error });
      } finally {
        client.release();
      }
    },
  };
}
