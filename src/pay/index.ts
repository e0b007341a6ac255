/**
 * Payments: the spend tracker, HTTP 402 challenge parsing and BOLT11 decoding.
 *
 * @packageDocumentation
 */
export {
  createSpendTracker,
  isSpendRefusal,
  MSAT_PER_SAT,
  type Reservation,
  type SpendRefusal,
  type SpendRequest,
  type SpendTracker,
  type SpendTrackerOptions,
} from './spend-tracker.js';
export { parseChallenges, type Challenge } from './challenges.js';
export { decodeInvoice, type Invoice, type Network } from './bolt11.js';
