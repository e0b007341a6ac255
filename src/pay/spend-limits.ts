import { GatewayError } from '../errors.js';
import { formatSats } from './server-text.js';
import { MSAT_PER_SAT, type SpendRefusal, type SpendRequest, type SpendTrackerOptions } from './spend-tracker.js';

/**
 * The budget rules every ledger applies (the in-memory tracker, the shared PostgreSQL ledger):
 * one place decides what a limit means, the ledgers only differ in how they sum what was spent.
 */

/** The limits of a ledger, in msat; an absent limit does not apply. */
export interface SpendLimitsMsat {
  autoPay: number;
  minute: number;
  origin: number | undefined;
  actor: number | undefined;
  day: number | undefined;
}

/** What was already spent in each window the request falls in, fees included, in msat. */
export interface SpentMsat {
  minute: number;
  origin: number;
  actor: number;
  day: number;
}

const SATS_OPTIONS = [
  'maxAutoPaySats',
  'maxSpendPerMinuteSats',
  'maxSpendPerOriginPerMinuteSats',
  'maxSpendPerActorPerMinuteSats',
  'maxSpendPerDaySats',
] as const satisfies readonly (keyof SpendTrackerOptions)[];

function satsToMsat(sats: number | undefined): number | undefined {
  return sats === undefined ? undefined : sats * MSAT_PER_SAT;
}

/**
 * Reads the sats options of a ledger into msat limits, with the defaults.
 *
 * @throws GatewayError `CONFIG_INVALID` for a negative or fractional limit.
 */
export function resolveSpendLimits(options: Omit<SpendTrackerOptions, 'now'>): SpendLimitsMsat {
  for (const key of SATS_OPTIONS) {
    const value = options[key];
    if (value !== undefined && (!Number.isSafeInteger(value) || value < 0)) {
      throw new GatewayError('CONFIG_INVALID', `${key} must be a whole number of sats, 0 or more.`);
    }
  }
  return {
    autoPay: satsToMsat(options.maxAutoPaySats ?? 1000) ?? 0,
    minute: satsToMsat(options.maxSpendPerMinuteSats ?? 10_000) ?? 0,
    origin: satsToMsat(options.maxSpendPerOriginPerMinuteSats),
    actor: satsToMsat(options.maxSpendPerActorPerMinuteSats),
    day: satsToMsat(options.maxSpendPerDaySats),
  };
}

/**
 * The checks that need no window: a well-formed amount, and approval above `maxAutoPaySats`.
 *
 * @throws GatewayError `VALIDATION_FAILED` for an amount or fee reserve that is not a whole msat.
 */
export function refuseUnapproved(request: SpendRequest, limits: SpendLimitsMsat): SpendRefusal | undefined {
  const { amountMsat, feeReserveMsat } = request;
  if (!Number.isSafeInteger(amountMsat) || amountMsat <= 0 || !Number.isSafeInteger(feeReserveMsat) || feeReserveMsat < 0) {
    throw new GatewayError('VALIDATION_FAILED', 'amountMsat must be a positive whole number and feeReserveMsat a whole number, 0 or more.');
  }
  if (amountMsat > limits.autoPay && request.approved !== true) {
    return { code: 'APPROVAL_REQUIRED', reason: `${formatSats(amountMsat)} is over maxAutoPaySats (${formatSats(limits.autoPay)}) and needs approval`, limit: 'maxAutoPaySats' };
  }
  return undefined;
}

function refuse(limit: string, reason: string): SpendRefusal {
  return { code: 'SPEND_LIMIT_EXCEEDED', reason, limit };
}

/** The first rolling budget that `totalMsat` (amount and fee reserve) would pass, if any. */
export function exceededBudget(request: SpendRequest, totalMsat: number, spent: SpentMsat, limits: SpendLimitsMsat): SpendRefusal | undefined {
  if (spent.minute + totalMsat > limits.minute) {
    return refuse('maxSpendPerMinuteSats', `${formatSats(totalMsat)} (fee reserve included) would pass the budget of ${formatSats(limits.minute)} per minute`);
  }
  if (limits.origin !== undefined && request.origin !== undefined && spent.origin + totalMsat > limits.origin) {
    return refuse('maxSpendPerOriginPerMinuteSats', `${formatSats(totalMsat)} (fee reserve included) would pass the budget of ${formatSats(limits.origin)} per minute for this origin`);
  }
  if (limits.actor !== undefined && request.actor !== undefined && spent.actor + totalMsat > limits.actor) {
    return refuse('maxSpendPerActorPerMinuteSats', `${formatSats(totalMsat)} (fee reserve included) would pass the budget of ${formatSats(limits.actor)} per minute for this actor`);
  }
  if (limits.day !== undefined && spent.day + totalMsat > limits.day) {
    return refuse('maxSpendPerDaySats', `${formatSats(totalMsat)} (fee reserve included) would pass the budget of ${formatSats(limits.day)} per day`);
  }
  return undefined;
}
