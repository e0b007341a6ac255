import type pg from 'pg';
import { GatewayError } from '../errors.js';
import { checkSchema } from './migrate.js';
import { leaseStore, type AcquireOutcome, type LeaseKey, type LeaseStore } from './lease.js';
import { exceededBudget, refuseUnapproved, resolveSpendLimits, type SpendLimitsMsat } from '../pay/spend-limits.js';
import type { LedgerReservation, SpendLedger, SpendRefusal, SpendRequest, SpendTrackerOptions } from '../pay/spend-tracker.js';

/** Options of {@link postgresSpendLedger}; limits in sats, as for the in-memory tracker. */
export interface PostgresSpendLedgerOptions extends Omit<SpendTrackerOptions, 'now'> {
  pool: pg.Pool;
  /** Schema of the tables, created on first use. @default 'portcullis' */
  schema?: string | undefined;
  /** Whose budget this is: every process with the same owner shares one budget. @default 'default' */
  owner?: string | undefined;
  /**
   * How long a process may spend from one lease of budget, in ms (10 to 600000). A lease of a
   * process that dies counts in full for this long plus the window's length; taking a lease
   * waits at most this long for the owner's lock (then `UPSTREAM_ERROR`). @default 5000
   */
  leaseTtlMs?: number | undefined;
}

