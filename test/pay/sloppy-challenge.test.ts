import { describe, expect, it } from 'vitest';
import type { PayInvoiceRequest, Wallet } from '../../src/pay/wallet.js';
import { payRig } from './setup.js';

/** Finding 8: lenient where real servers are sloppy, strict where it matters. */
describe('sloppy challenges', () => {
  it('pays an unquoted TOKEN=<base64> challenge with an UPPER CASE invoice, handing the wallet the invoice in lower case', async () => {
    const invoices: string[] = [];
    const held: { inner?: Wallet } = {};
    const wallet: Wallet = { payInvoice: (request: PayInvoiceRequest) => (invoices.push(request.invoice), (held.inner as Wallet).payInvoice(request)) };
    await using rig = await payRig({ knobs: { sloppy: true, tokenParam: 'token' }, payer: { wallet } });
    held.inner = rig.wallet;
    expect(await (await rig.payer.fetch(rig.url('/paid/a'))).text()).toBe('paid:GET /paid/a');
    expect(await (await rig.payer.fetch(rig.url('/paid/a'))).text()).toBe('paid:GET /paid/a');
    expect(invoices).toHaveLength(1);
    expect(invoices[0]).toMatch(/^lnbc[0-9a-z]+$/);
    expect(rig.wallet.calls).toBe(1);
    expect(rig.spend.spentLastMinuteMsat()).toBe(10_000);
    expect(rig.events.map((e) => e.outcome)).toEqual(['paid', 'reused']);
  });

  it('refuses a mixed-case invoice (bech32 forbids it) before paying', async () => {
    await using rig = await payRig();
    const { bolt11 } = rig.lightning.createInvoice({ amountMsat: 10_000 });
    const mixed = bolt11.slice(0, 10) + bolt11.slice(10).toUpperCase();
    const { readOffer } = await import('../../src/pay/offers.js');
    expect(() => readOffer(`L402 macaroon="AgE", invoice="${mixed}"`, 'http://api.test')).toThrow(expect.objectContaining({ code: 'INVALID_INVOICE' }) as Error);
    expect(readOffer(`L402 macaroon="AgE", invoice="lightning:${bolt11.toUpperCase()}"`, 'http://api.test').bolt11).toBe(bolt11);
    expect(rig.wallet.calls).toBe(0);
  });
});
