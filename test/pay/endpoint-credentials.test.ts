import { describe, expect, it } from 'vitest';
import { payRig } from './setup.js';

/** Finding 5: credentials are kept per endpoint; buying for one never evicts another's. */
describe('credentials scoped by endpoint', () => {
  it('/a and /b with different macaroons: exactly 2 payments for repeated calls, each endpoint presenting its own', async () => {
    await using rig = await payRig({ knobs: { perPath: true } });
    for (let round = 0; round < 3; round++) {
      for (const path of ['/a', '/b']) expect(await (await rig.payer.fetch(rig.url(path))).text()).toBe(`paid:GET ${path}`);
    }
    expect(rig.wallet.calls).toBe(2);
    expect(rig.lightning.payments).toBe(2);
    expect(rig.spend.spentLastMinuteMsat()).toBe(20_000);
    expect(rig.events.map((e) => e.outcome)).toEqual(['paid', 'paid', 'reused', 'reused', 'reused', 'reused']);
    // /a: unpaid + paid; /b: with /a's credential (402, it pays) + paid; then one request per reuse.
    expect(rig.server.requests).toHaveLength(2 + 2 + 4);
  });

  it('concurrent requests to two endpoints: 2 payments, every request answered 200, never PAID_BUT_REJECTED', async () => {
    await using rig = await payRig({ knobs: { perPath: true }, wallet: { delayMs: 50 } });
    const paths = Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? '/a' : '/b'));
    const results = await Promise.allSettled(paths.map((path) => rig.payer.fetch(rig.url(path)).then((r) => r.text())));
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : String((r.reason as { code?: string }).code)))).toEqual(paths.map((path) => `paid:GET ${path}`));
    expect(rig.wallet.calls).toBe(2);
    expect(rig.lightning.payments).toBe(2);
    expect(rig.spend.spentLastMinuteMsat()).toBe(20_000);
    expect(rig.events.filter((e) => e.outcome === 'paid')).toHaveLength(2);
    expect(rig.events.filter((e) => e.outcome !== 'paid' && e.outcome !== 'reused')).toEqual([]);
  });

  it('a credential this request found (not paid for) that gets a 402 is evicted and the request pays, once', async () => {
    await using rig = await payRig({ knobs: { perPath: true } });
    await rig.payer.fetch(rig.url('/dir/a'));
    // /dir/b finds /dir/a's credential under its directory; the server refuses it; /dir/b pays for itself.
    expect(await (await rig.payer.fetch(rig.url('/dir/b'))).text()).toBe('paid:GET /dir/b');
    expect(rig.wallet.calls).toBe(2);
    // Both stay usable where they were bought.
    expect(await (await rig.payer.fetch(rig.url('/dir/a'))).text()).toBe('paid:GET /dir/a');
    expect(rig.wallet.calls).toBe(2);
    expect(rig.events.map((e) => e.outcome)).toEqual(['paid', 'paid', 'reused']);
  });

  it('a credential is tried under its path prefix only: one bought under /x/ is not sent to /y/', async () => {
    await using rig = await payRig();
    await rig.payer.fetch(rig.url('/x/item'));
    await rig.payer.fetch(rig.url('/x/other'));
    expect(rig.wallet.calls).toBe(1);
    const before = rig.server.requests.length;
    await rig.payer.fetch(rig.url('/y/item'));
    expect(rig.server.requests[before]?.headers.authorization).toBeUndefined();
    expect(rig.wallet.calls).toBe(2);
  });
});
