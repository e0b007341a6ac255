import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createBlindSignature, createNewMintKeys, hashToCurve, pointFromHex, serializeMintKeys } from '@cashu/cashu-ts';
import { decodeInvoice } from '../../src/pay/bolt11.js';
import { startServer, type TestServer } from './http-server.js';
import type { FakeLightning } from './lightning.js';

/** Knobs of the mint: one per failure a wallet must survive. */
export interface MintKnobs {
  /** Input fee per proof, in parts per thousand (NUT-02). @default 0 */
  inputFeePpk?: number;
  /** Fee reserve quoted for a melt, in sats. @default 2 */
  meltFeeReserveSats?: number;
  /** Routing fee the melt really pays, in sats (the rest of the reserve comes back as change). @default 1 */
  meltFeeSats?: number;
  /** `pending`: melts stay PENDING (proofs too) until `settleMelts()`; `fail`: the payment fails. @default 'pay' */
  meltMode?: 'pay' | 'pending' | 'fail';
  /** Do the next operation on this path, then drop the connection without answering (a crash or lost answer). */
  dropAnswerTo?: '/v1/swap' | '/v1/melt/bolt11' | undefined;
  /** Do every operation on this path, then never answer (the caller crashes while waiting). */
  holdAnswerTo?: '/v1/swap' | '/v1/melt/bolt11' | undefined;
  /** Refuse every request on this path with HTTP 500 without doing anything. */
  failPath?: string | undefined;
}

type ProofState = 'UNSPENT' | 'PENDING' | 'SPENT';

interface WireProof {
  id: string;
  amount: number;
  secret: string;
  C: string;
}
interface WireOutput {
  id: string;
  amount: number;
  B_: string;
}
interface WireSignature {
  id: string;
  amount: number;
  C_: string;
}
interface MeltQuote {
  quote: string;
  request: string;
  amount: number;
  fee_reserve: number;
  state: 'UNPAID' | 'PENDING' | 'PAID';
  payment_preimage: string | null;
  expiry: number;
  unit: 'sat';
  change?: WireSignature[];
  inputs?: string[];
}

class MintError extends Error {
  constructor(
    readonly code: number,
    readonly detail: string,
  ) {
    super(detail);
  }
}

/**
 * A Cashu mint on 127.0.0.1 built on the mint-side cryptography `@cashu/cashu-ts` exports:
 * one `sat` keyset with input fees, NUT-03 swap, NUT-04 mint quotes (paid at once: a faucet),
 * NUT-05 melt over the fake Lightning network, NUT-07 checkstate, NUT-08 change and NUT-09
 * restore, and double-spend refusal. The cashu-ts wallet talks to it unmodified.
 */
