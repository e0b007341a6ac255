import { describe, expect, it } from 'vitest';
import { isGatewayError } from '../../src/errors.js';
import { createL402Payer, type L402PayerOptions, type PaymentEvent, type PendingPayment } from '../../src/pay/l402-payer.js';
import { createSpendTracker } from '../../src/pay/spend-tracker.js';
import { createCredentialStore, injectedKey } from '../../src/store/index.js';
import { startServer } from '../helpers/http-server.js';
import { fakeLightning, type WalletKnobs } from '../helpers/lightning.js';
import { tempDir } from '../helpers/temp-dir.js';
import { testFetch } from '../net/setup.js';
import { fqdnZone, payRig } from './setup.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A server that hands every endpoint the same invoice (and token), and a payer with a store. */
async function sameInvoiceRig(walletKnobs: WalletKnobs, payer: Partial<L402PayerOptions> = {}, maxAutoPaySats = 1000) {
  const lightning = fakeLightning();
  const invoice = lightning.createInvoice({ amountMsat: 50_000 });
  const token = 'opaquetoken123';
  const server = await startServer((req, res) => {
    if (req.headers.authorization === `L402 ${token}:${invoice.preimage}`) return void res.end(`paid:${req.url}`);
    res.writeHead(402, { 'www-authenticate': `L402 macaroon="${token}", invoice="${invoice.bolt11}"` }).end();
  });
  const net = await testFetch({ allowedPorts: [server.port], resolver: fqdnZone() });
  const dir = await tempDir('portcullis-same-invoice-');
  const store = await createCredentialStore({ dir: dir.join('store'), keyProvider: injectedKey(new Uint8Array(32).fill(5)), confineTo: dir.path });
  const wallet = lightning.wallet(walletKnobs);
  const spend = createSpendTracker({ maxAutoPaySats });
  const events: PaymentEvent[] = [];
  return {
    lightning,
    invoice,
    wallet,
    spend,
    store,
    events,
    payer: createL402Payer({ fetch: net.fetch, spend, wallet, store, paymentTimeoutMs: 200, onEvent: (e) => events.push(e), ...payer }),
    url: (path: string) => `http://api.test:${server.port}${path}`,
    async [Symbol.asyncDispose]() {
      await net[Symbol.asyncDispose]();
      await server.close();
      await dir[Symbol.asyncDispose]();
    },
  };
}

const codeOf = (error: unknown): string => (isGatewayError(error) ? error.code : `other: ${String(error)}`);

