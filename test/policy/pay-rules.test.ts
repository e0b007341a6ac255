import { describe, expect, it } from 'vitest';
import { configFromYaml, createGateway } from '../../src/index.js';
import { startL402Server } from '../helpers/l402-server.js';
import { fakeLightning } from '../helpers/lightning.js';
import { loopbackOnlyDial } from '../helpers/net.js';
import { testZone } from '../net/setup.js';

describe('argument rules on payments', () => {
  it('decides on the canonical origin and the most the call may pay; a refusal pays nothing and sends nothing', async () => {
    const lightning = fakeLightning();
    await using server = await startL402Server(lightning);
    // The rules as a host writes them in YAML (snake_case operators; fact names kept as written).
    const config = configFromYaml(`
policy:
  allow_tools: ['pay.fetch']
  rules:
    - id: cheap-reports
      tool: pay.fetch
      effect: allow
      when:
        origin: { equals: 'http://api.test:${server.port}' }
        amountSats: { max: 20 }
        path: { prefix: /paid }
        method: { not_in: [POST, PUT, DELETE] }
`);
    await using gw = await createGateway(
      { ...config, connectors: { http: { allowedDomains: ['api.test', 'other.test'], allowedPorts: [server.port], allowNetworks: ['127.0.0.1/32'] } }, payments: { maxAutoPaySats: 50 } },
      { wallet: lightning.wallet(), resolver: testZone(), dial: loopbackOnlyDial(), logger: { warn: () => undefined } },
    );
    const refused = [
      { url: `http://api.test:${server.port}/paid/a`, maxAmountSats: 21 },
      { url: `http://other.test:${server.port}/paid/a`, maxAmountSats: 10 },
      { url: `http://api.test:${server.port}/free/../paid/../free/a`, maxAmountSats: 10 },
    ];
    for (const args of refused) await expect(gw.call('pay.fetch', args, { actor: 'a' }), args.url).rejects.toMatchObject({ code: 'POLICY_DENIED' });
    expect(server.requests).toEqual([]);
    expect(lightning.payments).toBe(0);
    expect(gw.spend.spentLastMinuteMsat()).toBe(0);
    // No maxAmountSats: the amount is the invoice's, decided when the 402 arrives, before paying.
    server.knobs.amountMsat = 21_000;
    await expect(gw.call('pay.fetch', { url: `http://api.test:${server.port}/paid/a` })).rejects.toMatchObject({ code: 'POLICY_DENIED', data: { rule: 'default-deny:pay.fetch' } });
    expect(server.requests.map((r) => r.headers.authorization)).toEqual([undefined]);
    expect(lightning.payments).toBe(0);
    server.knobs.amountMsat = undefined;
    // The same origin, spelled otherwise, within the amount: paid.
    const ok = await gw.call<{ status: number }>('pay.fetch', { url: `HTTP://Api.Test:${server.port}/free/%2E%2E/paid/report`, maxAmountSats: 15 });
    expect(ok.status).toBe(200);
    expect(lightning.payments).toBe(1);
    expect(await gw.policy.explain('pay.fetch', { url: `http://api.test:${server.port}/paid/a`, maxAmountSats: 20 })).toMatchObject({
      outcome: 'allow',
      facts: { origin: `http://api.test:${server.port}`, amountSats: 20, path: '/paid/a' },
    });
  });
});
