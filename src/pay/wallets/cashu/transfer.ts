import { getEncodedToken, type Proof, type SwapPreview } from '@cashu/cashu-ts';
import { GatewayError, isGatewayError } from '../../../errors.js';
import type { StoredProof } from '../../../store/token-store.js';
import { addReady, callMint, dropOp, findOp, heldBy, mintRefused, newOpId, outcomeUnknown, readyProofs, releaseAfterRefusal, hold, reserve, waitForChange, type WalletCore } from './core.js';
import { CheckStateEnum, serializeOutputs, statesOf, sumSat, toProofLike, toStored } from './mints.js';

/** A token handed out, held until the payee's answer says whether it was redeemed. */
export interface OutgoingToken {
  /** The `cashuB…` token. */
  token: string;
  mint: string;
  /** Sum of the token's proofs, in sats (the amount plus the payee's input fee when it was included). */
  amountSat: number;
  /** What this payment cost on top of the amount: the swap's fee and the payee's input fee, in sats. */
  feeSat: number;
  /** The operation holding the token's proofs: `confirm(id)` once the payee took it, `reclaim(id)` if not. */
  id: string;
}

/**
 * Makes a token of exactly `amountSat` (plus, with `includeFees`, the fee the payee pays to
 * redeem it) at `mint`. With proofs that add up exactly, no mint call is made; otherwise one
 * swap makes the exact proofs and the change. The operation (inputs held, blinded outputs
 * kept) is written before the swap is sent, so a crash or a lost answer loses nothing.
 *
 * @throws GatewayError `INSUFFICIENT_FUNDS` (nothing held), `PAYMENT_FAILED` (the fee is over
 *   `maxFeeSat`, or the mint refused; nothing spent), `PAYMENT_OUTCOME_UNKNOWN` (reconcile later).
 */
export interface MakeTokenOptions {
  includeFees: boolean;
  maxFeeSat: number;
  /** The token goes with a request whose answer decides: reconcile() takes it back unless redeemed. */
  reclaimOnReconcile: boolean;
}

export async function makeToken(core: WalletCore, mint: string, amountSat: number, options: MakeTokenOptions): Promise<OutgoingToken> {
  for (;;) {
    try {
      return await makeTokenOnce(core, mint, amountSat, options);
    } catch (error) {
      // Proofs held by our own swaps in flight come back as change: wait for one, then retry.
      if (!(isGatewayError(error) && error.code === 'INSUFFICIENT_FUNDS' && (await waitForChange(core, mint)))) throw error;
    }
  }
}

async function makeTokenOnce(core: WalletCore, mint: string, amountSat: number, options: MakeTokenOptions): Promise<OutgoingToken> {
  const id = newOpId();
  core.live.add(id);
  const release = hold(core, mint);
  try {
    const token = await makeTokenAs(core, id, mint, amountSat, options);
    // A token waiting for its request's answer stays ours to settle (confirm or reclaim).
    if (!options.reclaimOnReconcile) core.live.delete(id);
    return token;
  } catch (error) {
    core.live.delete(id);
    throw error;
  } finally {
    release();
  }
}

