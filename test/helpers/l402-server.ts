import { randomBytes } from 'node:crypto';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import type { Network } from '../../src/pay/bolt11.js';
import { startServer, type TestServer } from './http-server.js';
import type { FakeLightning } from './lightning.js';
import { mintMacaroon } from './macaroon.js';
import type { CashuSeller } from './nut24-server.js';

/** Knobs of the L402 server: one per failure the payer must handle. */
export interface L402Knobs {
  /** `payment`: the IETF Payment scheme (lightning/charge); `all`: Payment, LSAT and L402 together. */
  scheme?: 'L402' | 'LSAT' | 'both' | 'payment' | 'all';
  /** For the Payment scheme: the amount the challenge declares, in sats (default: the invoice's). */
  declaredSats?: number;
  tokenParam?: 'macaroon' | 'token';
  amountMsat?: number | undefined;
  amountless?: boolean;
  network?: Network;
  /** Invoices already expired when issued. */
  expired?: boolean;
  /** Macaroons that commit to another payment hash than the invoice. */
  mismatch?: boolean;
  /** Answer 402 even to a valid credential. */
  rejectPaid?: boolean;
  /** Caveats on the macaroons. */
  caveats?: string[];
  /** Redirect every unpaid request to api.test here (other hosts get the challenge). */
  redirectTo?: string;
  /** Answer this status (instead of 200) to a valid credential. */
  paidStatus?: number | undefined;
  /** Unquoted parameters (`macaroon=AgE…/+…=`) and an UPPER CASE invoice, as sloppy servers send. */
  sloppy?: boolean;
  /** Each macaroon opens only the path it was sold for (a different one per endpoint). */
  perPath?: boolean;
  /** The invoice's description (and the Payment challenge's), as the payee chooses it. */
  description?: string;
  /** Also offer NUT-24 ecash (an `X-Cashu` request next to the challenge) and take its tokens. */
  cashu?: CashuSeller;
}

/**
 * An L402 server on 127.0.0.1 that mints real macaroons (v2 binary, aperture-style identifier)
 * and real signed invoices from the fake Lightning network, and checks the credentials it gets.
 */
export async function startL402Server(lightning: FakeLightning, knobs: L402Knobs = {}): Promise<TestServer & { challenges: number; knobs: L402Knobs }> {
  const tokens = new Map<string, string>(); // token → payment hash it was sold for
  const soldFor = new Map<string, string>(); // token → path it was sold for
  const issued = new Map<string, { params: Record<string, string>; paymentHash: string }>(); // Payment challenges by id
  const state = { challenges: 0 };
  /** A Payment credential: the exact echo of an issued challenge and its preimage, consumed on first use. */
  const paymentValid = (auth: string): boolean => {
    if (!auth.startsWith('Payment ')) return false;
    try {
      const credential = JSON.parse(Buffer.from(auth.slice(8), 'base64url').toString('utf8')) as { challenge: Record<string, string>; payload: { preimage: string } };
      const stored = issued.get(credential.challenge.id ?? '');
      if (stored === undefined || JSON.stringify(credential.challenge) !== JSON.stringify(Object.fromEntries(Object.entries(stored.params).sort()))) return false;
      if (bytesToHex(sha256(hexToBytes(credential.payload.preimage))) !== stored.paymentHash) return false;
      issued.delete(credential.challenge.id ?? '');
      return true;
    } catch {
      return false;
    }
  };
  const server = await startServer((req, res) => {
    const ecash = req.headers['x-cashu'];
    if (knobs.cashu !== undefined && typeof ecash === 'string') {
      void knobs.cashu.redeem(ecash).then((ok) => (ok ? res.end(`paid-ecash:${req.method} ${req.url}`) : res.writeHead(402).end('payment required')));
      return;
    }
    const auth = req.headers.authorization ?? '';
    const match = /^(L402|LSAT) ([A-Za-z0-9+/=_-]+):([0-9a-f]{64})$/.exec(auth);
    const sold = match === null ? undefined : tokens.get(match[2] ?? '');
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const rightPath = knobs.perPath !== true || soldFor.get(match?.[2] ?? '') === path;
    const valid = (match !== null && sold !== undefined && rightPath && bytesToHex(sha256(hexToBytes(match[3] ?? ''))) === sold) || paymentValid(auth);
    if (valid && knobs.rejectPaid !== true) {
      if (knobs.paidStatus !== undefined) return void res.writeHead(knobs.paidStatus).end('unavailable');
      res.end(`paid:${req.method} ${req.url}`);
      return;
    }
    if (knobs.redirectTo !== undefined && (req.headers.host ?? '').startsWith('api.test')) {
      res.writeHead(302, { location: knobs.redirectTo }).end();
      return;
    }
    state.challenges += 1;
    const invoice = lightning.createInvoice({
      amountMsat: knobs.amountless === true ? undefined : (knobs.amountMsat ?? 10_000),
      ...(knobs.description === undefined ? {} : { description: knobs.description }),
      ...(knobs.network === undefined ? {} : { network: knobs.network }),
      ...(knobs.expired === true ? { timestamp: Math.floor(Date.now() / 1000) - 3600, expirySeconds: 60 } : {}),
    });
    const committed = knobs.mismatch === true ? randomBytes(32) : hexToBytes(invoice.paymentHash);
    const token = mintMacaroon({ paymentHash: committed, caveats: knobs.caveats ?? [] });
    tokens.set(token, invoice.paymentHash);
    soldFor.set(token, path);
    const param = knobs.tokenParam ?? 'macaroon';
    const l402 = knobs.sloppy === true ? `L402 ${param.toUpperCase()}=${token} , invoice=${invoice.bolt11.toUpperCase()}` : `L402 ${param}="${token}", invoice="${invoice.bolt11}"`;
    const lsat = `LSAT macaroon="${token}", invoice="${invoice.bolt11}"`;
    const id = randomBytes(12).toString('base64url');
    const request = Buffer.from(
      JSON.stringify({
        amount: String(knobs.declaredSats ?? Math.floor((knobs.amountMsat ?? 10_000) / 1000)),
        currency: 'sat',
        description: knobs.description ?? 'api access',
        methodDetails: { invoice: invoice.bolt11, paymentHash: invoice.paymentHash, network: 'mainnet' },
      }),
    ).toString('base64url');
    const params = { id, realm: 'api.test', method: 'lightning', intent: 'charge', request, opaque: 'c2VydmVyLXN0YXRl' };
    issued.set(id, { params, paymentHash: invoice.paymentHash });
    const payment = `Payment ${Object.entries(params).map(([k, v]) => `${k}="${v}"`).join(', ')}`;
    const header =
      knobs.scheme === 'LSAT' ? lsat : knobs.scheme === 'both' ? [lsat, l402] : knobs.scheme === 'payment' ? payment : knobs.scheme === 'all' ? [payment, lsat, l402] : l402;
    res.writeHead(402, { 'www-authenticate': header, ...(knobs.cashu === undefined ? {} : { 'x-cashu': knobs.cashu.header() }) }).end('payment required');
  });
  Object.defineProperty(server, 'challenges', { get: () => state.challenges });
  return Object.assign(server as TestServer & { challenges: number }, { knobs });
}
