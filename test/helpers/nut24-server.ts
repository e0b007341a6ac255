import { getTokenMetadata, Mint, normalizeMintUrl, PaymentRequest, sumProofs, Wallet, type RequestFn } from '@cashu/cashu-ts';
import { startServer, type TestServer } from './http-server.js';

/** Knobs of a NUT-24 seller: one per thing a payer must check or survive. */
export interface Nut24Knobs {
  /** Mints named in the payment request (and accepted). */
  mints: string[];
  amountSat?: number | undefined;
  unit?: string | undefined;
  /** NUT-18 `creqA` (CBOR) or NUT-26 `creqB`. @default 'creqA' */
  encoding?: 'creqA' | 'creqB' | undefined;
  /** Ask for P2PK-locked ecash (NUT-10), which the payer does not send. */
  locked?: boolean | undefined;
  /** Answer 402 to every token without redeeming it. */
  rejectPaid?: boolean | undefined;
  /** Redeem the token, then answer 402 anyway. */
  redeemThenReject?: boolean | undefined;
  /** Answer this status to a token (after redeeming it when `redeemBeforeError`). */
  errorStatus?: number | undefined;
  redeemBeforeError?: boolean | undefined;
  /** Redeem the token, then drop the connection without answering. */
  dropAfterRedeem?: boolean | undefined;
  /** Redirect every unpaid request to api.test here. */
  redirectTo?: string | undefined;
  /** The payment request's description. @default 'premium endpoint' */
  description?: string | undefined;
  /** A path served without payment (a baseline for benchmarks). */
  freePath?: string | undefined;
}

/** The seller's side of NUT-24: issues payment requests and redeems the tokens it gets at the mint. */
export function cashuSeller(knobs: Nut24Knobs, request: RequestFn) {
  const wallets = new Map<string, Promise<Wallet>>();
  const walletFor = (url: string): Promise<Wallet> => {
    let wallet = wallets.get(url);
    if (wallet === undefined) {
      const fresh = new Wallet(new Mint(url, { customRequest: request }), { unit: 'sat' });
      wallet = fresh.loadMint().then(() => fresh);
      wallets.set(url, wallet);
    }
    return wallet;
  };
  const state = { redeemedSat: 0, tokens: [] as string[] };
  return {
    knobs,
    state,
    header(): string {
      const nut10 = knobs.locked === true ? { kind: 'P2PK', data: '02' + '22'.repeat(32), tags: [] } : undefined;
      const paymentRequest = new PaymentRequest(undefined, undefined, knobs.amountSat ?? 10, knobs.unit ?? 'sat', knobs.mints, knobs.description ?? 'premium endpoint', true, nut10);
      return knobs.encoding === 'creqB' ? paymentRequest.toEncodedCreqB() : paymentRequest.toEncodedRequest();
    },
    /** Redeems a token (swap at its mint); true when it brought at least the amount asked. */
    async redeem(token: string): Promise<boolean> {
      state.tokens.push(token);
      if (knobs.rejectPaid === true) return false;
      try {
        const mint = normalizeMintUrl(getTokenMetadata(token).mint);
        if (!knobs.mints.map((url) => normalizeMintUrl(url)).includes(mint)) return false;
        const wallet = await walletFor(mint);
        const proofs = await wallet.receive(token);
        const amount = sumProofs(proofs).toNumber();
        state.redeemedSat += amount;
        return amount >= (knobs.amountSat ?? 10);
      } catch {
        return false;
      }
    },
  };
}

export type CashuSeller = ReturnType<typeof cashuSeller>;

/** A NUT-24 server on 127.0.0.1: 402 with `X-Cashu`, 200 for a token that redeems to the amount. */
export async function startNut24Server(knobs: Nut24Knobs, request: RequestFn): Promise<TestServer & { seller: CashuSeller }> {
  const seller = cashuSeller(knobs, request);
  const server = await startServer((req, res) => {
    if (knobs.freePath !== undefined && req.url === knobs.freePath) return void res.end('free');
    const token = req.headers['x-cashu'];
    if (typeof token === 'string' && token !== '' && knobs.errorStatus !== undefined) {
      seller.state.tokens.push(token);
      const redeemed = knobs.redeemBeforeError === true ? seller.redeem(token) : Promise.resolve(false);
      void redeemed.then(() => res.writeHead(knobs.errorStatus ?? 500).end('server error'));
      return;
    }
    if (typeof token === 'string' && token !== '') {
      void seller.redeem(token).then((ok) => {
        if (knobs.dropAfterRedeem === true) {
          req.socket.destroy();
          return;
        }
        if (ok && knobs.redeemThenReject !== true) res.end(`paid:${req.method} ${req.url}`);
        else res.writeHead(402, { 'x-cashu': seller.header() }).end('payment required');
      });
      return;
    }
    if (knobs.redirectTo !== undefined && (req.headers.host ?? '').startsWith('api.test')) {
      res.writeHead(302, { location: knobs.redirectTo }).end();
      return;
    }
    res.writeHead(402, { 'x-cashu': seller.header() }).end('payment required');
  });
  return Object.assign(server, { seller });
}