async function makeTokenAs(core: WalletCore, id: string, mint: string, amountSat: number, options: MakeTokenOptions): Promise<OutgoingToken> {
  const wallet = await core.mints.walletFor(mint);
  const plan = await core.tokens.update(mint, async (book): Promise<{ exact: StoredProof[] } | { preview: SwapPreview }> => {
    const ready = readyProofs(book);
    const spendable = sumSat(ready);
    if (spendable < amountSat) throw insufficient(mint, amountSat, spendable);
    const base = { id, createdAtMs: core.now(), amountSat, reclaimOnReconcile: options.reclaimOnReconcile };
    // Proofs that add up exactly are handed over as they are: no mint round trip.
    const exact = wallet.selectProofsToSend(ready.map(toProofLike), amountSat, options.includeFees, true).send;
    if (exact.length > 0) {
      const proofs = exact.map(toStored);
      const receiverFee = options.includeFees ? wallet.getFeesForProofs(exact).toNumber() : 0;
      if (sumSat(proofs) === amountSat + receiverFee && receiverFee <= options.maxFeeSat) {
        reserve(book, { ...base, kind: 'sent', inputs: proofs.map((p) => p.secret) }, proofs);
        return { exact: proofs };
      }
    }
    let preview: SwapPreview;
    try {
      preview = await wallet.prepareSwapToSend(amountSat, ready.map(toProofLike), { includeFees: options.includeFees });
    } catch (error) {
      throw insufficient(mint, amountSat, spendable, error);
    }
    // Our swap's input fee, and what the payee's redeeming costs when it is included.
    const feeSat = preview.fees.toNumber() + sumSat((preview.sendOutputs ?? []).map((o) => o.blindedMessage)) - amountSat;
    if (feeSat > options.maxFeeSat) {
      throw new GatewayError('PAYMENT_FAILED', `The fees of this ecash payment (${feeSat} sat) exceed the fee limit (${options.maxFeeSat} sat); nothing was spent.`, { data: { mint, feeSat } });
    }
    const sendOutputs = serializeOutputs(preview.sendOutputs);
    reserve(book, { ...base, kind: 'swap', inputs: preview.inputs.map((p) => p.secret), outputs: [...sendOutputs, ...serializeOutputs(preview.keepOutputs)] }, preview.inputs);
    return { preview: { ...preview, unselectedProofs: [] } };
  });

  if ('exact' in plan) return outgoing(mint, id, plan.exact, amountSat);
  const outcome = await callMint(() => wallet.completeSwap(plan.preview));
  if (outcome.ok) await bookSwapResult(core, mint, id, amountSat, options.reclaimOnReconcile, outcome.value);
  if (!outcome.ok) {
    if (!outcome.refused) throw outcomeUnknown('swap', mint, id, outcome.error);
    await releaseAfterRefusal(core, mint, wallet, id);
    throw mintRefused('swap', mint, outcome.error);
  }
  const token = outgoing(mint, id, outcome.value.send.map(toStored), amountSat);
  return { ...token, feeSat: token.feeSat + plan.preview.fees.toNumber() };
}

/** Books a swap's answer: inputs out, change in, the token's proofs held as `sent`. */
async function bookSwapResult(core: WalletCore, mint: string, id: string, amountSat: number, reclaimOnReconcile: boolean, result: { keep: Proof[]; send: Proof[] }): Promise<void> {
  await core.tokens.update(mint, (book) => {
    dropOp(book, id);
    addReady(book, result.keep);
    const sent = result.send.map(toStored);
    reserve(book, { id, kind: 'sent', createdAtMs: core.now(), amountSat, reclaimOnReconcile, inputs: sent.map((p) => p.secret) }, []);
    for (const proof of sent) book.proofs.push({ proof, op: id });
  });
}

function outgoing(mint: string, id: string, proofs: StoredProof[], amountSat: number): OutgoingToken {
  const total = sumSat(proofs);
  return { token: getEncodedToken({ mint, unit: 'sat', proofs: proofs.map(toProofLike) as Proof[] }), mint, amountSat: total, feeSat: total - amountSat, id };
}

function insufficient(mint: string, amountSat: number, spendableSat: number, cause?: unknown): GatewayError {
  return new GatewayError('INSUFFICIENT_FUNDS', `The ecash wallet holds ${spendableSat} spendable sat at ${mint}, not enough for ${amountSat} sat and its fees; nothing was spent.`, {
    cause,
    data: { mint, amountSat, spendableSat },
  });
}

/** The payee took the token: its proofs leave the book for good. */
export async function confirmSent(core: WalletCore, mint: string, id: string): Promise<void> {
  await core.tokens.update(mint, (book) => dropOp(book, id));
  core.live.delete(id);
}

/**
 * The payee may not have redeemed the token (an error, a 402 again, a crash): asks the mint.
 * Spent: the payee has it (`'spent'`). Unspent: swaps the proofs back, so that a copy the payee
 * kept is worthless, and keeps the new proofs (`'reclaimed'`). Unreachable mint: `'unknown'`.
 */
export async function reclaimSent(core: WalletCore, mint: string, id: string): Promise<'spent' | 'reclaimed' | 'unknown'> {
  core.live.add(id);
  const release = hold(core, mint);
  try {
    return await reclaim(core, mint, id);
  } finally {
    core.live.delete(id);
    release();
  }
}

