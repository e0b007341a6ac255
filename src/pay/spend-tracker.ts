import { exceededBudget, refuseUnapproved, resolveSpendLimits } from './spend-limits.js';
import { RollingSum } from './window.js';

/** Millisatoshis per satoshi. Money is integer msat inside; sats only where users configure it. */
export const MSAT_PER_SAT = 1000;

/** Options of {@link createSpendTracker}; amounts in sats, as users configure them. */
export interface SpendTrackerOptions {
  /** Largest single payment made without approval (fees excluded), in sats. @default 1000 */
  maxAutoPaySats?: number | undefined;
  /** Most spent in any rolling 60 s, routing fees included, in sats. @default 10000 */
  maxSpendPerMinuteSats?: number | undefined;
  /** Most spent in any rolling 60 s per origin, in sats. @default no limit */
  maxSpendPerOriginPerMinuteSats?: number | undefined;
  /** Most spent in any rolling 60 s per actor, in sats. @default no limit */
  maxSpendPerActorPerMinuteSats?: number | undefined;
  /** Most spent in any rolling 24 h, in sats. @default no limit */
  maxSpendPerDaySats?: number | undefined;
  /** Clock, in ms. @default Date.now */
  now?: (() => number) | undefined;
}

/** What is about to be paid. */
export interface SpendRequest {
  /** The amount of the invoice, in msat (sub-sat amounts count). */
  amountMsat: number;
  /** The routing fee reserved on top, in msat (counted in every budget until settled). */
  feeReserveMsat: number;
  /** The origin being paid (`https://api.example.com`), for per-origin budgets. */
  origin?: string | undefined;
  actor?: string | undefined;
  /** A person approved an amount above `maxAutoPaySats`; the rolling budgets still apply. */
  approved?: boolean | undefined;
}

/**
 * A reservation in any ledger: money counted as spent until it is released. A shared ledger
 * settles and releases asynchronously.
 */
export interface LedgerReservation {
  readonly amountMsat: number;
  readonly feeReserveMsat: number;
  /** The payment went through: keep the amount and the fee actually paid. */
  settle(actualFeeMsat: number): void | Promise<void>;
  /** The payment certainly did not happen: give the whole reservation back. */
  release(): void | Promise<void>;
}

/** A reservation of the in-memory tracker: settled and released at once. */
export interface Reservation extends LedgerReservation {
  settle(actualFeeMsat: number): void;
  release(): void;
}

/** The refusal of `tryReserve`, as data. */
export interface SpendRefusal {
  code: 'SPEND_LIMIT_EXCEEDED' | 'APPROVAL_REQUIRED';
  reason: string;
  /** The budget that refused, such as `maxSpendPerMinuteSats`. */
  limit: string;
}

/**
 * What the payer needs of a budget: an atomic check-and-record. The in-memory
 * {@link SpendTracker} answers at once; a shared ledger (PostgreSQL, many processes) answers
 * with a promise, and its reservations may settle and release asynchronously.
 */
export interface SpendLedger {
  tryReserve(request: SpendRequest): LedgerReservation | SpendRefusal | Promise<LedgerReservation | SpendRefusal>;
}

/**
 * A ledger that also tells what was spent in the rolling minute: the in-memory tracker answers
 * at once, the shared ledger with a promise (`await` works for both).
 */
export interface MeteredSpendLedger extends SpendLedger {
  /** Spent in the rolling minute (fees included; by the whole fleet for a shared ledger), in msat. */
  spentLastMinuteMsat(): number | Promise<number>;
}

/** The spend tracker (`gw.spend`). */
export interface SpendTracker extends SpendLedger {
  /**
   * Checks every budget and records the spend in one step (no check-then-record race), or
   * refuses. O(1) amortised, whatever is in the window.
   */
  tryReserve(request: SpendRequest): Reservation | SpendRefusal;
  /** Spent in the rolling minute (fees included), in msat. */
  spentLastMinuteMsat(): number;
}

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
/** Rolling-window granularity: a minute window keeps at most 600 buckets, a day 1440. */
const MINUTE_BUCKET_MS = 100;
const DAY_BUCKET_MS = 60_000;
/** Per-origin and per-actor windows kept at most; idle ones are dropped first. */
const MAX_KEYS = 10_000;

