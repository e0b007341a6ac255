import { describe, expect, it } from 'vitest';
import { createGateway } from '../../src/index.js';
import type { ArgumentRuleInput } from '../../src/policy/rules/schema.js';
import { guardedMintRequest } from '../../src/pay/wallets/cashu/mint-request.js';
import { readAudit } from '../helpers/audit.js';
import { startL402Server } from '../helpers/l402-server.js';
import { fakeLightning } from '../helpers/lightning.js';
import { loopbackOnlyDial } from '../helpers/net.js';
import { cashuSeller, startNut24Server } from '../helpers/nut24-server.js';
import { tempDir } from '../helpers/temp-dir.js';
import { testZone } from '../net/setup.js';
import { cashuRig } from '../pay/cashu-setup.js';

const withToken = (requests: { headers: Record<string, unknown> }[]): number => requests.filter((r) => r.headers['x-cashu'] !== undefined || r.headers.authorization !== undefined).length;

describe('argument rules on what the 402 asks (scheme, method, real amount)', () => {
  it('a rule allowing only Lightning refuses a Cashu-only 402: no proof spent, no request with a token, audited naming the rule', async () => {
    await using dir = await tempDir();
    await using rig = await cashuRig();
    await rig.fund(100);
    await using server = await startNut24Server({ mints: [rig.mintUrl], amountSat: 10 }, guardedMintRequest(rig.net.fetch, 2000));
    const rules: ArgumentRuleInput[] = [{ id: 'bot-lightning-only', tool: 'pay.fetch', actors: ['bot'], effect: 'allow', when: { paymentMethod: { equals: 'lightning' } } }];
    const gw = await createGateway(
      {
        policy: { allowTools: ['pay.fetch'], rules },
        audit: { file: dir.join('audit.jsonl') },
        connectors: { http: { allowedDomains: ['api.test'], allowedPorts: [server.port], allowNetworks: ['127.0.0.1/32'] } },
      },
      { cashu: rig.wallet, resolver: testZone(), dial: loopbackOnlyDial(), logger: { warn: () => undefined } },
    );
    await expect(gw.call('pay.fetch', { url: `http://api.test:${server.port}/paid/a` }, { actor: 'bot' })).rejects.toMatchObject({ code: 'POLICY_DENIED', data: { rule: 'default-deny:pay.fetch' } });
    expect(await rig.wallet.balance()).toMatchObject({ availableSat: 100, pendingSat: 0 });
    expect(server.seller.state.tokens).toEqual([]);
    expect(server.requests).toHaveLength(1);
    expect(withToken(server.requests)).toBe(0);
    expect(gw.spend.spentLastMinuteMsat()).toBe(0);
    // Spelled as the payer spells it: a literal in another case is a config error, not a silent miss.
    expect(() => gw.policy.setRules([{ id: 'x', tool: 'pay.fetch', effect: 'deny', when: { paymentMethod: { equals: 'Cashu' } } }])).toThrow(/write "cashu"/);
    expect(() => gw.policy.setRules([{ id: 'x', tool: 'pay.fetch', effect: 'deny', when: { scheme: { equals: 'cashu' } } }])).toThrow(/paymentScheme/);
    expect(() => gw.policy.setRules([{ id: 'x', tool: 'pay.fetch', effect: 'deny', when: { method: { in: ['lightning'] } } }])).toThrow(/paymentMethod/);
    expect(() => gw.policy.setRules([{ id: 'x', tool: 'pay.fetch', effect: 'deny', when: { paymentScheme: { equals: 'l402' } } }])).toThrow(/write "L402"/);
    // A deny rule naming the method refuses, naming itself.
    gw.policy.setRules([
      { id: 'no-ecash', tool: 'pay.fetch', effect: 'deny', when: { paymentScheme: { equals: 'cashu' } } },
      { id: 'rest', tool: 'pay.fetch', effect: 'allow' },
    ]);
    await expect(gw.call('pay.fetch', { url: `http://api.test:${server.port}/paid/b` }, { actor: 'bot' })).rejects.toMatchObject({ code: 'POLICY_DENIED', data: { rule: 'no-ecash' } });
    expect(server.seller.state.tokens).toEqual([]);
    expect(await rig.wallet.balance()).toMatchObject({ availableSat: 100, pendingSat: 0 });
    await gw.close();
    const records = await readAudit(dir.join('audit.jsonl'));
    const calls = records.filter((r) => r.tool === 'pay.fetch');
    expect(calls.map((r) => r.error_code)).toEqual(['POLICY_DENIED', 'POLICY_DENIED']);
    expect(calls[1]?.reason).toContain('no-ecash');
    expect(records.filter((r) => r.tool === 'pay.payment').map((r) => (r.details as { outcome?: string } | undefined)?.outcome)).toEqual(['refused', 'refused']);
  });

  it('a rule capping amountSats at 50 refuses a 100-sat invoice without a wallet call, also when the call gave no maxAmountSats', async () => {
    const lightning = fakeLightning();
    // perPath: a credential paid for one path is not reused for the next (reuse pays nothing).
    await using server = await startL402Server(lightning, { amountMsat: 100_000, perPath: true });
    await using gw = await createGateway(
      {
        policy: { allowTools: ['pay.fetch'], rules: [{ id: 'small', tool: 'pay.fetch', effect: 'allow', when: { amountSats: { max: 50 }, paymentScheme: { in: ['L402', 'Payment'] } } }] },
        connectors: { http: { allowedDomains: ['api.test'], allowedPorts: [server.port], allowNetworks: ['127.0.0.1/32'] } },
        payments: { maxAutoPaySats: 1000 },
      },
      { wallet: lightning.wallet(), resolver: testZone(), dial: loopbackOnlyDial(), logger: { warn: () => undefined } },
    );
    // At the call, only the amount a cap states is known; the invoice's is decided when it arrives.
    expect(await gw.policy.explain('pay.fetch', { url: `http://api.test:${server.port}/paid/a` })).toMatchObject({ outcome: 'allow', rule: 'small' });
    for (const args of [{}, { maxAmountSats: 50 }]) {
      await expect(gw.call('pay.fetch', { url: `http://api.test:${server.port}/paid/a`, ...args })).rejects.toMatchObject({ code: 'POLICY_DENIED', data: { rule: 'default-deny:pay.fetch' } });
    }
    expect(lightning.payments).toBe(0);
    expect(withToken(server.requests)).toBe(0);
    expect(gw.spend.spentLastMinuteMsat()).toBe(0);
    // 50.001 sats rounds up to 51: refused; 50 sats exactly: paid, the rule decides on the invoice.
    server.knobs.amountMsat = 50_001;
    await expect(gw.call('pay.fetch', { url: `http://api.test:${server.port}/paid/b` })).rejects.toMatchObject({ code: 'POLICY_DENIED' });
    expect(lightning.payments).toBe(0);
    server.knobs.amountMsat = 50_000;
    await expect(gw.call('pay.fetch', { url: `http://api.test:${server.port}/paid/c` })).resolves.toMatchObject({ status: 200 });
    expect(lightning.payments).toBe(1);
    // LSAT is not among the schemes the rule allows.
    server.knobs.scheme = 'LSAT';
    await expect(gw.call('pay.fetch', { url: `http://api.test:${server.port}/paid/d` })).rejects.toMatchObject({ code: 'POLICY_DENIED' });
    expect(lightning.payments).toBe(1);
  });

  for (const refused of ['cashu', 'lightning'] as const) {
    it(`a 402 offering both, with ${refused} refused by the rules, is paid with the other whatever the wallet order`, async () => {
      await using rig = await cashuRig();
      await rig.fund(100);
      const lightning = fakeLightning();
      const seller = cashuSeller({ mints: [rig.mintUrl], amountSat: 10 }, guardedMintRequest(rig.net.fetch, 2000));
      await using server = await startL402Server(lightning, { amountMsat: 10_000, cashu: seller, perPath: true });
      await using gw = await createGateway(
        {
          policy: {
            allowTools: ['pay.fetch'],
            rules: [
              { id: 'not-this-method', tool: 'pay.fetch', effect: 'deny', when: { paymentMethod: { equals: refused } } },
              { id: 'rest', tool: 'pay.fetch', effect: 'allow' },
            ],
          },
          connectors: { http: { allowedDomains: ['api.test'], allowedPorts: [server.port], allowNetworks: ['127.0.0.1/32'] } },
          // The order prefers the refused method.
          payments: { walletOrder: refused === 'cashu' ? 'cashu-first' : 'lightning-first' },
        },
        { wallet: lightning.wallet(), cashu: rig.wallet, resolver: testZone(), dial: loopbackOnlyDial(), logger: { warn: () => undefined } },
      );
      const result = await gw.call<{ status: number; body: string }>('pay.fetch', { url: `http://api.test:${server.port}/paid/a` });
      expect(result.status).toBe(200);
      if (refused === 'cashu') {
        expect(result.body).toBe('paid:GET /paid/a');
        expect(lightning.payments).toBe(1);
        expect(seller.state.tokens).toEqual([]);
        expect(await rig.wallet.balance()).toMatchObject({ availableSat: 100 });
      } else {
        expect(result.body).toBe('paid-ecash:GET /paid/a');
        expect(lightning.payments).toBe(0);
        expect(seller.state.redeemedSat).toBe(10);
      }
      // Both refused: nothing is paid either way.
      gw.policy.setRules([{ id: 'none', tool: 'pay.fetch', effect: 'deny', when: { paymentMethod: { in: ['cashu', 'lightning'] } } }, { id: 'rest', tool: 'pay.fetch', effect: 'allow' }]);
      const before = { payments: lightning.payments, tokens: seller.state.tokens.length };
      await expect(gw.call('pay.fetch', { url: `http://api.test:${server.port}/paid/b` })).rejects.toMatchObject({ code: 'POLICY_DENIED', data: { rule: 'none' } });
      expect({ payments: lightning.payments, tokens: seller.state.tokens.length }).toEqual(before);
    });
  }

  it('concurrent calls to one unpaid endpoint: each is decided on the challenge before it pays or joins a payment', async () => {
    const lightning = fakeLightning();
    await using server = await startL402Server(lightning, { amountMsat: 30_000, scheme: 'payment' });
    await using gw = await createGateway(
      {
        policy: {
          allowTools: ['pay.fetch'],
          rules: [
            { id: 'cheap-bot', tool: 'pay.fetch', actors: ['cheap'], effect: 'allow', when: { amountSats: { max: 20 } } },
            { id: 'l402-only', tool: 'pay.fetch', actors: ['l402'], effect: 'allow', when: { paymentScheme: { equals: 'L402' } } },
            { id: 'rich-bot', tool: 'pay.fetch', actors: ['rich'], effect: 'allow', when: { amountSats: { max: 100 } } },
          ],
        },
        connectors: { http: { allowedDomains: ['api.test'], allowedPorts: [server.port], allowNetworks: ['127.0.0.1/32'] } },
        payments: { maxAutoPaySats: 1000 },
      },
      { wallet: lightning.wallet(), resolver: testZone(), dial: loopbackOnlyDial(), logger: { warn: () => undefined } },
    );
    const url = `http://api.test:${server.port}/paid/a`;
    const [cheap, l402, rich] = await Promise.allSettled([
      gw.call('pay.fetch', { url }, { actor: 'cheap' }),
      gw.call('pay.fetch', { url }, { actor: 'l402' }),
      gw.call('pay.fetch', { url }, { actor: 'rich' }),
    ]);
    expect(cheap).toMatchObject({ status: 'rejected', reason: { code: 'POLICY_DENIED' } });
    expect(l402).toMatchObject({ status: 'rejected', reason: { code: 'POLICY_DENIED' } });
    expect(rich).toMatchObject({ status: 'fulfilled', value: { status: 200 } });
    expect(lightning.payments).toBe(1);
    expect(gw.spend.spentLastMinuteMsat()).toBeLessThanOrEqual(30_000 + 10_000);
  });

  it('an approval given for a 10-sat call does not cover a 100-sat challenge (APPROVAL_REQUIRED, nothing paid); a challenge within it is paid', async () => {
    const lightning = fakeLightning();
    await using server = await startL402Server(lightning, { amountMsat: 100_000 });
    const asked: unknown[] = [];
    await using gw = await createGateway(
      {
        policy: { allowTools: ['pay.fetch'], rules: [{ id: 'ask', tool: 'pay.fetch', effect: 'approve', when: { amountSats: { min: 1 } } }] },
        connectors: { http: { allowedDomains: ['api.test'], allowedPorts: [server.port], allowNetworks: ['127.0.0.1/32'] } },
        payments: { maxAutoPaySats: 1000 },
      },
      {
        wallet: lightning.wallet(),
        resolver: testZone(),
        dial: loopbackOnlyDial(),
        logger: { warn: () => undefined },
        approveCall: (request) => {
          asked.push(request.facts.amountSats);
          return Promise.resolve(true);
        },
      },
    );
    await expect(gw.call('pay.fetch', { url: `http://api.test:${server.port}/paid/a`, maxAmountSats: 10 })).rejects.toMatchObject({ code: 'APPROVAL_REQUIRED', data: { rule: 'ask' } });
    expect(asked).toEqual([10]);
    expect(lightning.payments).toBe(0);
    expect(withToken(server.requests)).toBe(0);
    // A call without a cap cannot be shown an amount: no rule allows it, nothing is sent or asked.
    const sent = server.requests.length;
    await expect(gw.call('pay.fetch', { url: `http://api.test:${server.port}/paid/a` })).rejects.toMatchObject({ code: 'POLICY_DENIED', data: { rule: 'default-deny:pay.fetch' } });
    expect(server.requests).toHaveLength(sent);
    expect(asked).toEqual([10]);
    // With an allow rule after it, it is sent, and refused at the 402, which the approval rule wants asked first.
    gw.policy.setRules([{ id: 'ask', tool: 'pay.fetch', effect: 'approve', when: { amountSats: { min: 50 } } }, { id: 'small', tool: 'pay.fetch', effect: 'allow' }]);
    await expect(gw.call('pay.fetch', { url: `http://api.test:${server.port}/paid/a` })).rejects.toMatchObject({ code: 'APPROVAL_REQUIRED', data: { rule: 'ask' } });
    expect(asked).toEqual([10]);
    expect(lightning.payments).toBe(0);
    expect(lightning.payments).toBe(0);
    // An approval of up to 150 sats covers the 100 sats asked.
    await expect(gw.call('pay.fetch', { url: `http://api.test:${server.port}/paid/a`, maxAmountSats: 150 })).resolves.toMatchObject({ status: 200 });
    expect(asked).toEqual([10, 150]);
    expect(lightning.payments).toBe(1);
  });
});