async function reclaim(core: WalletCore, mint: string, id: string): Promise<'spent' | 'reclaimed' | 'unknown'> {
  const wallet = await core.mints.walletFor(mint);
  const book = await core.tokens.read(mint);
  const held = heldBy(book, id);
  if (findOp(book, id)?.kind !== 'sent' || held.length === 0) return 'spent';
  let states: CheckStateEnum[];
  try {
    states = await statesOf(wallet, held);
  } catch {
    return 'unknown';
  }
  if (states.every((state) => state === CheckStateEnum.SPENT)) {
    await core.tokens.update(mint, (current) => dropOp(current, id));
    return 'spent';
  }
  if (states.some((state) => state === CheckStateEnum.PENDING)) return 'unknown';
  const preview = await wallet.prepareSwapToReceive(held.map(toProofLike));
  await core.tokens.update(mint, (current) => {
    const op = findOp(current, id);
    if (op !== undefined) Object.assign(op, { kind: 'swap', outputs: serializeOutputs(preview.keepOutputs) });
  });
  const outcome = await callMint(() => wallet.completeSwap(preview));
  if (!outcome.ok) {
    if (!outcome.refused) return 'unknown';
    // Refused: the payee redeemed it meanwhile (or some of it).
    await releaseAfterRefusal(core, mint, wallet, id);
    return 'spent';
  }
  await core.tokens.update(mint, (current) => {
    dropOp(current, id);
    addReady(current, [...outcome.value.keep, ...outcome.value.send]);
  });
  return 'reclaimed';
}

/**
 * Takes in proofs from someone else by swapping them at the mint (so the sender cannot spend
 * them again). The incoming proofs and our blinded outputs are written down first.
 *
 * @throws GatewayError `TOKEN_INVALID` (the mint refused them: spent, invalid),
 *   `PAYMENT_OUTCOME_UNKNOWN` (reconcile later).
 */
export async function receiveProofs(core: WalletCore, mint: string, incoming: readonly StoredProof[], existingOp?: string): Promise<{ amountSat: number; feeSat: number }> {
  const id = existingOp ?? newOpId();
  core.live.add(id);
  const release = hold(core, mint); // what it brings in can serve a payment waiting for funds
  try {
    return await receiveAs(core, id, mint, incoming);
  } finally {
    core.live.delete(id);
    release();
  }
}

async function receiveAs(core: WalletCore, id: string, mint: string, incoming: readonly StoredProof[]): Promise<{ amountSat: number; feeSat: number }> {
  const wallet = await core.mints.walletFor(mint);
  let preview: SwapPreview;
  try {
    preview = await wallet.prepareSwapToReceive(incoming.map(toProofLike));
  } catch (error) {
    throw new GatewayError('TOKEN_INVALID', 'The ecash token cannot be received: its proofs do not belong to this mint\'s keysets or are invalid.', { cause: error, data: { mint } });
  }
  await core.tokens.update(mint, (book) => {
    book.ops = book.ops.filter((op) => op.id !== id);
    book.ops.push({
      id,
      kind: 'receive',
      createdAtMs: core.now(),
      amountSat: sumSat(incoming),
      inputs: incoming.map((p) => p.secret),
      incoming: [...incoming],
      outputs: serializeOutputs(preview.keepOutputs),
    });
  });
  const outcome = await callMint(() => wallet.completeSwap(preview));
  if (!outcome.ok) {
    if (!outcome.refused) throw outcomeUnknown('receive', mint, id, outcome.error);
    await core.tokens.update(mint, (book) => dropOp(book, id));
    throw new GatewayError('TOKEN_INVALID', 'The mint refused the token (already spent, or not valid); nothing was received.', { cause: outcome.error, data: { mint } });
  }
  const proofs = [...outcome.value.keep, ...outcome.value.send];
  await core.tokens.update(mint, (book) => {
    dropOp(book, id);
    addReady(book, proofs);
  });
  const amountSat = sumSat(proofs);
  return { amountSat, feeSat: sumSat(incoming) - amountSat };
}
