import type pg from 'pg';
import { exceededBudget, type SpendLimitsMsat, type SpentMsat } from '../pay/spend-limits.js';
import type { SpendRefusal, SpendRequest } from '../pay/spend-tracker.js';
import { migrate } from './migrate.js';

/**
 * The database side of the leased spend ledger: one row per lease of budget, taken under the
 * owner's advisory lock (leases are rare, so the lock is not contended) and returned with what
 * was really used. Every time is the database's clock (`clock_timestamp()`).
 *
 * A row counts in a window while `counted_until > now - window`: at its whole `granted_msat`
 * while the lease is live (`used_msat` null, also for a process that died), at `used_msat`
 * once returned. `counted_until` starts at the lease's expiry (creation + TTL) and is lowered to
 * the return time on return: every reservation made under the lease was made before both, so
 * each counts at least for the window's length after it was made, as in the in-memory tracker.
 */

/** Which per-origin and per-actor sums a lease counts in (null: that dimension has no limit). */
export interface LeaseKey {
  origin: string | null;
  actor: string | null;
}

/** What `acquire` saw and did: the sums after its grant, and the grant or the refusal. */
export interface AcquireOutcome {
  /** Counted in each window once the grant (if any) is added, in msat. */
  spentAfter: SpentMsat;
  lease?: { id: string; grantedMsat: number } | undefined;
  refusal?: SpendRefusal | undefined;
}

/** A lease takes at most this fraction (1/n) of the headroom left in its tightest window. */
const LEASE_HEADROOM_DIVISOR = 8;
/** Rows are deleted once outside every window: a day (the longest) and a minute of margin. */
const PRUNE_EVERY_ACQUIRES = 64;

export interface LeaseStore {
  /** Takes a lease of `desiredMsat` (bounded by the fairness rule, at least `totalMsat`) or refuses `request`. */
  acquire(key: LeaseKey, request: SpendRequest, totalMsat: number, desiredMsat: number): Promise<AcquireOutcome>;
  /** Gives a lease back: it counts `usedMsat` from now on, until its counting time leaves the window. */
  giveBack(id: string, usedMsat: number): Promise<void>;
  /** Adds a fee paid over its reserve, settled after the lease was given back, to the returned row. */
  addUsed(id: string, extraMsat: number): Promise<void>;
  /** Counted in the rolling minute, leaving out the listed leases (the caller counts those itself). */
  minuteMsat(exceptIds: readonly string[]): Promise<number>;
}

