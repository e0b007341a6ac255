import { describe, expect, it } from 'vitest';
import { isGatewayError } from '../../src/errors.js';
import { createL402Payer, type ApprovalRequest, type L402PayerOptions, type PaymentEvent, type PendingPayment } from '../../src/pay/l402-payer.js';
import { createSpendTracker, type SpendTrackerOptions } from '../../src/pay/spend-tracker.js';
import { guardedMintRequest } from '../../src/pay/wallets/cashu/mint-request.js';
import type { MintKnobs } from '../helpers/cashu-mint.js';
import { startServer } from '../helpers/http-server.js';
import { startL402Server } from '../helpers/l402-server.js';
import { cashuSeller, startNut24Server, type Nut24Knobs } from '../helpers/nut24-server.js';
import { testFetch } from '../net/setup.js';
import { cashuRig } from './cashu-setup.js';

/** A funded Cashu wallet, a NUT-24 seller on the same mint, and a payer with only the Cashu wallet. */
async function nut24Rig(options: { seller?: Partial<Nut24Knobs>; mint?: MintKnobs; fundSat?: number; spend?: SpendTrackerOptions; payer?: Partial<L402PayerOptions> } = {}) {
  const rig = await cashuRig({ mint: options.mint });
  if ((options.fundSat ?? 100) > 0) await rig.fund(options.fundSat ?? 100);
  const server = await startNut24Server({ mints: [rig.mintUrl], amountSat: 10, ...options.seller }, guardedMintRequest(rig.net.fetch, 2000));
  const net = await testFetch({ allowedPorts: [server.port] });
  const spend = createSpendTracker({ maxAutoPaySats: 100, maxSpendPerMinuteSats: 1000, ...options.spend });
  const events: PaymentEvent[] = [];
  const payer = createL402Payer({ fetch: net.fetch, spend, cashu: rig.wallet, onEvent: (e) => events.push(e), ...options.payer });
  return {
    ...rig,
    server,
    spend,
    events,
    payer,
    /** The guarded fetch that reaches the seller. */
    fetch: net.fetch,
    url: (path = '/paid/item') => `http://api.test:${server.port}${path}`,
    async [Symbol.asyncDispose]() {
      await net[Symbol.asyncDispose]();
      await server.close();
      await rig[Symbol.asyncDispose]();
    },
  };
}

const failure = async (promise: Promise<unknown>): Promise<{ code: string; data: Record<string, unknown> }> =>
  promise.then(
    () => ({ code: 'resolved', data: {} }),
    (error: unknown) => (isGatewayError(error) ? { code: error.code, data: error.data as Record<string, unknown> } : { code: `other: ${String(error)}`, data: {} }),
  );