describe('one invoice handed to two endpoints', () => {
  it('while the first payment hangs, the second endpoint waits for it, is refused, and never calls the wallet; the first resumes', async () => {
    await using rig = await sameInvoiceRig({ hang: true });
    const [a, b] = await Promise.all([
      rig.payer.fetch(rig.url('/a')).catch((e: unknown) => e),
      sleep(20).then(() => rig.payer.fetch(rig.url('/b')).catch((e: unknown) => e)),
    ]);
    expect(rig.wallet.calls).toBe(1);
    expect(codeOf(a)).toBe('PAYMENT_OUTCOME_UNKNOWN');
    expect(codeOf(b)).toBe('PAYMENT_OUTCOME_UNKNOWN');
    const pending = (a as { data: { pending: PendingPayment } }).data.pending;
    expect((b as { data: { pending: { id: string } } }).data.pending.id).toBe(pending.id);
    // /b's refusal left /a's records alone: the budget stays reserved, the pending record kept.
    expect(rig.spend.spentLastMinuteMsat()).toBe(60_000);
    expect(await rig.store.get(pending.id)).toMatchObject({ paymentHash: rig.invoice.paymentHash });
    expect(rig.events.map((e) => `${e.outcome}:${e.code ?? ''}`)).toEqual(['unknown:PAYMENT_OUTCOME_UNKNOWN', 'refused:PAYMENT_OUTCOME_UNKNOWN']);
    // Later: resume finds the payment settled, pays nothing more.
    expect((await rig.payer.resume(pending)).status).toBe(200);
    expect(rig.wallet.calls).toBe(1);
    expect(rig.lightning.payments).toBe(1);
    expect(rig.events.filter((e) => e.outcome === 'paid')).toHaveLength(1);
    // And the invoice is not paid again for another endpoint afterwards.
    expect(await (await rig.payer.fetch(rig.url('/c'))).text()).toBe('paid:/c');
    expect(rig.wallet.calls).toBe(1);
  });

  it('concurrent endpoints with one invoice: one wallet call, both answered, one paid record, one budget charge', async () => {
    await using rig = await sameInvoiceRig({ delayMs: 50 });
    const results = await Promise.all(['/a', '/b', '/a', '/b'].map((path) => rig.payer.fetch(rig.url(path)).then((r) => r.text(), codeOf)));
    expect(results).toEqual(['paid:/a', 'paid:/b', 'paid:/a', 'paid:/b']);
    expect(rig.wallet.calls).toBe(1);
    expect(rig.lightning.payments).toBe(1);
    expect(rig.spend.spentLastMinuteMsat()).toBe(50_000);
    expect(rig.events.map((e) => e.outcome)).toEqual(['paid']);
  });

  it('an invoice already paid here is never paid again, even by a wallet that would pay it twice', async () => {
    await using rig = await sameInvoiceRig({});
    // Other directories: /y/b does not find /x/a's credential, it gets the invoice again.
    expect((await rig.payer.fetch(rig.url('/x/a'))).status).toBe(200);
    expect((await rig.payer.fetch(rig.url('/y/b'))).status).toBe(200);
    expect(rig.wallet.calls).toBe(1);
    expect(rig.lightning.payments).toBe(1);
    expect(rig.spend.spentLastMinuteMsat()).toBe(50_000);
  });

  it('the first payer of the invoice gives up before the wallet: the other endpoint pays it, once', async () => {
    let asks = 0;
    await using rig = await sameInvoiceRig({}, {
      approve: async () => {
        asks += 1;
        await sleep(asks === 1 ? 150 : 0);
        return true;
      },
    }, 10);
    const results = await Promise.all([
      rig.payer.fetch(rig.url('/a'), { signal: AbortSignal.timeout(50) }).then((r) => r.status, codeOf),
      sleep(10).then(() => rig.payer.fetch(rig.url('/b')).then((r) => r.status, codeOf)),
    ]);
    await sleep(200);
    expect(results).toEqual(['TIMEOUT', 200]);
    expect(asks).toBe(2);
    expect(rig.wallet.calls).toBe(1);
    expect(rig.lightning.payments).toBe(1);
  });
});

describe('single-use Payment credentials and concurrent requests', () => {
  it('two concurrent requests to one endpoint: each pays its own challenge, both answered, no rejected-after-payment', async () => {
    await using rig = await payRig({ knobs: { scheme: 'payment' }, wallet: { delayMs: 30 } });
    const results = await Promise.all([0, 1].map(() => rig.payer.fetch(rig.url('/paid/a')).then((r) => r.status, codeOf)));
    expect(results).toEqual([200, 200]);
    expect(rig.wallet.calls).toBe(2);
    expect(rig.events.map((e) => e.outcome)).toEqual(['paid', 'paid']);
    expect(rig.spend.spentLastMinuteMsat()).toBe(20_000);
  });

  it('a paid credential refused with 402: every request of the flight fails, and the rejection is recorded once, by the payer', async () => {
    await using rig = await payRig({ knobs: { rejectPaid: true }, wallet: { delayMs: 50 } });
    const results = await Promise.allSettled([0, 1, 2].map(() => rig.payer.fetch(rig.url('/paid/a'))));
    for (const r of results) expect(r.status === 'rejected' ? codeOf(r.reason) : 'fulfilled').toBe('PAID_BUT_REJECTED');
    expect(rig.wallet.calls).toBe(1);
    expect(rig.events.map((e) => e.outcome)).toEqual(['paid', 'rejected-after-payment']);
    // Only the request that paid says what it paid.
    const paidMsat = results.map((r) => (r.status === 'rejected' ? (r.reason as { data?: { paidMsat?: number } }).data?.paidMsat : undefined));
    expect(paidMsat.filter((m) => m !== undefined)).toEqual([10_000]);
  });
});
