import type { BookOp, StoredProof } from '../../../store/token-store.js';
import { addReady, bookBalance, dropOp, heldBy, type WalletCore } from './core.js';
import { settleMelt } from './melt.js';
import { CheckStateEnum, restoreOutputs, statesOf } from './mints.js';
import { confirmSent, reclaimSent, receiveProofs } from './transfer.js';

/** What `reconcile()` settled. */
export interface ReconcileReport {
  /** Operations finished (their outcome is now known and booked). */
  settled: number;
  /** Operations still open: the mint was unreachable or reports them pending. */
  open: number;
  /** Spendable balance afterwards, in sats. */
  balanceSat: number;
}

/**
 * Settles every operation written down but not finished (a crash, a lost answer): for each,
 * the mint is asked what happened (NUT-07 checkstate, NUT-09 restore, the melt quote), and the
 * book is brought in line. Proofs are never dropped on a guess: an operation whose state the
 * mint cannot tell stays open.
 */
export async function reconcileMint(core: WalletCore, mint: string): Promise<ReconcileReport> {
  const report = { settled: 0, open: 0, balanceSat: 0 };
  const book = await core.tokens.read(mint);
  for (const op of book.ops) {
    if (core.live.has(op.id)) {
      report.open += 1; // this process is still working on it
      continue;
    }
    // A mint that cannot answer now leaves the operation open, for the next reconcile.
    const done = await settle(core, mint, op, heldBy(book, op.id)).catch(() => false);
    if (done) report.settled += 1;
    else report.open += 1;
  }
  const after = await core.tokens.read(mint);
  report.balanceSat = bookBalance(after).availableSat;
  return report;
}

async function settle(core: WalletCore, mint: string, op: BookOp, held: StoredProof[]): Promise<boolean> {
  const wallet = await core.mints.walletFor(mint);
  switch (op.kind) {
    case 'melt':
      await settleMelt(core, mint, op.id);
      return !(await core.tokens.read(mint)).ops.some((candidate) => candidate.id === op.id);
    case 'sent': {
      // Sent with a request whose answer never came: take it back unless it was redeemed.
      if (op.reclaimOnReconcile === true) return (await reclaimSent(core, mint, op.id)) !== 'unknown';
      // Handed to someone on purpose: settled once they redeem it; until then it stays out.
      const states = await statesOf(wallet, held);
      if (states.length === 0 || states.some((state) => state !== CheckStateEnum.SPENT)) return false;
      await confirmSent(core, mint, op.id);
      return true;
    }
    case 'receive': {
      const incoming = op.incoming ?? [];
      const states = await statesOf(wallet, incoming);
      if (states.every((state) => state === CheckStateEnum.UNSPENT)) {
        await receiveProofs(core, mint, incoming, op.id); // the swap never happened: do it now
        return true;
      }
      if (states.some((state) => state !== CheckStateEnum.SPENT)) return false;
      return bookRestoredOutputs(core, mint, op);
    }
    case 'swap': {
      const states = await statesOf(wallet, held);
      if (states.every((state) => state === CheckStateEnum.UNSPENT)) {
        await core.tokens.update(mint, (book) => dropOp(book, op.id, { keepProofs: true }));
        return true;
      }
      if (states.some((state) => state !== CheckStateEnum.SPENT)) return false;
      // A token made from its outputs was never handed out, so all of them are ours.
      return bookRestoredOutputs(core, mint, op);
    }
  }
}

/**
 * The swap went through (every input spent) but its answer was lost: the mint signed our
 * outputs, so restore them (NUT-09) and book them in place of the operation.
 */
async function bookRestoredOutputs(core: WalletCore, mint: string, op: BookOp): Promise<true> {
  const proofs = await restoreOutputs(await core.mints.walletFor(mint), op.outputs ?? []);
  await core.tokens.update(mint, (book) => {
    dropOp(book, op.id);
    addReady(book, proofs);
  });
  return true;
}