export async function startCashuMint(lightning: FakeLightning, knobs: MintKnobs = {}) {
  const keys = createNewMintKeys(16, randomBytes(32), { input_fee_ppk: knobs.inputFeePpk ?? 0, unit: 'sat' });
  const keysetId = keys.keysetId;
  const states = new Map<string, ProofState>(); // Y → state
  const signed = new Map<string, WireSignature>(); // B_ → signature (NUT-09 restore)
  const mintQuotes = new Map<string, { amount: number; state: 'PAID' | 'ISSUED'; request: string }>();
  const meltQuotes = new Map<string, MeltQuote>();
  const payer = lightning.wallet();
  const stats = { swaps: 0, melts: 0, requests: 0, byPath: new Map<string, number>() };

  const keyset = () => ({ id: keysetId, unit: 'sat', active: true, input_fee_ppk: knobs.inputFeePpk ?? 0 });
  const sign = (output: WireOutput): WireSignature => {
    if (output.id !== keysetId) throw new MintError(12001, 'unknown keyset');
    const key = keys.privKeys[String(output.amount)];
    if (key === undefined) throw new MintError(10002, `no key for amount ${output.amount}`);
    if (signed.has(output.B_)) throw new MintError(11002, 'outputs have already been signed before');
    const { C_ } = createBlindSignature(pointFromHex(output.B_), key, keysetId);
    const signature = { id: keysetId, amount: output.amount, C_: C_.toHex(true) };
    signed.set(output.B_, signature);
    return signature;
  };
  const yOf = (secret: string): string => hashToCurve(new TextEncoder().encode(secret)).toHex(true);
  const feeFor = (inputs: readonly WireProof[]): number => Math.ceil((inputs.length * (knobs.inputFeePpk ?? 0)) / 1000);

  /** Checks every input is validly signed, unspent, not pending, and listed once. */
  const checkInputs = (inputs: readonly WireProof[]): string[] => {
    if (inputs.length === 0) throw new MintError(11000, 'no inputs');
    const ys = inputs.map((proof) => {
      const key = keys.privKeys[String(proof.amount)];
      if (proof.id !== keysetId || key === undefined) throw new MintError(12001, 'unknown keyset');
      const Y = yOf(proof.secret);
      const expected = hashToCurve(new TextEncoder().encode(proof.secret)).multiplyUnsafe(BigInt(`0x${Buffer.from(key).toString('hex')}`));
      if (!expected.equals(pointFromHex(proof.C))) throw new MintError(10003, 'proof could not be verified');
      const state = states.get(Y);
      if (state === 'SPENT') throw new MintError(11001, 'proofs already spent');
      if (state === 'PENDING') throw new MintError(11004, 'proofs are pending');
      return Y;
    });
    if (new Set(ys).size !== ys.length) throw new MintError(11007, 'duplicate inputs');
    return ys;
  };
  const sum = (items: readonly { amount: number }[]): number => items.reduce((total, item) => total + item.amount, 0);

  const routes: Record<string, (body: Record<string, unknown>, path: string) => unknown> = {
    'GET /v1/info': () => ({
      name: 'portcullis test mint',
      pubkey: '02' + '11'.repeat(32),
      version: 'portcullis-test/1.0',
      contact: [],
      nuts: {
        4: { methods: [{ method: 'bolt11', unit: 'sat' }], disabled: false },
        5: { methods: [{ method: 'bolt11', unit: 'sat' }], disabled: false },
        7: { supported: true },
        8: { supported: true },
        9: { supported: true },
      },
    }),
    'GET /v1/keysets': () => ({ keysets: [keyset()] }),
    'GET /v1/keys': () => ({ keysets: [{ ...keyset(), keys: serializeMintKeys(keys.pubKeys) }] }),
    'POST /v1/mint/quote/bolt11': (body) => {
      const amount = Number(body.amount);
      const quote = randomBytes(16).toString('hex');
      const { bolt11 } = lightning.createInvoice({ amountMsat: amount * 1000 });
      mintQuotes.set(quote, { amount, state: 'PAID', request: bolt11 });
      return { quote, request: bolt11, amount, unit: 'sat', state: 'PAID', expiry: Math.floor(Date.now() / 1000) + 600 };
    },
    'POST /v1/mint/bolt11': (body) => {
      const quote = mintQuotes.get(String(body.quote));
      if (quote === undefined) throw new MintError(20007, 'unknown quote');
      if (quote.state === 'ISSUED') throw new MintError(20002, 'quote already issued');
      const outputs = body.outputs as WireOutput[];
      if (sum(outputs) !== quote.amount) throw new MintError(11005, 'outputs do not match the quote');
      quote.state = 'ISSUED';
      return { signatures: outputs.map(sign) };
    },
    'POST /v1/swap': (body) => {
      const inputs = body.inputs as WireProof[];
      const outputs = body.outputs as WireOutput[];
      const ys = checkInputs(inputs);
      if (sum(inputs) - feeFor(inputs) !== sum(outputs)) throw new MintError(11005, 'transaction is not balanced (inputs - fees != outputs)');
      const signatures = outputs.map(sign);
      for (const Y of ys) states.set(Y, 'SPENT');
      stats.swaps += 1;
      return { signatures };
    },
    'POST /v1/checkstate': (body) => ({ states: (body.Ys as string[]).map((Y) => ({ Y, state: states.get(Y) ?? 'UNSPENT', witness: null })) }),
    'POST /v1/restore': (body) => {
      const outputs = (body.outputs as WireOutput[]).filter((output) => signed.has(output.B_));
      const signatures = outputs.map((output) => signed.get(output.B_));
      return { outputs, signatures, promises: signatures };
    },
    'POST /v1/melt/quote/bolt11': (body) => {
      const invoice = decodeInvoice(String(body.request));
      if (invoice.amountMsat === undefined) throw new MintError(20006, 'amountless invoice');
      const quote: MeltQuote = {
        quote: randomBytes(16).toString('hex'),
        request: String(body.request),
        amount: Math.ceil(invoice.amountMsat / 1000),
        fee_reserve: knobs.meltFeeReserveSats ?? 2,
        state: 'UNPAID',
        payment_preimage: null,
        expiry: Math.floor(Date.now() / 1000) + 600,
        unit: 'sat',
      };
      meltQuotes.set(quote.quote, quote);
      return quote;
    },
    'POST /v1/melt/bolt11': async (body) => {
      const quote = meltQuotes.get(String(body.quote));
      if (quote === undefined) throw new MintError(20007, 'unknown quote');
      if (quote.state !== 'UNPAID') throw new MintError(20005, `quote is ${quote.state.toLowerCase()}`);
      const inputs = body.inputs as WireProof[];
      const ys = checkInputs(inputs);
      const available = sum(inputs) - feeFor(inputs);
      if (available < quote.amount + quote.fee_reserve) throw new MintError(11005, 'inputs do not cover amount + fee reserve');
      for (const Y of ys) states.set(Y, 'PENDING');
      quote.state = 'PENDING';
      quote.inputs = ys;
      stats.melts += 1;
      const blanks = (body.outputs as WireOutput[] | undefined) ?? [];
      const finish = async (): Promise<void> => {
        try {
          const { preimage } = await payer.payInvoice({ invoice: quote.request, maxFeeMsat: quote.fee_reserve * 1000, signal: AbortSignal.timeout(5000) });
          quote.state = 'PAID';
          quote.payment_preimage = preimage;
          for (const Y of ys) states.set(Y, 'SPENT');
          quote.change = changeFor(available - quote.amount - (knobs.meltFeeSats ?? 1), blanks);
        } catch {
          quote.state = 'UNPAID';
          for (const Y of ys) states.delete(Y);
        }
      };
      if (knobs.meltMode === 'pending') {
        pendingMelts.push(finish);
        return quote;
      }
      if (knobs.meltMode === 'fail') {
        quote.state = 'UNPAID';
        for (const Y of ys) states.delete(Y);
        throw new MintError(20000, 'lightning payment failed');
      }
      await finish();
      return quote;
    },
  };
  const pendingMelts: (() => Promise<void>)[] = [];

  /** NUT-08: signs the blank outputs for the overpaid fee reserve, split into powers of two. */
  const changeFor = (overpaid: number, blanks: readonly WireOutput[]): WireSignature[] => {
    const amounts: number[] = [];
    for (let bit = 0; overpaid > 0 && bit < 16; bit += 1) {
      if ((overpaid & (1 << bit)) !== 0) amounts.push(1 << bit);
    }
    return amounts.slice(0, blanks.length).map((amount, i) => sign({ ...(blanks[i] as WireOutput), amount }));
  };

  const route = (method: string, path: string): ((body: Record<string, unknown>, path: string) => unknown) | undefined => {
    if (method === 'GET' && /^\/v1\/keys\/[0-9a-f]+$/.test(path)) return routes['GET /v1/keys'];
    if (method === 'GET' && /^\/v1\/mint\/quote\/bolt11\/[0-9a-f]+$/.test(path)) {
      return (_, p) => {
        const id = p.split('/').pop() ?? '';
        const quote = mintQuotes.get(id);
        if (quote === undefined) throw new MintError(20007, 'unknown quote');
        return { quote: id, request: quote.request, amount: quote.amount, unit: 'sat', state: quote.state, expiry: Math.floor(Date.now() / 1000) + 600 };
      };
    }
    if (method === 'GET' && /^\/v1\/melt\/quote\/bolt11\/[0-9a-f]+$/.test(path)) {
      return (_, p) => {
        const quote = meltQuotes.get(p.split('/').pop() ?? '');
        if (quote === undefined) throw new MintError(20007, 'unknown quote');
        const { inputs: _inputs, ...visible } = quote;
        return visible;
      };
    }
    return routes[`${method} ${path}`];
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    stats.requests += 1;
    stats.byPath.set(path, (stats.byPath.get(path) ?? 0) + 1);
    const text = server.requests.at(-1)?.body ?? '';
    const handler = route(req.method ?? 'GET', path);
    res.setHeader('content-type', 'application/json');
    if (handler === undefined || knobs.failPath === path) {
      res.statusCode = handler === undefined ? 404 : 500;
      res.end(JSON.stringify({ detail: 'not here' }));
      return;
    }
    try {
      const answer = await handler(text === '' ? {} : (JSON.parse(text) as Record<string, unknown>), path);
      if (knobs.holdAnswerTo === path) return; // done, but the answer never leaves
      if (knobs.dropAnswerTo === path) {
        knobs.dropAnswerTo = undefined;
        req.socket.destroy();
        return;
      }
      res.end(JSON.stringify(answer));
    } catch (error) {
      res.statusCode = 400;
      res.end(JSON.stringify(error instanceof MintError ? { code: error.code, detail: error.detail } : { code: 10000, detail: String(error) }));
    }
  };
  const server: TestServer = await startServer((req, res) => void handle(req, res));

  return Object.assign(server, {
    knobs,
    stats,
    keysetId,
    /** The mint's view of one proof (by its secret). */
    stateOf: (secret: string): ProofState => states.get(yOf(secret)) ?? 'UNSPENT',
    /** Finishes every melt left PENDING by `meltMode: 'pending'`. */
    async settleMelts(): Promise<void> {
      for (const finish of pendingMelts.splice(0)) await finish();
    },
  });
}

export type CashuMint = Awaited<ReturnType<typeof startCashuMint>>;
