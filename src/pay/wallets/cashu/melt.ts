import { OutputData, type MeltQuoteBolt11Response, type MeltPreview, type SerializedOutputData, type Wallet as MintWallet } from '@cashu/cashu-ts';
import { GatewayError, isGatewayError } from '../../../errors.js';
import type { BookOp } from '../../../store/token-store.js';
import { decodeInvoice } from '../../bolt11.js';
import type { PayInvoiceRequest, PayInvoiceResult } from '../../wallet.js';
import { addReady, callMint, dropOp, findOp, heldBy, newOpId, readyProofs, releaseAfterRefusal, hold, reserve, waitForChange, type WalletCore } from './core.js';
import { serializeOutputs, sumSat, toProofLike } from './mints.js';

const failed = (message: string, data: Record<string, unknown> = {}, cause?: unknown): GatewayError => new GatewayError('PAYMENT_FAILED', message, { cause, data });

/**
 * Pays a BOLT11 invoice from ecash (NUT-05 melt) at the first allowed mint that holds enough:
 * proofs are selected across everything held there, the mint's fee reserve and our input fee
 * must fit `maxFeeMsat`, the quote must be for the invoice's amount, and the operation is
 * written down (inputs held, change outputs kept) before the melt is sent. A melt the mint
 * reports PENDING, or an unclear answer, leaves the proofs held: the payer reports
 * `PAYMENT_OUTCOME_UNKNOWN` and `lookupPayment` finishes it later.
 */
export async function meltInvoice(core: WalletCore, request: PayInvoiceRequest): Promise<PayInvoiceResult> {
  let chosen: { mint: string; wallet: MintWallet; prepared: PreparedMelt } | undefined;
  try {
    // Proofs held by our own operations in flight come back as change: wait for them, then retry.
    while ((chosen = await chooseMelt(core, request)) === undefined) {
      if (!(await waitForAnyChange(core))) throw failed('No allowed mint holds the amount and the fee reserve; nothing was spent.');
    }
  } catch (error) {
    // Nothing is held before the melt is prepared: any failure so far certainly paid nothing.
    if (isGatewayError(error) && error.code === 'PAYMENT_FAILED') throw error;
    throw failed('The melt could not be prepared; nothing was spent.', {}, error);
  }
  const { mint, wallet, prepared } = chosen;
  try {
    return await completeMelt(core, mint, wallet, prepared);
  } finally {
    core.live.delete(prepared.id);
    prepared.release();
  }
}

async function waitForAnyChange(core: WalletCore): Promise<boolean> {
  const busy = core.mints.urls.filter((url) => (core.inFlight.get(url)?.size ?? 0) > 0);
  if (busy.length === 0) return false;
  await Promise.race(busy.map((url) => waitForChange(core, url)));
  return true;
}

/** Quotes and prepares the melt at the first mint that can pay; `undefined` when none holds enough now. */
async function chooseMelt(core: WalletCore, request: PayInvoiceRequest): Promise<{ mint: string; wallet: MintWallet; prepared: PreparedMelt } | undefined> {
  const invoice = decodeInvoice(request.invoice);
  if (invoice.amountMsat === undefined) throw failed('An amountless invoice cannot be melted.');
  const amountSat = Math.ceil(invoice.amountMsat / 1000);
  let lastRefusal: GatewayError | undefined;
  for (const mint of core.mints.urls) {
    const held = sumSat(readyProofs(await core.tokens.read(mint)));
    if (held < amountSat) continue;
    let wallet: MintWallet;
    let quote: MeltQuoteBolt11Response;
    try {
      wallet = await core.mints.walletFor(mint);
      quote = await wallet.createMeltQuoteBolt11(request.invoice);
    } catch (error) {
      lastRefusal = failed(`The mint ${mint} would not quote the invoice.`, { mint }, error);
      continue;
    }
    if (quote.amount.toNumber() !== amountSat) {
      throw failed(`The mint quoted ${quote.amount.toNumber()} sat for an invoice of ${amountSat} sat; not melting.`, { mint });
    }
    const release = hold(core, mint);
    let prepared: Omit<PreparedMelt, 'release'> | undefined;
    try {
      prepared = await prepareMelt(core, mint, wallet, quote, amountSat, invoice.paymentHash, request.maxFeeMsat);
    } catch (error) {
      release();
      throw error;
    }
    if (prepared === undefined) {
      release();
      continue;
    }
    return { mint, wallet, prepared: { ...prepared, release } };
  }
  if (lastRefusal !== undefined) throw lastRefusal;
  return undefined;
}