describe('NUT-24: paying an X-Cashu 402 with ecash', () => {
  for (const encoding of ['creqA', 'creqB'] as const) {
    it(`pays a ${encoding} payment request with a token the seller redeems, and counts it in the budget`, async () => {
      await using rig = await nut24Rig({ seller: { encoding } });
      const response = await rig.payer.fetch(rig.url('/paid/report'));
      expect(response.status).toBe(200);
      expect(await response.text()).toBe('paid:GET /paid/report');
      expect(rig.server.seller.state.redeemedSat).toBe(10);
      expect(await rig.wallet.balance()).toMatchObject({ availableSat: 90, pendingSat: 0 });
      expect(rig.spend.spentLastMinuteMsat()).toBe(10_000);
      expect(rig.events).toEqual([{ outcome: 'paid', origin: new URL(rig.url()).origin, amountMsat: 10_000, feeMsat: 0, method: 'cashu', mint: rig.mintUrl }]);
      // The token never shows up in what is reported.
      expect(JSON.stringify(rig.events)).not.toContain(rig.server.seller.state.tokens[0]);
    });
  }

  it('accepted, but the wallet cannot book the token as spent: paid is still recorded first, and the error says what was paid', async () => {
    await using rig = await nut24Rig();
    let confirms = 0;
    const wallet = { ...rig.wallet, confirm: () => (confirms++, Promise.reject(new Error('disk full'))) };
    const events: PaymentEvent[] = [];
    const spend = createSpendTracker();
    const payer = createL402Payer({ fetch: rig.fetch, spend, cashu: wallet, onEvent: (e) => events.push(e) });
    const error = await payer.fetch(rig.url()).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'TOOL_FAILED', data: { status: 200, paidMsat: 10_000, method: 'cashu' } });
    expect((error as Error).message).toContain('Paid 10 sats in ecash');
    expect(((error as { response?: Response }).response)?.status).toBe(200);
    expect(confirms).toBe(1);
    expect(rig.server.seller.state.redeemedSat).toBe(10);
    expect(events).toEqual([{ outcome: 'paid', origin: new URL(rig.url()).origin, amountMsat: 10_000, feeMsat: 0, method: 'cashu', mint: rig.mintUrl }]);
    expect(spend.spentLastMinuteMsat()).toBe(10_000);
  });

  it('includes the payee\'s input fee so the token redeems to the amount asked', async () => {
    await using rig = await nut24Rig({ mint: { inputFeePpk: 500 } });
    const before = (await rig.wallet.balance()).availableSat;
    expect((await rig.payer.fetch(rig.url())).status).toBe(200);
    expect(rig.server.seller.state.redeemedSat).toBe(10);
    const after = await rig.wallet.balance();
    const spentSat = rig.spend.spentLastMinuteMsat() / 1000;
    // Every sat that left the wallet is in the budget: the amount and every fee, no more.
    expect(spentSat).toBeGreaterThan(10);
    expect(after).toMatchObject({ availableSat: before - spentSat, pendingSat: 0 });
    expect(rig.events[0]).toMatchObject({ outcome: 'paid', amountMsat: 10_000, feeMsat: (spentSat - 10) * 1000 });
  });

  it('refuses a request encoded as JSON (not the spec\'s CBOR), paying nothing', async () => {
    const json = `creqA${Buffer.from(JSON.stringify({ a: 10, u: 'sat', m: ['http://mint.test'] })).toString('base64url')}`;
    await using server = await startServer((_req, res) => void res.writeHead(402, { 'x-cashu': json }).end());
    await using rig = await cashuRig({ extraPorts: [server.port] });
    await rig.fund(50);
    const payer = createL402Payer({ fetch: rig.net.fetch, spend: createSpendTracker(), cashu: rig.wallet });
    expect((await failure(payer.fetch(`http://api.test:${server.port}/x`))).code).toBe('INVALID_CHALLENGE');
    expect(await rig.wallet.balance()).toMatchObject({ availableSat: 50, pendingSat: 0 });
    expect(server.requests.every((r) => r.headers['x-cashu'] === undefined)).toBe(true);
  });

  const refusals: [string, Partial<Nut24Knobs>, string][] = [
    ['a unit other than sats', { unit: 'usd' }, 'INVALID_CHALLENGE'],
    ['locked (NUT-10) ecash', { locked: true }, 'INVALID_CHALLENGE'],
    ['a mint the wallet does not deal with', { mints: ['https://mint.elsewhere.example'] }, 'MINT_NOT_ALLOWED'],
    ['more than the wallet holds', { amountSat: 101 }, 'INSUFFICIENT_FUNDS'],
  ];
  for (const [what, seller, code] of refusals) {
    it(`refuses ${what} before any token is made or sent`, async () => {
      await using rig = await nut24Rig({ seller });
      const swaps = rig.mint.stats.swaps;
      expect((await failure(rig.payer.fetch(rig.url()))).code).toBe(code);
      expect(rig.mint.stats.swaps).toBe(swaps);
      expect(rig.server.seller.state.tokens).toEqual([]);
      expect(await rig.wallet.balance()).toMatchObject({ availableSat: 100, pendingSat: 0 });
      expect(rig.spend.spentLastMinuteMsat()).toBe(0);
      // Audited as an ecash refusal.
      expect(rig.events).toEqual([expect.objectContaining({ outcome: 'refused', code, method: 'cashu' })]);
    });
  }

  it('applies the caller\'s cap, the budget and approval like any payment', async () => {
    await using rig = await nut24Rig({ seller: { amountSat: 40 }, spend: { maxAutoPaySats: 30, maxSpendPerMinuteSats: 60 } });
    // One code, data and wording for a cap, whichever wallet would pay (as for an invoice: test/pay/l402.test.ts).
    const capped = (await rig.payer.fetch(rig.url(), {}, { maxAmountSats: 39 }).catch((e: unknown) => e)) as Error & { code: string; data: unknown };
    expect(capped).toMatchObject({ code: 'AMOUNT_EXCEEDS_CAP', data: { amountMsat: 40_000, capMsat: 39_000 } });
    expect(capped.message).toMatch(/asks 40 sats, over this call's cap of 39 sats/);
    const refused = (await rig.payer.fetch(rig.url()).catch((e: unknown) => e)) as Error & { code: string };
    expect(refused.code).toBe('APPROVAL_REQUIRED');
    expect(refused.message).toContain('40 sats is over maxAutoPaySats (30 sats)');
    expect(refused.message).not.toContain('msat');
    const asked: ApprovalRequest[] = [];
    const payer = createL402Payer({ fetch: rig.fetch, spend: rig.spend, cashu: rig.wallet, approve: (request) => Promise.resolve((asked.push(request), true)) });
    expect((await payer.fetch(rig.url())).status).toBe(200);
    expect(asked[0]).toMatchObject({ method: 'cashu', amountMsat: 40_000, mint: rig.mintUrl, reason: 'over-auto-pay-cap' });
    expect(asked[0]?.invoice).toMatch(/^creqA/);
    // 40 spent of 60 a minute: the next 40 is over the budget.
    expect((await failure(payer.fetch(rig.url()))).code).toBe('SPEND_LIMIT_EXCEEDED');
    expect(await rig.wallet.balance()).toMatchObject({ availableSat: 60, pendingSat: 0 });
  });
});

