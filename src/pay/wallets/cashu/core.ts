import { randomUUID } from 'node:crypto';
import { isMintOperationError, type Proof, type Wallet } from '@cashu/cashu-ts';
import { GatewayError } from '../../../errors.js';
import type { Book, BookOp, StoredProof, TokenStore } from '../../../store/token-store.js';
import { CheckStateEnum, statesOf, sumSat, toStored, type MintRegistry } from './mints.js';

/** What every wallet operation shares. */
export interface WalletCore {
  mints: MintRegistry;
  tokens: TokenStore;
  now: () => number;
  /** Operations under way per mint (see `hold`): their change comes back when they end. */
  inFlight: Map<string, Set<Promise<unknown>>>;
  /** Operations this process is working on: reconcile() leaves them alone. */
  live: Set<string>;
}

/**
 * Marks an operation on `mint` as under way from before it holds proofs until `release()`:
 * an operation short of spendable proofs waits for these (their change comes back) instead of
 * refusing.
 */
export function hold(core: WalletCore, mint: string): () => void {
  let release = (): void => undefined;
  const done = new Promise<void>((resolve) => {
    release = resolve;
  });
  const set = core.inFlight.get(mint) ?? new Set<Promise<unknown>>();
  core.inFlight.set(mint, set);
  set.add(done);
  return () => {
    set.delete(done);
    release();
  };
}

/** Waits until one operation under way at `mint` ends; false when there is none to wait for. */
export async function waitForChange(core: WalletCore, mint: string): Promise<boolean> {
  const running = [...(core.inFlight.get(mint) ?? [])];
  if (running.length === 0) return false;
  await Promise.race(running.map((call) => call.catch(() => undefined)));
  return true;
}

export const newOpId = (): string => randomUUID();

/** The proofs no operation holds. */
export function readyProofs(book: Book): StoredProof[] {
  return book.proofs.filter((entry) => entry.op === undefined).map((entry) => entry.proof);
}

/** What a book holds, in sats: spendable, and held by unsettled operations. */
export function bookBalance(book: Book): { availableSat: number; pendingSat: number } {
  const availableSat = sumSat(readyProofs(book));
  return { availableSat, pendingSat: sumSat(book.proofs.map((entry) => entry.proof)) - availableSat };
}

/** Adds proofs as spendable, skipping any the book already has (an answer applied twice). */
export function addReady(book: Book, proofs: readonly Proof[]): void {
  const known = new Set(book.proofs.map((entry) => entry.proof.secret));
  for (const proof of proofs) {
    if (!known.has(proof.secret)) book.proofs.push({ proof: toStored(proof) });
  }
}

/** Forgets the proofs an operation held (the mint spent them) and the operation itself. */
export function dropOp(book: Book, opId: string, options: { keepProofs?: boolean } = {}): void {
  if (options.keepProofs === true) {
    for (const entry of book.proofs) if (entry.op === opId) entry.op = undefined;
  } else {
    book.proofs = book.proofs.filter((entry) => entry.op !== opId);
  }
  book.ops = book.ops.filter((op) => op.id !== opId);
}

export function heldBy(book: Book, opId: string): StoredProof[] {
  return book.proofs.filter((entry) => entry.op === opId).map((entry) => entry.proof);
}

export function findOp(book: Book, opId: string): BookOp | undefined {
  return book.ops.find((op) => op.id === opId);
}

/** Marks `proofs` as held by a new operation and writes the operation down, in one book update. */
export function reserve(book: Book, op: BookOp, proofs: readonly { secret: string }[]): void {
  const secrets = new Set(proofs.map((proof) => proof.secret));
  for (const entry of book.proofs) if (secrets.has(entry.proof.secret)) entry.op = op.id;
  book.ops.push(op);
}

/** How a state-changing mint call ended, as far as this wallet can tell. */
export type CallOutcome<T> = { ok: true; value: T } | { ok: false; refused: boolean; error: unknown };

/**
 * Runs a swap or melt call. A mint protocol error (NUT error code) means the mint refused and
 * changed nothing; anything else (a lost connection, a timeout) leaves the outcome unknown.
 */
export async function callMint<T>(call: () => Promise<T>): Promise<CallOutcome<T>> {
  try {
    return { ok: true, value: await call() };
  } catch (error) {
    return { ok: false, refused: isMintOperationError(error), error };
  }
}

/**
 * After the mint refused an operation: gives its proofs back, except any the mint says are
 * already spent or pending (spent elsewhere: keeping them would count money twice).
 */
export async function releaseAfterRefusal(core: WalletCore, mint: string, wallet: Wallet, opId: string): Promise<void> {
  const held = heldBy(await core.tokens.read(mint), opId);
  let states: CheckStateEnum[];
  try {
    states = await statesOf(wallet, held);
  } catch {
    return; // Cannot tell: keep them held; reconcile() settles it later.
  }
  const gone = new Set(held.filter((_, i) => states[i] !== CheckStateEnum.UNSPENT).map((proof) => proof.secret));
  await core.tokens.update(mint, (book) => {
    book.proofs = book.proofs.filter((entry) => !(entry.op === opId && gone.has(entry.proof.secret)));
    dropOp(book, opId, { keepProofs: true });
  });
}

/** The error for an operation whose outcome is unknown: the proofs stay held until reconcile(). */
export function outcomeUnknown(what: string, mint: string, opId: string, cause: unknown): GatewayError {
  return new GatewayError('PAYMENT_OUTCOME_UNKNOWN', `The mint did not confirm the ${what}; its proofs stay held. Call reconcile() once the mint is reachable.`, {
    cause,
    data: { mint, operation: opId },
  });
}

/** A mint refusal as a GatewayError: nothing was spent. */
export function mintRefused(what: string, mint: string, cause: unknown): GatewayError {
  const detail = cause instanceof Error ? cause.message : 'refused';
  return new GatewayError('PAYMENT_FAILED', `The mint refused the ${what} (${detail}); nothing was spent.`, { cause, data: { mint } });
}
