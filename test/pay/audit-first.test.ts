import { describe, expect, it } from 'vitest';
import { isGatewayError } from '../../src/errors.js';
import { createL402Payer, type PaymentEvent, type PendingPayment } from '../../src/pay/l402-payer.js';
import { createSpendTracker } from '../../src/pay/spend-tracker.js';
import type { CredentialBackend, StoredRecord } from '../../src/store/credential-store.js';
import { startL402Server } from '../helpers/l402-server.js';
import { fakeLightning } from '../helpers/lightning.js';
import { testFetch } from '../net/setup.js';

/** An in-memory backend whose writes fail on demand (a full disk, a lost database). */
function failingStore(failWhen: (id: string) => boolean) {
  const records = new Map<string, StoredRecord>();
  const store: CredentialBackend & { records: Map<string, StoredRecord>; failing: boolean } = {
    records,
    failing: true,
    put(id, record) {
      if (store.failing && failWhen(id)) return Promise.reject(new Error('ENOSPC: no space left on device'));
      records.set(id, record);
      return Promise.resolve();
    },
    get: (id) => Promise.resolve(records.get(id)),
    delete(id) {
      records.delete(id);
      return Promise.resolve();
    },
  };
  return store;
}

async function rig(store: CredentialBackend) {
  const lightning = fakeLightning();
  const server = await startL402Server(lightning);
  const net = await testFetch({ allowedPorts: [server.port] });
  const wallet = lightning.wallet();
  const spend = createSpendTracker({ maxAutoPaySats: 100 });
  const events: PaymentEvent[] = [];
  const payer = createL402Payer({ fetch: net.fetch, spend, wallet, store, onEvent: (e) => events.push(e) });
  return {
    lightning,
    server,
    wallet,
    spend,
    events,
    payer,
    url: `http://api.test:${server.port}/paid/a`,
    async [Symbol.asyncDispose]() {
      await net[Symbol.asyncDispose]();
      await server.close();
    },
  };
}

/** Finding 3: `paid` is recorded the moment the preimage checks out, before any store write. */
describe('audit first', () => {
  it('a credential store failing after the payment: paid is recorded, the error carries data.pending and the credential, resume pays nothing', async () => {
    const store = failingStore((id) => id.startsWith('l402'));
    await using r = await rig(store);
    const error = await r.payer.fetch(r.url).catch((e: unknown) => e);
    expect(isGatewayError(error) && error.code).toBe('TOOL_FAILED');
    const data = (error as { data: { pending: PendingPayment; amountMsat: number } }).data;
    expect(data.pending).toMatchObject({ id: expect.stringMatching(/^pending:[0-9a-f]{64}$/) as string, amountMsat: 10_000, url: r.url });
    expect((error as { credential?: { preimage: string } }).credential?.preimage).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(error)).not.toMatch(/[0-9a-f]{64}"?:/);
    expect((error as Error).message).toContain('10 sats');
    expect(r.wallet.calls).toBe(1);
    expect(r.spend.spentLastMinuteMsat()).toBe(10_000);
    expect(r.events.map((e) => [e.outcome, e.amountMsat])).toEqual([['paid', 10_000]]);
    expect(store.records.has(data.pending.id)).toBe(true); // the pending record stays for resume
    // The store is back: resume presents the credential without paying again.
    store.failing = false;
    const resumed = await r.payer.resume(data.pending);
    expect(await resumed.text()).toBe('paid:GET /paid/a');
    expect(r.wallet.calls).toBe(1);
    expect(r.lightning.payments).toBe(1);
    expect(store.records.has(data.pending.id)).toBe(false);
    expect(r.events.map((e) => e.outcome)).toEqual(['paid']);
  });

  it('a store failing before the payment (the pending record): nothing is paid, the budget is given back, the refusal is recorded', async () => {
    const store = failingStore((id) => id.startsWith('pending:'));
    await using r = await rig(store);
    await expect(r.payer.fetch(r.url)).rejects.toMatchObject({ code: 'TOOL_FAILED', message: expect.stringContaining('nothing was paid') as string });
    expect(r.wallet.calls).toBe(0);
    expect(r.spend.spentLastMinuteMsat()).toBe(0);
    expect(r.events.map((e) => [e.outcome, e.code])).toEqual([['refused', 'TOOL_FAILED']]);
  });
});

/** Finding 9: resume works without a credential store, within the process. */
describe('resume without a store', () => {
  it('a PAYMENT_OUTCOME_UNKNOWN of a payer with no store is resumed from memory, paying nothing more', async () => {
    const lightning = fakeLightning();
    await using server = await startL402Server(lightning);
    await using net = await testFetch({ allowedPorts: [server.port] });
    const wallet = lightning.wallet({ hang: true });
    const spend = createSpendTracker({ maxAutoPaySats: 100 });
    const events: PaymentEvent[] = [];
    const payer = createL402Payer({ fetch: net.fetch, spend, wallet, paymentTimeoutMs: 200, onEvent: (e) => events.push(e) });
    const url = `http://api.test:${server.port}/paid/x`;
    const error = await payer.fetch(url).catch((e: unknown) => e);
    expect(isGatewayError(error) && error.code).toBe('PAYMENT_OUTCOME_UNKNOWN');
    const { pending } = (error as { data: { pending: PendingPayment } }).data;
    expect(spend.spentLastMinuteMsat()).toBe(20_000); // amount and fee reserve held
    const resumed = await payer.resume(pending);
    expect(await resumed.text()).toBe('paid:GET /paid/x');
    expect(wallet.calls).toBe(1);
    expect(lightning.payments).toBe(1);
    expect(events.map((e) => [e.outcome, e.amountMsat])).toEqual([
      ['unknown', 10_000],
      ['paid', 10_000],
    ]);
    expect(spend.spentLastMinuteMsat()).toBe(20_000); // the fee actually paid is not known: the reserve counts
    // Finished: a second resume finds nothing, and the credential is reused without paying.
    await expect(payer.resume(pending)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(await (await payer.fetch(url)).text()).toBe('paid:GET /paid/x');
    expect(wallet.calls).toBe(1);
  });
});
