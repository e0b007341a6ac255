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
    // /a: unpaid + paid; /b (not under /a/, so /a's credential is not tried): unpaid + paid; then one request per reuse.
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

  it('a credential bought at a top-level path (/v1) is tried under /v1/ only, never for the whole origin', async () => {
    await using rig = await payRig();
    await rig.payer.fetch(rig.url('/v1'));
    expect(rig.wallet.calls).toBe(1);
    const sent = rig.server.requests.at(-1)?.headers.authorization ?? '';
    expect(sent).toMatch(/^L402 /);
    // Under /v1/: reused, no payment.
    expect((await rig.payer.fetch(rig.url('/v1/items'))).status).toBe(200);
    expect(rig.server.requests.at(-1)?.headers.authorization).toBe(sent);
    expect(rig.wallet.calls).toBe(1);
    // Elsewhere on the origin: not sent (the first request carries no credential), paid for itself.
    const before = rig.server.requests.length;
    await rig.payer.fetch(rig.url('/admin/secret'));
    expect(rig.server.requests[before]?.headers.authorization).toBeUndefined();
    await rig.payer.fetch(rig.url('/v2'));
    expect(rig.server.requests.filter((r) => r.url === '/v2' && r.headers.authorization === sent)).toEqual([]);
    expect(rig.wallet.calls).toBe(3);
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
