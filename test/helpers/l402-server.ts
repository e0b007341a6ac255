import { randomBytes } from 'node:crypto';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import type { Network } from '../../src/pay/bolt11.js';
import { startServer, type TestServer } from './http-server.js';
import type { FakeLightning } from './lightning.js';
import { mintMacaroon } from './macaroon.js';

/** Knobs of the L402 server: one per failure the payer must handle. */
export interface L402Knobs {
  scheme?: 'L402' | 'LSAT' | 'both';
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
}

/**
 * An L402 server on 127.0.0.1 that mints real macaroons (v2 binary, aperture-style identifier)
 * and real signed invoices from the fake Lightning network, and checks the credentials it gets.
 */
export async function startL402Server(lightning: FakeLightning, knobs: L402Knobs = {}): Promise<TestServer & { challenges: number; knobs: L402Knobs }> {
  const tokens = new Map<string, string>(); // token → payment hash it was sold for
  const state = { challenges: 0 };
  const server = await startServer((req, res) => {
    const auth = req.headers.authorization ?? '';
    const match = /^(L402|LSAT) ([A-Za-z0-9+/=_-]+):([0-9a-f]{64})$/.exec(auth);
    const sold = match === null ? undefined : tokens.get(match[2] ?? '');
    const valid = match !== null && sold !== undefined && bytesToHex(sha256(hexToBytes(match[3] ?? ''))) === sold;
    if (valid && knobs.rejectPaid !== true) {
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
      ...(knobs.network === undefined ? {} : { network: knobs.network }),
      ...(knobs.expired === true ? { timestamp: Math.floor(Date.now() / 1000) - 3600, expirySeconds: 60 } : {}),
    });
    const committed = knobs.mismatch === true ? randomBytes(32) : hexToBytes(invoice.paymentHash);
    const token = mintMacaroon({ paymentHash: committed, caveats: knobs.caveats ?? [] });
    tokens.set(token, invoice.paymentHash);
    const param = knobs.tokenParam ?? 'macaroon';
    const l402 = `L402 ${param}="${token}", invoice="${invoice.bolt11}"`;
    const lsat = `LSAT macaroon="${token}", invoice="${invoice.bolt11}"`;
    const header = knobs.scheme === 'LSAT' ? lsat : knobs.scheme === 'both' ? [lsat, l402] : l402;
    res.writeHead(402, { 'www-authenticate': header }).end('payment required');
  });
  Object.defineProperty(server, 'challenges', { get: () => state.challenges });
  return Object.assign(server as TestServer & { challenges: number }, { knobs });
}