describe('NUT-24 under load', () => {
  it('20 concurrent paid requests: each paid once with its own token, every sat accounted for', async () => {
    await using rig = await nut24Rig({ fundSat: 300 });
    const responses = await Promise.all(Array.from({ length: 20 }, (_, i) => rig.payer.fetch(rig.url(`/paid/${i}`))));
    expect(responses.map((r) => r.status)).toEqual(Array.from({ length: 20 }, () => 200));
    expect(new Set(rig.server.seller.state.tokens).size).toBe(20);
    expect(rig.server.seller.state.redeemedSat).toBe(200);
    expect(await rig.wallet.balance()).toMatchObject({ availableSat: 100, pendingSat: 0 });
    expect(rig.spend.spentLastMinuteMsat()).toBe(200_000);
  });

  it('20 concurrent requests against a 100-sat budget: exactly 10 paid, the rest refused before any token', async () => {
    // No fee reserve (this mint charges none), so the budget holds exactly ten 10-sat payments.
    await using rig = await nut24Rig({ fundSat: 300, spend: { maxSpendPerMinuteSats: 100 }, payer: { maxFeeSats: 0 } });
    const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => rig.payer.fetch(rig.url(`/paid/${i}`))));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(10);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toMatchObject({ code: 'SPEND_LIMIT_EXCEEDED' });
    expect(rig.server.seller.state.tokens).toHaveLength(10);
    expect(await rig.wallet.balance()).toMatchObject({ availableSat: 200, pendingSat: 0 });
  });
});

