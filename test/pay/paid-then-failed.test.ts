import { describe, expect, it } from 'vitest';
import { createGateway } from '../../src/index.js';
import { isGatewayError } from '../../src/errors.js';
import { readAudit } from '../helpers/audit.js';
import { startL402Server } from '../helpers/l402-server.js';
import { fakeLightning } from '../helpers/lightning.js';
import { loopbackOnlyDial } from '../helpers/net.js';
import { tempDir } from '../helpers/temp-dir.js';
import { testZone } from '../net/setup.js';
import { payRig } from './setup.js';

/** Finding 6: a paid request that then fails says so, and a retry does not pay again. */
describe('paid, then the request failed', () => {
  it('gw.pay.fetch: a POST whose paid retry gets 503 is an error saying 10 sats were paid, carrying the credential; the retry reuses it', async () => {
    await using rig = await payRig({ knobs: { paidStatus: 503 } });
    const error = await rig.payer.fetch(rig.url('/paid/order'), { method: 'POST', body: 'buy' }).catch((e: unknown) => e);
    expect(isGatewayError(error) && error.code).toBe('UPSTREAM_ERROR');
    expect((error as Error).message).toContain('Paid 10 sats');
    expect((error as { data: unknown }).data).toMatchObject({ status: 503, paidMsat: 10_000, paymentHash: expect.stringMatching(/^[0-9a-f]{64}$/) as string });
    const credential = (error as { credential?: { preimage: string } }).credential;
    expect(credential?.preimage).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(error)).not.toContain(credential?.preimage);
    expect(rig.wallet.calls).toBe(1);
    expect(rig.spend.spentLastMinuteMsat()).toBe(10_000);
    expect(rig.events.map((e) => e.outcome)).toEqual(['paid']);
    rig.server.knobs.paidStatus = undefined;
    expect(await (await rig.payer.fetch(rig.url('/paid/order'), { method: 'POST', body: 'buy' })).text()).toBe('paid:POST /paid/order');
    expect(rig.wallet.calls).toBe(1);
    expect(rig.events.map((e) => e.outcome)).toEqual(['paid', 'reused']);
    expect(rig.server.requests.filter((r) => r.method === 'POST')).toHaveLength(3); // unpaid, paid (503), retry
  });

  it('the pay.fetch tool: the result says what was paid; the audit has the payment; calling again does not pay', async () => {
    await using dir = await tempDir();
    const lightning = fakeLightning();
    await using server = await startL402Server(lightning, { paidStatus: 503 });
    const wallet = lightning.wallet();
    const gw = await createGateway(
      {
        policy: { allowTools: ['pay.fetch'] },
        audit: { file: dir.join('audit.jsonl') },
        connectors: { http: { allowedDomains: ['api.test'], allowedPorts: [server.port], allowNetworks: ['127.0.0.1/32'] } },
      },
      { wallet, resolver: testZone(), dial: loopbackOnlyDial() },
    );
    const url = `http://api.test:${server.port}/paid/report`;
    const first = await gw.call<{ status: number; payment?: { paidSats: number; note: string } }>('pay.fetch', { url });
    expect(first).toMatchObject({ status: 503, payment: { paidSats: 10 } });
    expect(first.payment?.note).toContain('paid 10 sats');
    server.knobs.paidStatus = undefined;
    const second = await gw.call<{ status: number; body: string; payment?: unknown }>('pay.fetch', { url });
    expect(second).toMatchObject({ status: 200, body: 'paid:GET /paid/report' });
    expect(second.payment).toBeUndefined();
    expect(wallet.calls).toBe(1);
    expect(gw.spend.spentLastMinuteMsat()).toBe(10_000);
    await gw.close();
    const records = await readAudit(dir.join('audit.jsonl'));
    expect(records.map((r) => [r.tool, r.decision, r.details?.outcome])).toEqual([
      ['pay.payment', 'allow', 'paid'],
      ['pay.fetch', 'allow', undefined],
      ['pay.payment', 'allow', 'reused'],
      ['pay.fetch', 'allow', undefined],
    ]);
  });
});
