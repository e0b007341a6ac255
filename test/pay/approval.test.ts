import { describe, expect, it } from 'vitest';
import { humanWallet, renderApproval } from '../../src/pay/approval.js';
import type { ApprovalRequest } from '../../src/pay/l402-payer.js';
import { payRig } from './setup.js';

describe('human approval', () => {
  it('renders what a person needs: amount, fee reserve, origin, description, invoice and a QR code', async () => {
    await using rig = await payRig();
    const { bolt11 } = rig.lightning.createInvoice({ amountMsat: 21_000, description: 'weather forecast' });
    const view = renderApproval({ amountMsat: 21_000, feeReserveMsat: 10_000, origin: 'https://api.example', description: 'weather forecast', invoice: bolt11, reason: 'over-auto-pay-cap' });
    expect(view.text).toContain('21 sats (+ up to 10 sats routing fee)');
    expect(view.text).toContain('https://api.example');
    expect(view.text).toContain('weather forecast');
    expect(view.text).toContain(bolt11);
    expect(view.text).toMatch(/[█▀▄]/);
    expect(view.svg.startsWith('<svg')).toBe(true);
  });

  it('asks before every payment to an "always ask" origin, whatever the amount', async () => {
    const asked: ApprovalRequest[] = [];
    let answer = false;
    await using rig = await payRig();
    // The origin is only known once the rig's server has a port: the payer is made here.
    const { createL402Payer } = await import('../../src/pay/l402-payer.js');
    const { testFetch } = await import('../net/setup.js');
    await using net = await testFetch({ allowedPorts: [rig.server.port] });
    const origin = new URL(rig.url()).origin;
    const payer = createL402Payer({ fetch: net.fetch, spend: rig.spend, wallet: rig.wallet, alwaysAskOrigins: [origin], approve: (request) => Promise.resolve((asked.push(request), answer)) });
    await expect(payer.fetch(rig.url('/paid/a'))).rejects.toMatchObject({ code: 'APPROVAL_REQUIRED', data: { limit: 'alwaysAskOrigins' } });
    expect(rig.wallet.calls).toBe(0);
    answer = true;
    expect((await payer.fetch(rig.url('/paid/a'))).status).toBe(200);
    expect(asked.map((r) => [r.reason, r.amountMsat])).toEqual([
      ['always-ask', 10_000],
      ['always-ask', 10_000],
    ]);
    expect(asked[1]?.invoice).toMatch(/^lnbc/);
  });

  it('lets a person pay by hand: their preimage is checked, a decline gives the budget back', async () => {
    await using rig = await payRig();
    const { createL402Payer } = await import('../../src/pay/l402-payer.js');
    const { testFetch } = await import('../net/setup.js');
    await using net = await testFetch({ allowedPorts: [rig.server.port] });
    const byHand = rig.lightning.wallet();
    let mode: 'pay' | 'lie' | 'decline' = 'pay';
    const person = humanWallet({
      ask: async ({ invoice, view }) => {
        expect(view.text).toContain(invoice);
        if (mode === 'decline') throw new Error('no thanks');
        const { preimage } = await byHand.payInvoice({ invoice, maxFeeMsat: 0, signal: new AbortController().signal });
        return mode === 'lie' ? 'ab'.repeat(32) : preimage;
      },
    });
    const payer = createL402Payer({ fetch: net.fetch, spend: rig.spend, wallet: person });
    expect(await (await payer.fetch(rig.url('/paid/manual'))).text()).toBe('paid:GET /paid/manual');
    mode = 'lie';
    // Other origins (the same local server under other names), so no cached credential applies.
    await expect(payer.fetch(rig.url('/x').replace('api.test', 'other.test'))).rejects.toMatchObject({ code: 'PREIMAGE_MISMATCH' });
    mode = 'decline';
    const before = rig.spend.spentLastMinuteMsat();
    await expect(payer.fetch(rig.url('/x').replace('api.test', 'wrong.test'))).rejects.toMatchObject({ code: 'PAYMENT_FAILED' });
    expect(rig.spend.spentLastMinuteMsat()).toBe(before);
  });
});

describe('human approval of ecash', () => {
  it('renders a Cashu payment: the mint, mint fees, and the NUT-18 request as it is (case matters in base64url)', () => {
    const view = renderApproval({ method: 'cashu', mint: 'https://mint.example', amountMsat: 40_000, feeReserveMsat: 2_000, origin: 'https://api.example', description: 'report', invoice: 'creqAabcDEF', reason: 'over-auto-pay-cap' });
    expect(view.text).toContain('40 sats (+ up to 2 sats mint fees)');
    expect(view.text).toContain('Cashu ecash from https://mint.example');
    expect(view.text).toContain('request:     creqAabcDEF');
    expect(view.text).not.toContain('CREQAABCDEF');
    expect(view.svg.startsWith('<svg')).toBe(true);
  });
});
