// Baseline for bench/shared-state.ts only: the advisory-lock spend ledger as it was before the
// leased design (src/shared-state/spend-ledger.ts at a59a770), kept to measure against in the same run.
// Each reservation takes the owner's advisory lock and sums the window's rows. Not shipped.
import type pg from 'pg';
import { GatewayError } from '../../src/errors.js';
import { checkSchema, migrate } from '../../src/shared-state/migrate.js';
import { exceededBudget, refuseUnapproved, resolveSpendLimits } from '../../src/pay/spend-limits.js';
import type { LedgerReservation, SpendLedger, SpendRefusal, SpendRequest, SpendTrackerOptions } from '../../src/pay/spend-tracker.js';

/** Options of {@link postgresSpendLedger}; limits in sats, as for the in-memory tracker. */
export interface PostgresSpendLedgerOptions extends Omit<SpendTrackerOptions, 'now'> {
  pool: pg.Pool;
  /** Schema of the tables, created on first use. @default 'portcullis' */
  schema?: string | undefined;
  /** Whose budget this is: every process with the same owner shares one budget. @default 'default' */
  owner?: string | undefined;
}

/** The shared ledger, usable as the payer's `spend`. */
export interface PostgresSpendLedger extends SpendLedger {
  tryReserve(request: SpendRequest): Promise<LedgerReservation | SpendRefusal>;
  /** Spent by every process of this owner in the rolling minute (fees included), in msat. */
  spentLastMinuteMsat(): Promise<number>;
  /** Stops reserving (later `tryReserve` calls reject with `GATEWAY_CLOSED`); does not end the pool. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}


/**
 * A spend ledger in PostgreSQL shared by every process and machine with the same `owner`: one
 * budget for a fleet. A reservation is one short transaction that takes the owner's advisory
 * lock, sums the rolling windows and inserts, so concurrent processes never both pass a check
 * that only one of them fits. Time is the database's clock, the same for every machine.
 *
 * The rule for a process that dies mid-payment: its reservation stays `reserved` and keeps
 * counting in every window it was made in, like a settled one (a payment whose outcome is
 * unknown must not free budget). It leaves the budgets as the windows roll past it; settle or
 * release it by hand only when the payment's outcome is known.
 *
 * @throws GatewayError `CONFIG_INVALID` for a bad schema name or limit.
 */
export async function advisoryLockSpendLedger(options: PostgresSpendLedgerOptions): Promise<PostgresSpendLedger> {
  const schema = checkSchema(options.schema);
  const limits = resolveSpendLimits(options);
  const owner = options.owner ?? 'default';
  const table = `${schema}.spend_entries`;
  await migrate(options.pool, schema, 'spend-advisory-baseline', 1, [
    `CREATE TABLE IF NOT EXISTS ${table} (
      id bigserial PRIMARY KEY,
      owner text NOT NULL,
      origin text,
      actor text,
      amount_msat bigint NOT NULL CHECK (amount_msat > 0),
      fee_reserve_msat bigint NOT NULL CHECK (fee_reserve_msat >= 0),
      fee_msat bigint,
      state text NOT NULL CHECK (state IN ('reserved', 'settled', 'released')),
      created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
      closed_at timestamptz
    )`,
    `CREATE INDEX IF NOT EXISTS spend_entries_owner_time ON ${table} (owner, created_at)`,
  ]);
  // Counted: everything not released, at its reserve until settled and at its real fee after.
  const cost = 'amount_msat + coalesce(fee_msat, fee_reserve_msat)';
  const sums = `
    SELECT
      coalesce(sum(${cost}) FILTER (WHERE created_at > clock_timestamp() - interval '60 seconds'), 0)::bigint AS minute,
      coalesce(sum(${cost}) FILTER (WHERE created_at > clock_timestamp() - interval '60 seconds' AND origin = $2), 0)::bigint AS origin,
      coalesce(sum(${cost}) FILTER (WHERE created_at > clock_timestamp() - interval '60 seconds' AND actor = $3), 0)::bigint AS actor,
      coalesce(sum(${cost}), 0)::bigint AS day
    FROM ${table}
    WHERE owner = $1 AND state <> 'released' AND created_at > clock_timestamp() - interval '1 day'`;

  let closed = false;
  const close = (): Promise<void> => {
    closed = true;
    return Promise.resolve();
  };
  return {
    close,
    [Symbol.asyncDispose]: close,
    async tryReserve(request) {
      if (closed) throw new GatewayError('GATEWAY_CLOSED', 'The shared spend ledger is closed.');
      const unapproved = refuseUnapproved(request, limits);
      if (unapproved !== undefined) return unapproved;
      const { amountMsat, feeReserveMsat } = request;
      const total = amountMsat + feeReserveMsat;
      const client = await options.pool.connect();
      try {
        await client.query('BEGIN');
        // One owner's reservations take turns; other owners are not held up.
        await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`portcullis-spend:${owner}`]);
        const { rows } = await client.query<{ minute: string; origin: string; actor: string; day: string }>(sums, [owner, request.origin ?? null, request.actor ?? null]);
        const row = rows[0] ?? { minute: '0', origin: '0', actor: '0', day: '0' };
        const spent = { minute: Number(row.minute), origin: Number(row.origin), actor: Number(row.actor), day: Number(row.day) };
        const refusal = exceededBudget(request, total, spent, limits);
        if (refusal !== undefined) {
          await client.query('ROLLBACK');
          return refusal;
        }
        const inserted = await client.query<{ id: string }>(
          `INSERT INTO ${table} (owner, origin, actor, amount_msat, fee_reserve_msat, state) VALUES ($1, $2, $3, $4, $5, 'reserved') RETURNING id`,
          [owner, request.origin ?? null, request.actor ?? null, amountMsat, feeReserveMsat],
        );
        await client.query('COMMIT');
        const id = inserted.rows[0]?.id;
        const close = async (state: 'settled' | 'released', feeMsat: number | null): Promise<void> => {
          await options.pool.query(`UPDATE ${table} SET state = $2, fee_msat = $3, closed_at = clock_timestamp() WHERE id = $1 AND state = 'reserved'`, [id, state, feeMsat]);
        };
        return {
          amountMsat,
          feeReserveMsat,
          settle: (actualFeeMsat) => close('settled', Number.isSafeInteger(actualFeeMsat) && actualFeeMsat >= 0 ? actualFeeMsat : feeReserveMsat),
          release: () => close('released', null),
        };
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw new GatewayError('UPSTREAM_ERROR', 'The shared spend ledger could not be reached; no payment was made.', { cause: error });
      } finally {
        client.release();
      }
    },
    async spentLastMinuteMsat() {
      const { rows } = await options.pool.query<{ minute: string }>(sums, [owner, null, null]);
      return Number(rows[0]?.minute ?? 0);
    },
  };
}
