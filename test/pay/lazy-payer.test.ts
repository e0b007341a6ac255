import { describe, expect, it } from 'vitest';
import { createGateway } from '../../src/index.js';
import { startL402Server } from '../helpers/l402-server.js';
import { fakeLightning } from '../helpers/lightning.js';
import { loopbackOnlyDial } from '../helpers/net.js';
import { testZone } from '../net/setup.js';

describe('gw.pay without a wallet (the payments modules loaded on first use)', () => {
  it('fetches through the guarded fetch, refuses a 402 it cannot pay, and registers no pay.fetch tool', async () => {
    const lightning = fakeLightning();
    await using server = await startL402Server(lightning);
    const gw = await createGateway(
      { policy: { allowTools: ['pay.fetch'] }, connectors: { http: { allowedDomains: ['api.test'], allowedPorts: [server.port], allowNetworks: ['127.0.0.1/32'] } } },
      { resolver: testZone(), dial: loopbackOnlyDial(), logger: { warn: () => undefined } },
    );
    expect(gw.pay.cashu).toBeUndefined();
    expect(gw.credentials).toBeUndefined();
    expect(gw.listTools().map((t) => t.name)).toEqual([]);
    const error = (await gw.pay.fetch(`http://api.test:${server.port}/paid/x`).catch((e: unknown) => e)) as { code?: string };
    expect(error.code).toBe('PAYMENT_FAILED'); // no wallet to pay with
    expect(lightning.payments).toBe(0);
    await expect(gw.pay.fetch('http://private.test/')).rejects.toMatchObject({ code: 'DOMAIN_NOT_ALLOWED' });
    await expect(gw.pay.resume('pending:nope')).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await gw.close();
  });
});