interface PreparedMelt {
  id: string;
  /** Ends the `hold` taken when its proofs were reserved. */
  release: () => void;
  preview: MeltPreview<MeltQuoteBolt11Response>;
  amountSat: number;
  inputSat: number;
}

async function prepareMelt(
  core: WalletCore,
  mint: string,
  wallet: MintWallet,
  quote: MeltQuoteBolt11Response,
  amountSat: number,
  paymentHash: string,
  maxFeeMsat: number,
): Promise<Omit<PreparedMelt, 'release'> | undefined> {
  const id = newOpId();
  return core.tokens.update(mint, async (book) => {
    const need = amountSat + quote.fee_reserve.toNumber();
    const { send } = wallet.selectProofsToSend(readyProofs(book).map(toProofLike), need, true);
    const inputSat = sumSat(send);
    const inputFeeSat = wallet.getFeesForProofs(send).toNumber();
    if (send.length === 0 || inputSat < need + inputFeeSat) return undefined;
    if ((quote.fee_reserve.toNumber() + inputFeeSat) * 1000 > maxFeeMsat) {
      throw failed(`The mint's fee reserve (${quote.fee_reserve.toNumber()} sat) and input fee (${inputFeeSat} sat) exceed the fee limit; nothing was spent.`, { mint });
    }
    const preview = await wallet.prepareMelt('bolt11', quote, send);
    const op: BookOp = { id, kind: 'melt', createdAtMs: core.now(), amountSat, inputs: send.map((p) => p.secret), outputs: serializeOutputs(preview.outputData), quote: quote.quote, paymentHash };
    reserve(book, op, send);
    core.live.add(id);
    return { id, preview, amountSat, inputSat };
  });
}

async function completeMelt(core: WalletCore, mint: string, wallet: MintWallet, prepared: PreparedMelt): Promise<PayInvoiceResult> {
  const outcome = await callMint(() => wallet.completeMelt(prepared.preview));
  if (!outcome.ok) {
    if (!outcome.refused) throw new Error('The mint did not answer the melt; its outcome is unknown.', { cause: outcome.error });
    await releaseAfterRefusal(core, mint, wallet, prepared.id);
    throw failed(`The mint refused the melt; nothing was spent.`, { mint }, outcome.error);
  }
  const { quote, change } = outcome.value;
  if (quote.state === 'PAID') {
    await core.tokens.update(mint, (book) => {
      dropOp(book, prepared.id);
      addReady(book, change);
    });
    return { preimage: quote.payment_preimage ?? '', feesPaidMsat: (prepared.inputSat - sumSat(change) - prepared.amountSat) * 1000 };
  }
  if (quote.state === 'UNPAID') {
    await releaseAfterRefusal(core, mint, wallet, prepared.id);
    throw failed('The mint could not pay the invoice; nothing was spent.', { mint });
  }
  throw new Error('The melt is pending at the mint; the proofs stay held until it settles.');
}

/**
 * Finishes a melt written down earlier (after `PAYMENT_OUTCOME_UNKNOWN` or a crash) by asking
 * the mint for its quote: paid → the proofs leave, the change is restored, the preimage is
 * returned; unpaid → the proofs are spendable again; pending → `undefined`, still held.
 */
export async function settleMelt(core: WalletCore, mint: string, opId: string): Promise<{ preimage: string } | undefined> {
  const wallet = await core.mints.walletFor(mint);
  const op = findOp(await core.tokens.read(mint), opId);
  if (op?.quote === undefined) return undefined;
  const quote = await wallet.checkMeltQuoteBolt11(op.quote);
  if (quote.state === 'PAID') {
    const outputs = (op.outputs ?? []).map((o) => OutputData.deserialize(o as unknown as SerializedOutputData));
    const change = quote.change === undefined ? [] : wallet.createMeltChangeProofs(outputs, quote.change);
    await core.tokens.update(mint, (book) => {
      dropOp(book, opId);
      addReady(book, change);
    });
    return quote.payment_preimage === null ? undefined : { preimage: quote.payment_preimage };
  }
  if (quote.state === 'UNPAID') {
    const held = heldBy(await core.tokens.read(mint), opId);
    if (held.length > 0) await releaseAfterRefusal(core, mint, wallet, opId);
  }
  return undefined;
}