describe('NUT-24: when the seller does not take the ecash', () => {
  it('a 402 to an unredeemed token: it is taken back, the budget given back, and nothing paid again', async () => {
    await using rig = await nut24Rig({ seller: { rejectPaid: true } });
    const error = await failure(rig.payer.fetch(rig.url()));
    expect(error).toMatchObject({ code: 'PAID_BUT_REJECTED', data: { tokenOutcome: 'reclaimed' } });
    expect(rig.server.seller.state.tokens).toHaveLength(1);
    expect(await rig.wallet.balance()).toMatchObject({ availableSat: 100, pendingSat: 0 });
    expect(rig.spend.spentLastMinuteMsat()).toBe(0);
  });

  it('a 402 after redeeming: the loss is booked, not hidden, and not paid twice', async () => {
    await using rig = await nut24Rig({ seller: { redeemThenReject: true } });
    expect(await failure(rig.payer.fetch(rig.url()))).toMatchObject({ code: 'PAID_BUT_REJECTED', data: { tokenOutcome: 'spent' } });
    expect(rig.server.seller.state.tokens).toHaveLength(1);
    expect(await rig.wallet.balance()).toMatchObject({ availableSat: 90, pendingSat: 0 });
    expect(rig.spend.spentLastMinuteMsat()).toBe(10_000);
    expect(rig.events.map((e) => e.outcome)).toEqual(['rejected-after-payment']);
  });

  it('no answer after redeeming: the mint says it was spent, so it is booked as paid, and the error says so', async () => {
    await using rig = await nut24Rig({ seller: { dropAfterRedeem: true } });
    const error = await failure(rig.payer.fetch(rig.url()));
    expect(error).toMatchObject({ code: 'UPSTREAM_ERROR', data: { paidMsat: 10_000, method: 'cashu', tokenOutcome: 'spent' } });
    expect(rig.events).toEqual([expect.objectContaining({ outcome: 'paid', amountMsat: 10_000, method: 'cashu' })]);
    expect(await rig.wallet.balance()).toMatchObject({ availableSat: 90, pendingSat: 0 });
    expect(rig.spend.spentLastMinuteMsat()).toBe(10_000);
    expect(rig.server.seller.state.tokens).toHaveLength(1);
  });

  it('redeemed, then the caller\'s timeout ends the call: TIMEOUT that says what was paid, booked once per call', async () => {
    await using rig = await cashuRig();
    await rig.fund(100);
    const seller = cashuSeller({ mints: [rig.mintUrl], amountSat: 10 }, guardedMintRequest(rig.net.fetch, 2000));
    let redeemed: () => void = () => undefined;
    // The seller redeems the token and never answers.
    await using server = await startServer((req, res) => {
      const token = req.headers['x-cashu'];
      if (typeof token !== 'string') return void res.writeHead(402, { 'x-cashu': seller.header() }).end();
      void seller.redeem(token).then(() => redeemed());
    });
    await using net = await testFetch({ allowedPorts: [server.port] });
    const events: PaymentEvent[] = [];
    const spend = createSpendTracker();
    const payer = createL402Payer({ fetch: net.fetch, spend, cashu: rig.wallet, onEvent: (e) => events.push(e) });
    for (let call = 1; call <= 2; call++) {
      const controller = new AbortController();
      redeemed = () => controller.abort(new DOMException('The operation timed out.', 'TimeoutError'));
      const error = await payer.fetch(`http://api.test:${server.port}/paid`, { signal: controller.signal }).catch((e: unknown) => e);
      expect(isGatewayError(error)).toBe(true);
      // The caller learns it paid: the code is its own timeout, the message and data say what was paid.
      expect(error).toMatchObject({ code: 'TIMEOUT', data: { paidMsat: 10_000, method: 'cashu', mint: rig.mintUrl, tokenOutcome: 'spent' } });
      expect((error as Error).message).toContain('Paid 10 sats in ecash');
      expect((error as Error).message).not.toContain('cashuB');
      expect(spend.spentLastMinuteMsat()).toBe(call * 10_000);
    }
    expect(seller.state.redeemedSat).toBe(20);
    expect(await rig.wallet.balance()).toMatchObject({ availableSat: 80, pendingSat: 0 });
    expect(events.map((e) => e.outcome)).toEqual(['paid', 'paid']);
  });

  it('an error answer without redeeming: the response is returned, the token taken back, nothing spent', async () => {
    await using rig = await nut24Rig({ seller: { errorStatus: 503 } });
    expect((await rig.payer.fetch(rig.url())).status).toBe(503);
    expect(await rig.wallet.balance()).toMatchObject({ availableSat: 100, pendingSat: 0 });
    expect(rig.spend.spentLastMinuteMsat()).toBe(0);
    expect(rig.events).toEqual([]);
  });

  it('an error answer after redeeming: the error says what was paid, and the payment is booked, once', async () => {
    await using rig = await nut24Rig({ seller: { errorStatus: 500, redeemBeforeError: true } });
    expect(await failure(rig.payer.fetch(rig.url()))).toMatchObject({ code: 'UPSTREAM_ERROR', data: { status: 500, paidMsat: 10_000, method: 'cashu' } });
    expect(await rig.wallet.balance()).toMatchObject({ availableSat: 90, pendingSat: 0 });
    expect(rig.spend.spentLastMinuteMsat()).toBe(10_000);
    expect(rig.events).toEqual([expect.objectContaining({ outcome: 'paid', amountMsat: 10_000, method: 'cashu' })]);
  });

  it('never follows the paid request across origins: a redirect ends the call with the token reclaimed, nothing spent', async () => {
    await using rig = await cashuRig();
    await rig.fund(50);
    const seller = cashuSeller({ mints: [rig.mintUrl], amountSat: 10 }, guardedMintRequest(rig.net.fetch, 2000));
    const seen: { host: string | undefined; token: string | undefined }[] = [];
    // api.test asks for ecash, and sends a paid request on to other.test (same server, another origin).
    await using server = await startServer((req, res) => {
      seen.push({ host: req.headers.host, token: req.headers['x-cashu'] as string | undefined });
      if ((req.headers.host ?? '').startsWith('other.test')) return void res.end('landed');
      if (req.headers['x-cashu'] === undefined) return void res.writeHead(402, { 'x-cashu': seller.header() }).end();
      res.writeHead(307, { location: `http://other.test:${server.port}/landing` }).end();
    });
    await using net = await testFetch({ allowedPorts: [server.port] });
    const events: PaymentEvent[] = [];
    const spend = createSpendTracker();
    const payer = createL402Payer({ fetch: net.fetch, spend, cashu: rig.wallet, onEvent: (e) => events.push(e) });
    const outcome = await failure(payer.fetch(`http://api.test:${server.port}/paid`));
    expect(outcome).toMatchObject({ code: 'REDIRECT_BLOCKED', data: { tokenOutcome: 'reclaimed', status: 307 } });
    // other.test was never asked: neither with the token nor without it.
    expect(seen.map((s) => [s.host?.split(':')[0], s.token === undefined])).toEqual([
      ['api.test', true],
      ['api.test', false],
    ]);
    expect(await rig.wallet.balance()).toMatchObject({ availableSat: 50, pendingSat: 0 });
    expect(spend.spentLastMinuteMsat()).toBe(0);
    expect(events).toEqual([]); // nothing paid, nothing refused: the token came back
  });

  it('a seller that redeems the token and then redirects is recorded as paid, and the call still ends there', async () => {
    await using rig = await cashuRig();
    await rig.fund(50);
    const seller = cashuSeller({ mints: [rig.mintUrl], amountSat: 10 }, guardedMintRequest(rig.net.fetch, 2000));
    let otherHits = 0;
    await using server = await startServer((req, res) => {
      if ((req.headers.host ?? '').startsWith('other.test')) return void res.end(`landed ${++otherHits}`);
      const token = req.headers['x-cashu'];
      if (typeof token !== 'string') return void res.writeHead(402, { 'x-cashu': seller.header() }).end();
      void seller.redeem(token).then(() => res.writeHead(302, { location: `http://other.test:${server.port}/landing` }).end());
    });
    await using net = await testFetch({ allowedPorts: [server.port] });
    const events: PaymentEvent[] = [];
    const spend = createSpendTracker();
    const payer = createL402Payer({ fetch: net.fetch, spend, cashu: rig.wallet, onEvent: (e) => events.push(e) });
    expect(await failure(payer.fetch(`http://api.test:${server.port}/paid`))).toMatchObject({ code: 'REDIRECT_BLOCKED', data: { tokenOutcome: 'spent' } });
    expect(otherHits).toBe(0);
    expect(seller.state.redeemedSat).toBe(10);
    expect(await rig.wallet.balance()).toMatchObject({ availableSat: 40, pendingSat: 0 });
    expect(spend.spentLastMinuteMsat()).toBe(10_000);
    expect(events).toEqual([expect.objectContaining({ outcome: 'paid', amountMsat: 10_000, method: 'cashu' })]);
  });
});