/** True for a refusal of `tryReserve`. */
export function isSpendRefusal(value: LedgerReservation | SpendRefusal): value is SpendRefusal {
  return 'code' in value;
}

/** Rolling windows per key (origin, actor), bounded in number. */
class KeyedWindows {
  readonly #windows = new Map<string, RollingSum>();

  get(key: string, nowMs: number): RollingSum {
    let window = this.#windows.get(key);
    if (window === undefined) {
      if (this.#windows.size >= MAX_KEYS) this.#evict(nowMs);
      window = new RollingSum(MINUTE_MS, MINUTE_BUCKET_MS);
      this.#windows.set(key, window);
    }
    return window;
  }

  #evict(nowMs: number): void {
    for (const [key, window] of this.#windows) if (window.isEmpty(nowMs)) this.#windows.delete(key);
    // Still full: every key has spent in the last minute. Refusing new keys would be a denial
    // of service; forgetting one would lose money. Keep growing, the window empties in 60 s.
  }
}

/**
 * Creates the in-memory spend tracker: a per-payment cap and rolling budgets (per minute,
 * optionally per origin, per actor and per day), all counted in integer msat with fees.
 *
 * @throws GatewayError `CONFIG_INVALID` for a negative or fractional limit.
 * @example
 * ```ts
 * const spend = createSpendTracker({ maxAutoPaySats: 100, maxSpendPerMinuteSats: 1000 });
 * const reservation = spend.tryReserve({ amountMsat: 21_000, feeReserveMsat: 1000 });
 * if (!isSpendRefusal(reservation)) reservation.settle(250);
 * ```
 */
export function createSpendTracker(options: SpendTrackerOptions = {}): SpendTracker {
  const limits = resolveSpendLimits(options);
  const now = options.now ?? Date.now;
  const minute = new RollingSum(MINUTE_MS, MINUTE_BUCKET_MS);
  const day = limits.day === undefined ? undefined : new RollingSum(DAY_MS, DAY_BUCKET_MS);
  const origins = new KeyedWindows();
  const actors = new KeyedWindows();

  return {
    tryReserve(request) {
      const unapproved = refuseUnapproved(request, limits);
      if (unapproved !== undefined) return unapproved;
      const { amountMsat, feeReserveMsat } = request;
      const nowMs = now();
      const total = amountMsat + feeReserveMsat;
      const originWindow = limits.origin === undefined || request.origin === undefined ? undefined : origins.get(request.origin, nowMs);
      const actorWindow = limits.actor === undefined || request.actor === undefined ? undefined : actors.get(request.actor, nowMs);
      const spent = {
        minute: minute.total(nowMs),
        origin: originWindow?.total(nowMs) ?? 0,
        actor: actorWindow?.total(nowMs) ?? 0,
        day: day?.total(nowMs) ?? 0,
      };
      const exceeded = exceededBudget(request, total, spent, limits);
      if (exceeded !== undefined) return exceeded;
      // Every check passed in this same synchronous step: record everywhere now.
      const windows: [RollingSum, number][] = [[minute, minute.add(total, nowMs)]];
      if (originWindow !== undefined) windows.push([originWindow, originWindow.add(total, nowMs)]);
      if (actorWindow !== undefined) windows.push([actorWindow, actorWindow.add(total, nowMs)]);
      if (day !== undefined) windows.push([day, day.add(total, nowMs)]);
      let open = true;
      const giveBack = (msat: number): void => {
        const at = now();
        for (const [window, bucket] of windows) window.adjust(bucket, -msat, at);
      };
      return {
        amountMsat,
        feeReserveMsat,
        settle(actualFeeMsat) {
          if (!open) return;
          open = false;
          // An unreadable fee counts as the whole reserve; a fee over the reserve (a wallet that
          // ignored maxFeeMsat) is counted in full: the budget follows what was really spent.
          const fee = Number.isSafeInteger(actualFeeMsat) && actualFeeMsat >= 0 ? actualFeeMsat : feeReserveMsat;
          if (fee !== feeReserveMsat) giveBack(feeReserveMsat - fee);
        },
        release() {
          if (!open) return;
          open = false;
          giveBack(total);
        },
      };
    },
    spentLastMinuteMsat: () => minute.total(now()),
  };
}
