import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { createGateway, type GatewayConfig, type GatewayDeps } from '../../src/index.js';
import { readAudit } from '../helpers/audit.js';
import { startServer } from '../helpers/http-server.js';
import { startL402Server } from '../helpers/l402-server.js';
import { fakeLightning } from '../helpers/lightning.js';
import { loopbackOnlyDial } from '../helpers/net.js';
import { tempDir } from '../helpers/temp-dir.js';
import { testZone } from '../net/setup.js';
import { cashuRig } from './cashu-setup.js';

const KEY = { description: 'test key', getKey: () => Promise.resolve(new Uint8Array(32).fill(5)) };

async function rig(config: GatewayConfig & { ports?: number[] }, deps: GatewayDeps) {
  const dir = await tempDir();
  const { ports = [], ...rest } = config;
  const gw = await createGateway(
    {
      audit: { file: dir.join('audit.jsonl') },
      connectors: { http: { allowedDomains: ['api.test'], allowedPorts: ports, allowNetworks: ['127.0.0.1/32'] } },
      ...rest,
      payments: { credentialStoreDir: dir.join('credentials'), credentialStoreConfineTo: dir.path, ...rest.payments },
    },
    { resolver: testZone(), dial: loopbackOnlyDial(), keyProvider: KEY, logger: { warn: () => undefined }, ...deps },
  );
  return {
    gw,
    dir,
    audit: async () => {
      await gw.close();
      return readAudit(dir.join('audit.jsonl'));
    },
    async [Symbol.asyncDispose]() {
      await gw.close();
      await dir[Symbol.asyncDispose]();
    },
  };
}

describe('pay.preview', () => {
  it('shows scheme, amount, payee, expiry and the verdict, and pays and reserves nothing', async () => {
    const lightning = fakeLightning();
    const wallet = lightning.wallet();
    await using server = await startL402Server(lightning);
    await using r = await rig({ policy: { allowTools: ['pay.preview'] }, ports: [server.port], payments: { maxAutoPaySats: 50 } }, { wallet });
    const preview = await r.gw.call<Record<string, unknown>>('pay.preview', { url: `http://api.test:${server.port}/paid/report` });
    expect(preview).toMatchObject({
      status: 402,
      paymentRequired: true,
      origin: `http://api.test:${server.port}`,
      offer: { scheme: 'L402', amountSats: 10, payee: expect.stringMatching(/^0[23][0-9a-f]{64}$/) as unknown, network: 'bitcoin', description: 'api access' },
      verdict: { allowed: true, needsApproval: false, code: null },
    });
    expect(Date.parse((preview.offer as { expiresAt: string }).expiresAt)).toBeGreaterThan(Date.now());
    // Nothing paid, nothing reserved, the challenge asked once.
    expect(wallet.calls).toBe(0);
    expect(lightning.payments).toBe(0);
    expect(r.gw.spend.spentLastMinuteMsat()).toBe(0);
    expect(server.challenges).toBe(1);
    expect(JSON.stringify(preview)).not.toMatch(/AgE|macaroon|lnbc/);
    const records = await r.audit();
    expect(records.map((rec) => [rec.tool, rec.decision])).toEqual([['pay.preview', 'allow']]);
  });

  it('says what would stop pay.fetch: the caller cap, approval above maxAutoPaySats, the per-minute budget', async () => {
    const lightning = fakeLightning();
    const wallet = lightning.wallet();
    await using server = await startL402Server(lightning, { amountMsat: 100_000 });
    await using r = await rig({ policy: { allowTools: ['pay.preview'] }, ports: [server.port], payments: { maxAutoPaySats: 50, maxSpendPerMinuteSats: 1000 } }, { wallet });
    const url = `http://api.test:${server.port}/paid/x`;
    expect(await r.gw.call('pay.preview', { url, maxAmountSats: 20 })).toMatchObject({ verdict: { allowed: false, code: 'AMOUNT_EXCEEDS_CAP' } });
    expect(await r.gw.call('pay.preview', { url })).toMatchObject({ verdict: { allowed: false, needsApproval: true, code: 'APPROVAL_REQUIRED' } });
    await using approving = await rig({ policy: { allowTools: ['pay.preview'] }, ports: [server.port], payments: { maxAutoPaySats: 50, maxSpendPerMinuteSats: 100 } }, { wallet, approve: () => Promise.resolve(true) });
    // 100 sats + the 10 sat fee reserve is over a 100 sat minute budget.
    expect(await approving.gw.call('pay.preview', { url })).toMatchObject({ verdict: { allowed: false, needsApproval: true, code: 'SPEND_LIMIT_EXCEEDED' } });
    expect(wallet.calls).toBe(0);
    expect(lightning.payments).toBe(0);
  });

  it('returns no body for a URL that does not ask for payment, and refuses a wrong-network invoice', async () => {
    const lightning = fakeLightning('testnet');
    await using free = await startServer((_, res) => res.end('secret free content'));
    await using server = await startL402Server(lightning);
    await using r = await rig({ policy: { allowTools: ['pay.preview'] }, ports: [free.port, server.port] }, { wallet: lightning.wallet() });
    const answer = await r.gw.call('pay.preview', { url: `http://api.test:${free.port}/` });
    expect(answer).toEqual({ status: 200, paymentRequired: false, origin: `http://api.test:${free.port}` });
    expect(await r.gw.call('pay.preview', { url: `http://api.test:${server.port}/paid` })).toMatchObject({ verdict: { allowed: false, code: 'WRONG_NETWORK' } });
  });

  it('reports a 402 reached through a redirect to another origin as pay.fetch would refuse it', async () => {
    const lightning = fakeLightning();
    await using server = await startL402Server(lightning);
    server.knobs.redirectTo = `http://other.test:${server.port}/paid/elsewhere`;
    await using r = await rig(
      { policy: { allowTools: ['pay.preview'] }, connectors: { http: { allowedDomains: ['api.test', 'other.test'], allowedPorts: [server.port], allowNetworks: ['127.0.0.1/32'] } } },
      { wallet: lightning.wallet() },
    );
    expect(await r.gw.call('pay.preview', { url: `http://api.test:${server.port}/paid/x` })).toMatchObject({ status: 402, verdict: { allowed: false, code: 'INVALID_CHALLENGE' } });
    expect(lightning.payments).toBe(0);
  });

  it('is denied by default, before any request is sent', async () => {
    const lightning = fakeLightning();
    await using server = await startL402Server(lightning);
    await using r = await rig({ ports: [server.port] }, { wallet: lightning.wallet() });
    for (const tool of ['pay.preview', 'pay.credentials', 'pay.balance', 'pay.invoice']) {
      await expect(r.gw.call(tool, tool === 'pay.preview' ? { url: `http://api.test:${server.port}/paid` } : tool === 'pay.invoice' ? { invoice: lightning.createInvoice({ amountMsat: 1000 }).bolt11 } : {})).rejects.toMatchObject({ code: 'POLICY_DENIED' });
    }
    expect(server.challenges).toBe(0);
    expect(lightning.payments).toBe(0);
    expect(r.gw.listTools()).toEqual([]);
  });
});