describe('choosing between Lightning and Cashu, and melting', () => {
  async function bothRig(options: { lightningOnly?: boolean } = {}) {
    const rig = await cashuRig();
    await rig.fund(100);
    const seller = cashuSeller({ mints: [rig.mintUrl], amountSat: 10 }, guardedMintRequest(rig.net.fetch, 2000));
    const server = await startL402Server(rig.lightning, options.lightningOnly === true ? {} : { cashu: seller });
    const net = await testFetch({ allowedPorts: [server.port] });
    return {
      rig,
      seller,
      server,
      url: (path = '/paid/x') => `http://api.test:${server.port}${path}`,
      payer: (options: Partial<L402PayerOptions>) => createL402Payer({ fetch: net.fetch, spend: createSpendTracker(), ...options }),
      async [Symbol.asyncDispose]() {
        await net[Symbol.asyncDispose]();
        await server.close();
        await rig[Symbol.asyncDispose]();
      },
    };
  }

  it('pays exactly one of the two offers, by the configured order', async () => {
    await using both = await bothRig();
    const ln = both.rig.lightning.wallet();
    const origin = new URL(both.url()).origin;
    expect(await (await both.payer({ wallet: ln, cashu: both.rig.wallet }).fetch(both.url('/a'))).text()).toBe('paid:GET /a');
    expect([ln.calls, both.seller.state.tokens.length]).toEqual([1, 0]);
    expect(await (await both.payer({ wallet: ln, cashu: both.rig.wallet, walletOrder: 'cashu-first' }).fetch(both.url('/b'))).text()).toBe('paid-ecash:GET /b');
    expect([ln.calls, both.seller.state.tokens.length]).toEqual([1, 1]);
    const perOrigin = both.payer({ wallet: ln, cashu: both.rig.wallet, walletOrder: 'lightning-first', walletOrderByOrigin: { [origin]: 'cashu-first' } });
    expect(await (await perOrigin.fetch(both.url('/c'))).text()).toBe('paid-ecash:GET /c');
    expect([ln.calls, both.seller.state.tokens.length]).toEqual([1, 2]);
    expect(both.rig.lightning.payments).toBe(1);
  });

  it('without a Lightning wallet, prefers NUT-24 to melting', async () => {
    await using both = await bothRig();
    expect(await (await both.payer({ cashu: both.rig.wallet }).fetch(both.url('/d'))).text()).toBe('paid-ecash:GET /d');
    expect(both.rig.mint.stats.melts).toBe(0);
  });

  it('pays an L402 invoice by melting ecash when there is no Lightning wallet, checking the preimage', async () => {
    await using both = await bothRig({ lightningOnly: true });
    const payer = both.payer({ cashu: both.rig.wallet, maxFeeSats: 5 });
    expect(await (await payer.fetch(both.url('/melted'))).text()).toBe('paid:GET /melted');
    expect(both.rig.mint.stats.melts).toBe(1);
    expect(both.rig.lightning.payments).toBe(1);
    // The credential is reused: no second melt.
    expect((await payer.fetch(both.url('/melted'))).status).toBe(200);
    expect(both.rig.mint.stats.melts).toBe(1);
    // 10 sat invoice + 1 sat real routing fee (the rest of the reserve came back as change).
    expect(await both.rig.wallet.balance()).toMatchObject({ availableSat: 89, pendingSat: 0 });
  });

  it('concurrent invoices melted from a few large proofs: each waits for the others\' change instead of failing', async () => {
    await using both = await bothRig({ lightningOnly: true });
    const payer = both.payer({ cashu: both.rig.wallet, maxFeeSats: 5 });
    // Three origins (one local server under three names), so three payments: no credential is shared.
    const hosts = ['api.test', 'other.test', 'wrong.test'];
    const texts = await Promise.all(hosts.map(async (host) => (await payer.fetch(both.url('/m').replace('api.test', host))).text()));
    expect(texts).toEqual(hosts.map(() => 'paid:GET /m'));
    expect(both.rig.mint.stats.melts).toBe(3);
    // 3 x (10 sat + 1 sat routing fee); the rest of each fee reserve came back as change.
    expect(await both.rig.wallet.balance()).toMatchObject({ availableSat: 67, pendingSat: 0 });
  });

  it('a pending melt is PAYMENT_OUTCOME_UNKNOWN with the proofs held; resume finishes it without paying again', async () => {
    await using both = await bothRig({ lightningOnly: true });
    both.rig.mint.knobs.meltMode = 'pending';
    const dir = both.rig.store;
    const payer = both.payer({ cashu: both.rig.wallet, maxFeeSats: 5, store: dir });
    const error = await payer.fetch(both.url('/slow')).catch((e: unknown) => e);
    expect(isGatewayError(error) && error.code).toBe('PAYMENT_OUTCOME_UNKNOWN');
    const pending = (error as { data: { pending: PendingPayment } }).data.pending;
    expect((await both.rig.wallet.balance()).pendingSat).toBeGreaterThan(0);
    await expect(payer.resume(pending)).rejects.toMatchObject({ code: 'PAYMENT_OUTCOME_UNKNOWN' });
    await both.rig.mint.settleMelts();
    expect(await (await payer.resume(pending)).text()).toBe('paid:GET /slow');
    expect(both.rig.mint.stats.melts).toBe(1);
    expect(await both.rig.wallet.balance()).toMatchObject({ availableSat: 89, pendingSat: 0 });
  });
});
