import { describe, expect, it } from 'vitest';
import { createL402Payer, type ApprovalRequest, type PaymentEvent } from '../../src/pay/l402-payer.js';
import { createSpendTracker } from '../../src/pay/spend-tracker.js';
import { testFetch } from '../net/setup.js';
import { fqdnZone, payRig } from './setup.js';

/** Finding 1: every spelling of one origin is one origin for approvals, budgets, credentials and audit. */
describe('one canonical origin', () => {
  it('asks approval for http://api.test.:P/ exactly as for http://api.test:P/ (entry written in upper case with a trailing slash)', async () => {
    await using rig = await payRig();
    await using net = await testFetch({ allowedPorts: [rig.server.port], resolver: fqdnZone() });
    const asked: ApprovalRequest[] = [];
    const events: PaymentEvent[] = [];
    const port = rig.server.port;
    const payer = createL402Payer({
      fetch: net.fetch,
      spend: rig.spend,
      wallet: rig.wallet,
      alwaysAskOrigins: [`http://API.test.:${port}/`],
      approve: (request) => Promise.resolve((asked.push(request), false)),
      onEvent: (e) => events.push(e),
    });
    const spellings = [`http://api.test:${port}/paid/a`, `http://api.test.:${port}/paid/a`, `http://API.TEST.:${port}/paid/b`];
    for (const url of spellings) {
      await expect(payer.fetch(url)).rejects.toMatchObject({ code: 'APPROVAL_REQUIRED', data: { limit: 'alwaysAskOrigins', origin: `http://api.test:${port}` } });
    }
    expect(asked.map((r) => [r.reason, r.origin])).toEqual(spellings.map(() => ['always-ask', `http://api.test:${port}`]));
    expect(rig.wallet.calls).toBe(0);
    expect(rig.spend.spentLastMinuteMsat()).toBe(0);
    expect(events.map((e) => [e.outcome, e.code, e.origin])).toEqual(spellings.map(() => ['refused', 'APPROVAL_REQUIRED', `http://api.test:${port}`]));
  });

  it('holds a per-origin budget of 150 sats across both spellings: one 100-sat payment, the second refused', async () => {
    await using rig = await payRig({ knobs: { amountMsat: 100_000 }, spend: { maxAutoPaySats: 1000, maxSpendPerOriginPerMinuteSats: 150 } });
    const port = rig.server.port;
    expect((await rig.payer.fetch(`http://api.test:${port}/one/x`)).status).toBe(200);
    // Another directory, so no credential applies: a new payment of 100 sats (+10 fee reserve) would pass 150.
    await expect(rig.payer.fetch(`http://api.test.:${port}/two/x`)).rejects.toMatchObject({ code: 'SPEND_LIMIT_EXCEEDED', data: { limit: 'maxSpendPerOriginPerMinuteSats' } });
    expect(rig.wallet.calls).toBe(1);
    expect(rig.lightning.payments).toBe(1);
    expect(rig.spend.spentLastMinuteMsat()).toBe(100_000);
    expect(rig.events.map((e) => [e.outcome, e.code, e.origin])).toEqual([
      ['paid', undefined, `http://api.test:${port}`],
      ['refused', 'SPEND_LIMIT_EXCEEDED', `http://api.test:${port}`],
    ]);
  });

  it('reuses a credential bought under one spelling for the other (one payment)', async () => {
    await using rig = await payRig();
    const port = rig.server.port;
    expect(await (await rig.payer.fetch(`http://api.test.:${port}/paid/a`)).text()).toBe('paid:GET /paid/a');
    expect(await (await rig.payer.fetch(`http://API.test:${port}/paid/a`)).text()).toBe('paid:GET /paid/a');
    expect(rig.wallet.calls).toBe(1);
    expect(rig.events.map((e) => [e.outcome, e.origin])).toEqual([
      ['paid', `http://api.test:${port}`],
      ['reused', `http://api.test:${port}`],
    ]);
  });

  it('refuses configuration origins with a path (CONFIG_INVALID) and keys walletOrderByOrigin canonically', async () => {
    await using net = await testFetch();
    const spend = createSpendTracker();
    expect(() => createL402Payer({ fetch: net.fetch, spend, alwaysAskOrigins: ['https://api.example.com/v1'] })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }) as Error);
    expect(() => createL402Payer({ fetch: net.fetch, spend, walletOrderByOrigin: { 'https://api.example.com/v1/': 'cashu-first' } })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }) as Error,
    );
    expect(() => createL402Payer({ fetch: net.fetch, spend, walletOrderByOrigin: { 'https://API.example.com.:443/': 'cashu-first' }, alwaysAskOrigins: ['https://api.example.com/'] })).not.toThrow();
  });
});