describe('pay.credentials', () => {
  it('lists the credentials bought (endpoint, scheme, expiry), across a restart, never a token or preimage', async () => {
    const lightning = fakeLightning();
    await using server = await startL402Server(lightning);
    await using dir = await tempDir();
    const config = {
      policy: { allowTools: ['pay.fetch', 'pay.credentials'] },
      connectors: { http: { allowedDomains: ['api.test'], allowedPorts: [server.port], allowNetworks: ['127.0.0.1/32'] } },
      payments: { credentialStoreDir: dir.join('store'), credentialStoreConfineTo: dir.path },
      audit: { file: dir.join('audit.jsonl') },
    };
    const deps = { wallet: lightning.wallet(), resolver: testZone(), dial: loopbackOnlyDial(), keyProvider: KEY, logger: { warn: () => undefined } };
    const first = await createGateway(config, deps);
    await first.call('pay.fetch', { url: `http://api.test:${server.port}/paid/report?api_key=hunter2` });
    const listed = await first.call<{ credentials: { endpoint: string; scheme: string; paymentHash: string; expired: boolean }[]; pending: unknown[] }>('pay.credentials', {});
    expect(listed).toEqual({
      credentials: [{ endpoint: `http://api.test:${server.port}/paid/report`, scheme: 'L402', paymentHash: expect.stringMatching(/^[0-9a-f]{64}$/) as unknown, expiresAt: null, expired: false }],
      pending: [],
    });
    await first.close();
    await using second = await createGateway(config, { ...deps, wallet: lightning.wallet() });
    const again = await second.call('pay.credentials', { origin: `http://api.test:${server.port}` });
    expect(again).toEqual(listed);
    expect(await second.call('pay.credentials', { origin: 'http://other.test' })).toEqual({ credentials: [], pending: [] });
    const text = JSON.stringify([listed, again]);
    for (const preimage of lightning.preimages()) expect(text).not.toContain(preimage);
    expect(text).not.toMatch(/AgE|macaroon|hunter2|token/i);
    const audit = await readFile(dir.join('audit.jsonl'), 'utf8');
    for (const preimage of lightning.preimages()) expect(audit).not.toContain(preimage);
  });
});

