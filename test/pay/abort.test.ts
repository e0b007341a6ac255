import { describe, expect, it } from 'vitest';
import { createGateway } from '../../src/index.js';
import { isGatewayError } from '../../src/errors.js';
import { decodeInvoice } from '../../src/pay/bolt11.js';
import type { Wallet } from '../../src/pay/wallet.js';
import { readAudit } from '../helpers/audit.js';
import { startL402Server } from '../helpers/l402-server.js';
import { fakeLightning } from '../helpers/lightning.js';
import { loopbackOnlyDial } from '../helpers/net.js';
import { tempDir } from '../helpers/temp-dir.js';
import { testZone } from '../net/setup.js';
import { payRig } from './setup.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const caught = async (promise: Promise<unknown>): Promise<unknown> => promise.then(() => 'resolved', (error: unknown) => error);

/** Finding 2: the caller's signal in the payment path. */
describe('abort-safe payments', () => {
  it('pay.fetch with a 100 ms timeout and a 400 ms approval: TIMEOUT, and no payment afterwards (1 s later: 0 wallet calls)', async () => {
    await using dir = await tempDir();
    const lightning = fakeLightning();
    await using server = await startL402Server(lightning, { amountMsat: 50_000 });
    const wallet = lightning.wallet();
    const approvals: { aborted: boolean }[] = [];
    const gw = await createGateway(
      {
        policy: { allowTools: ['pay.fetch'], perTool: { 'pay.fetch': { timeoutMs: 100 } } },
        audit: { file: dir.join('audit.jsonl') },
        connectors: { http: { allowedDomains: ['api.test'], allowedPorts: [server.port], allowNetworks: ['127.0.0.1/32'] } },
        payments: { maxAutoPaySats: 10 },
      },
      {
        wallet,
        resolver: testZone(),
        dial: loopbackOnlyDial(),
        approve: async (_request, context) => {
          const seen = { aborted: false };
          approvals.push(seen);
          context.signal.addEventListener('abort', () => (seen.aborted = true));
          await sleep(400);
          return true;
        },
      },
    );
    // Warm up (the invoice decoder's curve tables, the connection, the audit file) with a call
    // refused by its own cap, so that 100 ms is enough to reach the approval.
    decodeInvoice(lightning.createInvoice().bolt11);
    for (let warm = 0; warm < 10; warm++) {
      const refused = await caught(gw.call('pay.fetch', { url: `http://api.test:${server.port}/paid/warm`, maxAmountSats: 1 }));
      if (isGatewayError(refused) && refused.code === 'AMOUNT_EXCEEDS_CAP') break;
    }
    await expect(gw.call('pay.fetch', { url: `http://api.test:${server.port}/paid/slow` })).rejects.toMatchObject({ code: 'TIMEOUT' });
    await sleep(1000);
    expect(wallet.calls).toBe(0);
    expect(lightning.payments).toBe(0);
    expect(gw.spend.spentLastMinuteMsat()).toBe(0);
    expect(approvals).toEqual([{ aborted: true }]); // approve() was told the caller had gone
    await gw.close();
    const records = await readAudit(dir.join('audit.jsonl'));
    expect(records.slice(-2).map((r) => [r.tool, r.decision, r.error_code])).toEqual([
      ['pay.fetch', 'deny', 'TIMEOUT'],
      ['pay.payment', 'deny', 'TIMEOUT'],
    ]);
    expect(records.filter((r) => r.details?.outcome === 'paid')).toEqual([]);
  });

  it('payer.fetch called directly: the timeout is a GatewayError TIMEOUT (never a DOMException) and nothing is paid after it', async () => {
    await using rig = await payRig({ knobs: { amountMsat: 50_000 }, spend: { maxAutoPaySats: 10 }, payer: { approve: () => sleep(400).then(() => true) } });
    const error = await caught(rig.payer.fetch(rig.url(), { signal: AbortSignal.timeout(100) }));
    expect(isGatewayError(error) && error.code).toBe('TIMEOUT');
    await sleep(1000);
    expect(rig.wallet.calls).toBe(0);
    expect(rig.spend.spentLastMinuteMsat()).toBe(0);
    expect(rig.events.map((e) => [e.outcome, e.code])).toEqual([['refused', 'TIMEOUT']]);
    // An abort before anything is sent is ABORTED, also a GatewayError.
    const controller = new AbortController();
    controller.abort();
    const early = await caught(rig.payer.fetch(rig.url(), { signal: controller.signal }));
    expect(isGatewayError(early) && early.code).toBe('ABORTED');
    expect(rig.server.requests).toHaveLength(1);
  });

  it('approved, but the caller went meanwhile: the reservation is given back and the wallet never called', async () => {
    const controller = new AbortController();
    await using rig = await payRig({
      knobs: { amountMsat: 50_000 },
      spend: { maxAutoPaySats: 10 },
      // The person says yes just as the caller gives up (the payer's own wait ignores a late abort).
      payer: { approve: () => Promise.resolve().then(() => (controller.abort(), true)) },
    });
    const error = await caught(rig.payer.fetch(rig.url(), { signal: controller.signal }));
    expect(isGatewayError(error) && error.code).toBe('ABORTED');
    expect(rig.wallet.calls).toBe(0);
    expect(rig.spend.spentLastMinuteMsat()).toBe(0);
  });

  it('a caller that gives up does not take down others waiting on the same payment: they pay once, for themselves', async () => {
    await using rig = await payRig({ knobs: { amountMsat: 50_000 }, spend: { maxAutoPaySats: 10 }, payer: { approve: () => sleep(200).then(() => true) } });
    const leaving = new AbortController();
    const first = caught(rig.payer.fetch(rig.url('/paid/shared'), { signal: leaving.signal }));
    await sleep(50); // the first request is waiting for approval; the second joins its payment
    const second = rig.payer.fetch(rig.url('/paid/shared')).then((r) => r.text());
    await sleep(20);
    leaving.abort();
    const gone = await first;
    expect(isGatewayError(gone) && gone.code).toBe('ABORTED');
    expect(await second).toBe('paid:GET /paid/shared');
    expect(rig.wallet.calls).toBe(1);
    expect(rig.spend.spentLastMinuteMsat()).toBe(50_000);
    expect(rig.events.map((e) => [e.outcome, e.code])).toEqual([
      ['refused', 'ABORTED'],
      ['paid', undefined],
    ]);
  });

  it('once the wallet is called, the outcome is kept even if the caller has gone: recorded, budget spent, credential reused', async () => {
    const controller = new AbortController();
    const held: { inner?: Wallet } = {};
    // The caller gives up the moment the wallet has been called.
    const wallet: Wallet = { payInvoice: (request) => (controller.abort(), (held.inner as Wallet).payInvoice(request)) };
    await using rig = await payRig({ wallet: { delayMs: 300 }, payer: { wallet } });
    held.inner = rig.wallet;
    const started = Date.now();
    const error = await caught(rig.payer.fetch(rig.url('/paid/a'), { signal: controller.signal }));
    expect(isGatewayError(error) && error.code).toBe('ABORTED');
    expect(Date.now() - started).toBeLessThan(280); // the caller is let go at once…
    expect(rig.events).toEqual([]);
    await sleep(500); // …while the payment finishes and is recorded
    expect(rig.wallet.calls).toBe(1);
    expect(rig.events.map((e) => [e.outcome, e.amountMsat])).toEqual([['paid', 10_000]]);
    expect(rig.spend.spentLastMinuteMsat()).toBe(10_000);
    expect(await (await rig.payer.fetch(rig.url('/paid/a'))).text()).toBe('paid:GET /paid/a');
    expect(rig.wallet.calls).toBe(1);
    expect(rig.events.map((e) => e.outcome)).toEqual(['paid', 'reused']);
  });
});