/** The shared ledger, usable as the payer's `spend`. */
export interface PostgresSpendLedger extends SpendLedger {
  tryReserve(request: SpendRequest): Promise<LedgerReservation | SpendRefusal>;
  /**
   * Spent in the rolling minute (fees included), in msat: this process's reservations, and
   * what every other process of the owner used or holds in live leases.
   */
  spentLastMinuteMsat(): Promise<number>;
  /**
   * Stops reserving (later `tryReserve` calls reject with `GATEWAY_CLOSED`) and gives the unused
   * part of this process's leases back (reservations still open count as spent); does not end the pool.
   */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** A lease as this process spends it: counters in msat, times on the local monotonic clock. */
interface LocalLease {
  readonly id: string;
  readonly state: KeyState;
  readonly grantedMsat: number;
  /** Settled: amount and actual fee. */
  usedMsat: number;
  /** Reserved and not yet settled or released: counted in full if the lease is given back now. */
  openMsat: number;
  /** Everything reserved under it, for the size of the next lease. */
  reservedMsat: number;
  /** `performance.now()` before the lease was asked for, plus the usable TTL. */
  readonly deadlineMs: number;
  /** The same on `Date.now()`, which (unlike the monotonic clock) moves while the machine is suspended. */
  readonly wallDeadlineMs: number;
  lastUsedMs: number;
  retired: boolean;
  returning: Promise<void> | undefined;
  returned: boolean;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/** One lease key's local state: its live lease, the lease being asked for, the demand. */
interface KeyState {
  readonly key: LeaseKey;
  current: LocalLease | undefined;
  acquiring: Promise<AcquireOutcome> | undefined;
  /** Reservations waiting for `acquiring`, in msat. */
  waitingMsat: number;
  /** Reserved under the previous lease of this key, in msat. */
  lastPeriodMsat: number;
}

const DEFAULT_TTL_MS = 5000;
/** A lease unused for this long (or its TTL, if shorter) is given back. */
const IDLE_MS = 1000;
/** Key states kept at most; ones without a lease are dropped first. */
const MAX_KEYS = 10_000;
/** Leases that arrive already past their TTL (slow database, blocked event loop) before `tryReserve` gives up. */
const MAX_LATE_LEASES = 3;

function leaseTtl(value: number | undefined): number {
  const ttl = value ?? DEFAULT_TTL_MS;
  if (!Number.isSafeInteger(ttl) || ttl < 10 || ttl > 600_000) throw new GatewayError('CONFIG_INVALID', 'leaseTtlMs must be a whole number of ms from 10 to 600000.');
  return ttl;
}

function closedError(): GatewayError {
  return new GatewayError('GATEWAY_CLOSED', 'The shared spend ledger is closed.');
}

function unreachable(cause: unknown): GatewayError {
  return new GatewayError('UPSTREAM_ERROR', 'The shared spend ledger could not be reached; no payment was made.', { cause });
}

function tooSlow(): GatewayError {
  return new GatewayError('UPSTREAM_ERROR', 'The shared spend ledger granted budget only after leaseTtlMs had passed; no payment was made.');
}

/**
 * A limit above Number.MAX_SAFE_INTEGER msat (about 90,000 BTC) acts as that limit: a lease is
 * then at most that, so every sum kept in memory is an exact integer of msat (a request whose
 * total is larger is refused).
 */
function safeLimits(limits: SpendLimitsMsat): SpendLimitsMsat {
  const clamp = (msat: number | undefined): number | undefined => (msat === undefined ? undefined : Math.min(msat, Number.MAX_SAFE_INTEGER));
  return { autoPay: Math.min(limits.autoPay, Number.MAX_SAFE_INTEGER), minute: Math.min(limits.minute, Number.MAX_SAFE_INTEGER), origin: clamp(limits.origin), actor: clamp(limits.actor), day: clamp(limits.day) };
}

function keyOf(request: SpendRequest, limits: SpendLimitsMsat): LeaseKey {
  return {
    origin: limits.origin === undefined ? null : (request.origin ?? null),
    actor: limits.actor === undefined ? null : (request.actor ?? null),
  };
}

/**
 * A spend ledger in PostgreSQL shared by every process and machine with the same `owner`: one
 * budget for a fleet, kept with leased budget slices. A process takes a lease of budget in one
 * short transaction under the owner's advisory lock (the lease counts as spent in every window
 * at once, so the cap is exact), makes its reservations from it in memory, and gives the unused
 * part back when the lease ends (TTL, a second idle, exhausted, or `close()`).
 *
 * - Invariant: in every rolling window, on the database's clock, the reservations of all
 *   processes never pass a limit. A lease row counts from its creation until `counted_until`
 *   (its expiry, or its return time if earlier) plus the window's length.
 * - Fairness: a lease is sized from this process's demand (twice what it reserved under its
 *   previous lease of the same key, at least what is waiting) and never more than 1/8 of the
 *   headroom left in its tightest window (at least the request itself); a request that does not
 *   fit the headroom is refused.
 * - TTL: a process stops using a lease `leaseTtlMs` (less 1%, for clock rates) after it asked
 *   for it, on its own monotonic clock and its wall clock (which moves during a suspend), both
 *   started before the request; the database counts it until creation + TTL at least.
 * - A process that dies never gives its leases back: each counts in full until `counted_until`
 *   leaves the window (at most TTL + window), never lost, never doubled. Reservations still
 *   open when a lease is given back (outcome unknown) count as spent.
 *
 * With per-origin or per-actor limits, a lease is keyed by (origin, actor) and counts in that
 * origin's and actor's windows; a reservation only uses a lease with its own key.
 *
 * @throws GatewayError `CONFIG_INVALID` for a bad schema name, limit or `leaseTtlMs`.
 */
export async function postgresSpendLedger(options: PostgresSpendLedgerOptions): Promise<PostgresSpendLedger> {
  const schema = checkSchema(options.schema);
  const limits = safeLimits(resolveSpendLimits(options));
  const ttlMs = leaseTtl(options.leaseTtlMs);
  const idleMs = Math.min(IDLE_MS, ttlMs);
  const store = await leaseStore(options.pool, schema, options.owner ?? 'default', limits, ttlMs);
  return new LeasedLedger(store, limits, ttlMs, idleMs).api();
}

class LeasedLedger {
  readonly #states = new Map<string, KeyState>();
  /** Leases not given back yet: live, retired with open reservations, or whose return failed. */
  readonly #unreturned = new Set<LocalLease>();
  /** Leases whose return failed (database unreachable): tried again after the next lease is granted. */
  readonly #failedReturns = new Set<LocalLease>();
  /** How long a lease is used: 1% of the TTL less, for clocks that run at different rates (NTP slews up to 0.05% each). */
  readonly #usableMs: number;
  #closed = false;

  constructor(
    readonly store: LeaseStore,
    readonly limits: SpendLimitsMsat,
    readonly ttlMs: number,
    readonly idleMs: number,
  ) {
    this.#usableMs = ttlMs - Math.ceil(ttlMs / 100);
  }

  api(): PostgresSpendLedger {
    const close = (): Promise<void> => this.close();
    return {
      tryReserve: (request) => this.tryReserve(request),
      spentLastMinuteMsat: () => this.spentLastMinuteMsat(),
      close,
      [Symbol.asyncDispose]: close,
    };
  }