describe('pay.invoice', () => {
  it('pays an invoice within the caps, settles the budget and audits the payment without the preimage', async () => {
    const lightning = fakeLightning();
    const wallet = lightning.wallet({ feeMsat: 500 });
    await using r = await rig({ policy: { allowTools: ['pay.invoice'] }, payments: { maxAutoPaySats: 50 } }, { wallet });
    const invoice = lightning.createInvoice({ amountMsat: 20_000 });
    const result = await r.gw.call('pay.invoice', { invoice: invoice.bolt11.toUpperCase() }, { actor: 'agent-1' });
    expect(result).toMatchObject({ paid: true, amountSats: 20, feeSats: 0.5, paymentHash: invoice.paymentHash });
    expect(JSON.stringify(result)).not.toContain(invoice.preimage);
    expect(lightning.isPaid(invoice.paymentHash)).toBe(true);
    expect(r.gw.spend.spentLastMinuteMsat()).toBe(20_500);
    // The same invoice is not paid twice.
    await expect(r.gw.call('pay.invoice', { invoice: invoice.bolt11 })).rejects.toMatchObject({ code: 'ALREADY_PAID', message: /paid already/ });
    expect(lightning.payments).toBe(1);
    const records = await r.audit();
    expect(records.map((rec) => [rec.tool, rec.decision])).toEqual([
      ['pay.payment', 'allow'],
      ['pay.invoice', 'allow'],
      ['pay.payment', 'deny'],
      ['pay.invoice', 'deny'],
    ]);
    expect(records[0]?.details).toMatchObject({ outcome: 'paid', amount_msat: 20_000, fee_msat: 500, payment_hash: invoice.paymentHash });
    expect(JSON.stringify(records)).not.toContain(invoice.preimage);
  });

  it('refuses above the cap, without approval, over the budget, amountless, expired or on another network, with no payment', async () => {
    const lightning = fakeLightning();
    const wallet = lightning.wallet();
    await using r = await rig({ policy: { allowTools: ['pay.invoice'] }, payments: { maxAutoPaySats: 50, maxSpendPerMinuteSats: 200 } }, { wallet });
    const call = (invoice: string, extra: Record<string, unknown> = {}) => r.gw.call('pay.invoice', { invoice, ...extra });
    await expect(call(lightning.createInvoice({ amountMsat: 100_000 }).bolt11)).rejects.toMatchObject({ code: 'APPROVAL_REQUIRED' });
    await expect(call(lightning.createInvoice({ amountMsat: 30_000 }).bolt11, { maxAmountSats: 20 })).rejects.toMatchObject({ code: 'AMOUNT_EXCEEDS_CAP' });
    await expect(call(lightning.createInvoice({}).bolt11)).rejects.toMatchObject({ code: 'AMOUNTLESS_INVOICE' });
    await expect(call(lightning.createInvoice({ amountMsat: 1000, network: 'testnet' }).bolt11)).rejects.toMatchObject({ code: 'WRONG_NETWORK' });
    await expect(call(lightning.createInvoice({ amountMsat: 1000, timestamp: Math.floor(Date.now() / 1000) - 3600, expirySeconds: 60 }).bolt11)).rejects.toMatchObject({ code: 'INVOICE_EXPIRED' });
    await expect(call('lnbc1notaninvoice')).rejects.toMatchObject({ code: 'INVALID_INVOICE' });
    expect(wallet.calls).toBe(0);
    expect(lightning.payments).toBe(0);
    expect(r.gw.spend.spentLastMinuteMsat()).toBe(0);
    // With approval: paid; then the minute budget is spent and the next one is refused before the wallet.
    await using approving = await rig({ policy: { allowTools: ['pay.invoice'] }, payments: { maxAutoPaySats: 50, maxSpendPerMinuteSats: 200 } }, { wallet, approve: () => Promise.resolve(true) });
    await approving.gw.call('pay.invoice', { invoice: lightning.createInvoice({ amountMsat: 150_000 }).bolt11 });
    await expect(approving.gw.call('pay.invoice', { invoice: lightning.createInvoice({ amountMsat: 45_000 }).bolt11 })).rejects.toMatchObject({ code: 'SPEND_LIMIT_EXCEEDED' });
    expect(lightning.payments).toBe(1);
  });

  it('gives the budget back when the wallet says the payment failed', async () => {
    const lightning = fakeLightning();
    await using r = await rig({ policy: { allowTools: ['pay.invoice'] } }, { wallet: lightning.wallet({ fail: true }) });
    await expect(r.gw.call('pay.invoice', { invoice: lightning.createInvoice({ amountMsat: 5000 }).bolt11 })).rejects.toMatchObject({ code: 'PAYMENT_FAILED' });
    expect(r.gw.spend.spentLastMinuteMsat()).toBe(0);
  });
});

describe('pay.balance', () => {
  it('shows the Cashu books per mint, and no Lightning balance from a wallet that offers none', async () => {
    await using cashu = await cashuRig();
    await cashu.fund(100);
    await using r = await rig({ policy: { allowTools: ['pay.balance'] } }, { cashu: cashu.wallet, wallet: fakeLightning().wallet() });
    expect(await r.gw.call('pay.balance', {})).toEqual({
      cashu: { availableSats: 100, pendingSats: 0, byMint: { [cashu.mintUrl]: { availableSats: 100, pendingSats: 0 } } },
      lightning: null,
    });
  });

  it('shows the Lightning balance of a wallet that offers getBalance', async () => {
    const lightning = fakeLightning();
    const wallet = Object.assign(lightning.wallet(), { getBalance: () => Promise.resolve({ balanceMsat: 123_456 }) });
    await using r = await rig({ policy: { allowTools: ['pay.balance'] } }, { wallet });
    expect(await r.gw.call('pay.balance', {})).toEqual({ cashu: null, lightning: { balanceSats: 123 } });
  });
});