/** Creates the lease table (component `spend` version 2) and returns its queries. */
export async function leaseStore(pool: pg.Pool, schema: string, ownerName: string, limits: SpendLimitsMsat, ttlMs: number): Promise<LeaseStore> {
  const table = `${schema}.spend_leases`;
  const owner = dbText(ownerName) ?? '';
  await migrate(pool, schema, 'spend', 2, [
    `CREATE TABLE IF NOT EXISTS ${table} (
      id bigserial PRIMARY KEY,
      owner text NOT NULL,
      origin text,
      actor text,
      granted_msat bigint NOT NULL CHECK (granted_msat > 0),
      used_msat bigint CHECK (used_msat >= 0),
      created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
      counted_until timestamptz NOT NULL,
      returned_at timestamptz
    )`,
    `CREATE INDEX IF NOT EXISTS spend_leases_owner_counted ON ${table} (owner, counted_until)`,
  ]);
  const counted = 'coalesce(used_msat, granted_msat)';
  const longest = limits.day === undefined ? "interval '60 seconds'" : "interval '1 day'";
  // One reading of the database clock for every window of the statement.
  const sums = `
    WITH t AS (SELECT clock_timestamp() AS now)
    SELECT
      coalesce(sum(${counted}) FILTER (WHERE counted_until > t.now - interval '60 seconds'), 0)::bigint AS minute,
      coalesce(sum(${counted}) FILTER (WHERE counted_until > t.now - interval '60 seconds' AND origin = $2), 0)::bigint AS origin,
      coalesce(sum(${counted}) FILTER (WHERE counted_until > t.now - interval '60 seconds' AND actor = $3), 0)::bigint AS actor,
      coalesce(sum(${counted}), 0)::bigint AS day
    FROM ${table}, t
    WHERE owner = $1 AND counted_until > t.now - ${longest}`;
  const lockKey = `portcullis-spend:${owner}`;
  let acquires = 0;

  return {
    async acquire(key, request, totalMsat, desiredMsat) {
      const client = await pool.connect();
      try {
        // A lease waited for longer than its TTL could not be used: a process stalled while
        // holding the lock (SIGSTOP, a frozen VM) makes the others fail instead of hang.
        await client.query(`BEGIN; SET LOCAL lock_timeout = ${ttlMs}`);
        // Leases of one owner are taken one at a time, so two never both fit in the same headroom.
        await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [lockKey]);
        const { rows } = await client.query<{ minute: string; origin: string; actor: string; day: string }>(sums, [owner, dbText(key.origin), dbText(key.actor)]);
        const row = rows[0];
        const spent: SpentMsat = { minute: Number(row?.minute ?? 0), origin: Number(row?.origin ?? 0), actor: Number(row?.actor ?? 0), day: Number(row?.day ?? 0) };
        const refusal = exceededBudget(request, totalMsat, spent, limits);
        if (refusal !== undefined) {
          await client.query('ROLLBACK');
          return { spentAfter: spent, refusal };
        }
        const grantedMsat = Math.max(totalMsat, Math.min(desiredMsat, Math.floor(headroomMsat(key, spent, limits) / LEASE_HEADROOM_DIVISOR)));
        const inserted = await client.query<{ id: string }>(
          `INSERT INTO ${table} (owner, origin, actor, granted_msat, counted_until)
           VALUES ($1, $2, $3, $4, clock_timestamp() + $5 * interval '1 millisecond') RETURNING id`,
          [owner, dbText(key.origin), dbText(key.actor), grantedMsat, ttlMs],
        );
        if (++acquires % PRUNE_EVERY_ACQUIRES === 0) {
          await client.query(`DELETE FROM ${table} WHERE owner = $1 AND counted_until < clock_timestamp() - interval '1 day 1 minute'`, [owner]);
        }
        await client.query('COMMIT');
        const spentAfter: SpentMsat = {
          minute: spent.minute + grantedMsat,
          origin: spent.origin + (key.origin === null ? 0 : grantedMsat),
          actor: spent.actor + (key.actor === null ? 0 : grantedMsat),
          day: spent.day + grantedMsat,
        };
        return { spentAfter, lease: { id: inserted.rows[0]?.id ?? '', grantedMsat } };
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    },
    async giveBack(id, usedMsat) {
      await pool.query(
        `UPDATE ${table} SET used_msat = $2, counted_until = least(counted_until, clock_timestamp()), returned_at = clock_timestamp()
         WHERE id = $1 AND used_msat IS NULL`,
        [id, usedMsat],
      );
    },
    async addUsed(id, extraMsat) {
      await pool.query(`UPDATE ${table} SET used_msat = used_msat + $2 WHERE id = $1 AND used_msat IS NOT NULL`, [id, extraMsat]);
    },
    async minuteMsat(exceptIds) {
      const { rows } = await pool.query<{ minute: string }>(
        `SELECT coalesce(sum(${counted}), 0)::bigint AS minute FROM ${table}
         WHERE owner = $1 AND counted_until > clock_timestamp() - interval '60 seconds' AND NOT (id = ANY($2::bigint[]))`,
        [owner, exceptIds],
      );
      return Number(rows[0]?.minute ?? 0);
    },
  };
}

/**
 * An origin or actor as PostgreSQL text, which cannot hold NUL: it becomes U+FFFD (as a lone
 * surrogate already does on the way to UTF-8). Two keys may then share one sum: stricter, never looser.
 */
function dbText(value: string | null): string | null {
  return value === null ? null : value.replaceAll('\u0000', '\uFFFD');
}

/** What is left in the tightest window this lease counts in, in msat. */
function headroomMsat(key: LeaseKey, spent: SpentMsat, limits: SpendLimitsMsat): number {
  let headroom = limits.minute - spent.minute;
  if (limits.origin !== undefined && key.origin !== null) headroom = Math.min(headroom, limits.origin - spent.origin);
  if (limits.actor !== undefined && key.actor !== null) headroom = Math.min(headroom, limits.actor - spent.actor);
  if (limits.day !== undefined) headroom = Math.min(headroom, limits.day - spent.day);
  return headroom;
}