  async tryReserve(request: SpendRequest): Promise<LedgerReservation | SpendRefusal> {
    if (this.#closed) throw closedError();
    const unapproved = refuseUnapproved(request, this.limits);
    if (unapproved !== undefined) return unapproved;
    const total = request.amountMsat + request.feeReserveMsat;
    const state = this.#state(keyOf(request, this.limits));
    let late = 0;
    for (;;) {
      if (this.#closed) throw closedError();
      const lease = this.#usable(state, total);
      if (lease !== undefined) return this.#reserveIn(lease, request, total);
      if (state.acquiring !== undefined) {
        // Someone is asking for a lease of this key, sized for us too: wait for it, then retry.
        state.waitingMsat += total;
        let outcome: AcquireOutcome;
        try {
          outcome = await state.acquiring;
        } finally {
          state.waitingMsat -= total;
        }
        if (this.#closed) throw closedError();
        const granted = this.#usable(state, total);
        if (granted !== undefined) return this.#reserveIn(granted, request, total);
        const refusal = exceededBudget(request, total, outcome.spentAfter, this.limits);
        if (refusal !== undefined) return refusal;
        continue;
      }
      const askedMs = performance.now();
      const askedWallMs = Date.now();
      const acquiring = this.#acquire(state, request, total);
      state.acquiring = acquiring.finally(() => {
        state.acquiring = undefined;
      });
      const outcome = await state.acquiring;
      if (outcome.refusal !== undefined) return outcome.refusal;
      // A lease that arrives past its TTL cannot be used: asking again forever would never answer.
      if (this.#closed) throw closedError();
      const isLate = performance.now() >= askedMs + this.#usableMs || Date.now() >= askedWallMs + this.#usableMs;
      if (isLate && ++late >= MAX_LATE_LEASES) throw tooSlow();
    }
  }

  async spentLastMinuteMsat(): Promise<number> {
    const own = [...this.#unreturned];
    let others: number;
    try {
      others = await this.store.minuteMsat(own.map((lease) => lease.id));
    } catch (error) {
      throw unreachable(error);
    }
    return own.reduce((sum, lease) => sum + lease.usedMsat + lease.openMsat, others);
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#states.values()].map((state) => state.acquiring?.catch(() => undefined) ?? Promise.resolve(undefined)));
    for (const lease of this.#unreturned) {
      this.#retire(lease);
      if (lease.returning === undefined) this.#giveBack(lease);
    }
    await this.#returns();
    // A return that failed (database unreachable) is tried once more; if it fails again the
    // lease counts in full until it leaves the window, like a dead process's.
    for (const lease of this.#unreturned) this.#giveBack(lease);
    await this.#returns();
  }

  #returns(): Promise<unknown> {
    return Promise.all([...this.#unreturned].map((lease) => lease.returning ?? Promise.resolve()));
  }

  #state(key: LeaseKey): KeyState {
    const id = key.origin === null && key.actor === null ? '' : JSON.stringify([key.origin, key.actor]);
    let state = this.#states.get(id);
    if (state === undefined) {
      if (this.#states.size >= MAX_KEYS) {
        for (const [other, s] of this.#states) if (s.current === undefined && s.acquiring === undefined) this.#states.delete(other);
      }
      state = { key, current: undefined, acquiring: undefined, waitingMsat: 0, lastPeriodMsat: 0 };
      this.#states.set(id, state);
    }
    return state;
  }

  /** The key's live lease if `totalMsat` fits in it; retires it (and returns nothing) if not. */
  #usable(state: KeyState, totalMsat: number): LocalLease | undefined {
    const lease = state.current;
    if (lease === undefined) return undefined;
    const now = performance.now();
    if (now >= lease.deadlineMs || Date.now() >= lease.wallDeadlineMs || lease.grantedMsat - lease.usedMsat - lease.openMsat < totalMsat) {
      this.#retire(lease);
      return undefined;
    }
    lease.lastUsedMs = now;
    return lease;
  }

  async #acquire(state: KeyState, request: SpendRequest, totalMsat: number): Promise<AcquireOutcome> {
    // The local deadline starts before the request is sent: it ends before the database's.
    const startedMs = performance.now();
    const startedWallMs = Date.now();
    const desiredMsat = Math.max(2 * state.lastPeriodMsat, state.waitingMsat + totalMsat);
    let outcome: AcquireOutcome;
    try {
      outcome = await this.store.acquire(state.key, request, totalMsat, desiredMsat);
    } catch (error) {
      throw unreachable(error);
    }
    if (outcome.lease !== undefined) {
      const lease: LocalLease = {
        ...outcome.lease,
        state,
        usedMsat: 0,
        openMsat: 0,
        reservedMsat: 0,
        deadlineMs: startedMs + this.#usableMs,
        wallDeadlineMs: startedWallMs + this.#usableMs,
        lastUsedMs: performance.now(),
        retired: false,
        returning: undefined,
        returned: false,
        timer: undefined,
      };
      this.#unreturned.add(lease);
      for (const failed of this.#failedReturns) this.#giveBack(failed); // the database answers again
      if (this.#closed) {
        lease.retired = true;
        this.#giveBack(lease);
      } else {
        if (state.current !== undefined) this.#retire(state.current);
        state.current = lease;
        this.#watch(lease, this.idleMs); // idleMs is already at most ttlMs
      }
    }
    return outcome;
  }

  /** Retires the lease at its deadline or after `idleMs` without a reservation. */
  #watch(lease: LocalLease, delayMs: number): void {
    lease.timer = setTimeout(() => {
      lease.timer = undefined;
      if (lease.retired) return;
      const now = performance.now();
      const idleLeftMs = lease.lastUsedMs + this.idleMs - now;
      const ttlLeftMs = lease.deadlineMs - now;
      if (idleLeftMs <= 0 || ttlLeftMs <= 0) this.#retire(lease);
      else this.#watch(lease, Math.min(idleLeftMs, ttlLeftMs));
    }, Math.max(1, delayMs));
    lease.timer.unref();
  }

  /** No new reservation under this lease; it is given back once its open reservations end. */
  #retire(lease: LocalLease): void {
    if (lease.retired) return;
    lease.retired = true;
    if (lease.timer !== undefined) clearTimeout(lease.timer);
    lease.state.lastPeriodMsat = lease.reservedMsat;
    if (lease.state.current === lease) lease.state.current = undefined;
    if (lease.openMsat === 0) this.#giveBack(lease);
  }

  #giveBack(lease: LocalLease): void {
    this.#failedReturns.delete(lease);
    const usedMsat = lease.usedMsat + lease.openMsat;
    lease.returning = this.store.giveBack(lease.id, usedMsat).then(
      () => {
        lease.returned = true;
        this.#unreturned.delete(lease);
      },
      () => {
        // Still counted in full in the database: safe; tried again after the next grant and at close().
        if (!lease.returned) this.#failedReturns.add(lease);
      },
    );
  }

  /** A fee over the reserve, settled after the lease was given back: added to the returned row (or to a return tried again). */
  #overReserve(lease: LocalLease, extraMsat: number): Promise<void> | undefined {
    if (extraMsat <= 0) return undefined;
    lease.usedMsat += extraMsat;
    return lease.returning?.then(async () => {
      if (lease.returned) await this.store.addUsed(lease.id, extraMsat).catch(() => undefined);
    });
  }

  #reserveIn(lease: LocalLease, request: SpendRequest, totalMsat: number): LedgerReservation {
    const { amountMsat, feeReserveMsat } = request;
    lease.openMsat += totalMsat;
    lease.reservedMsat += totalMsat;
    let open = true;
    const end = (usedMsat: number): Promise<void> | undefined => {
      if (!open) return undefined;
      open = false;
      if (lease.returning !== undefined) return this.#overReserve(lease, usedMsat - totalMsat); // given back with this counted in full
      lease.openMsat -= totalMsat;
      lease.usedMsat += usedMsat;
      // A fee over the reserve may leave the lease overdrawn: give it back now, so the real
      // spend is recorded.
      // (A lease retired earlier, whose last reservation overdraws it, is given back here too.)
      if (lease.grantedMsat < lease.usedMsat + lease.openMsat) this.#retire(lease);
      if (lease.retired && lease.openMsat === 0 && lease.returning === undefined) this.#giveBack(lease);
      return lease.returning;
    };
    return {
      amountMsat,
      feeReserveMsat,
      settle: (actualFeeMsat) => end(amountMsat + (Number.isSafeInteger(actualFeeMsat) && actualFeeMsat >= 0 ? actualFeeMsat : feeReserveMsat)),
      release: () => end(0),
    };
  }
}
