import { describe, expect, it } from 'vitest';
import { humanWallet, renderApproval } from '../../src/pay/approval.js';
import type { ApprovalRequest } from '../../src/pay/l402-payer.js';
import { createL402Payer, type PaymentEvent } from '../../src/pay/l402-payer.js';
import { createSpendTracker } from '../../src/pay/spend-tracker.js';
import { startServer } from '../helpers/http-server.js';
import { fakeLightning } from '../helpers/lightning.js';
import { testFetch } from '../net/setup.js';
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

describe('server text in the approval view', () => {
  it('a description escaped and cut for approve() is shown as it is: not cut again, the count right', async () => {
    const { safeServerText } = await import('../../src/pay/server-text.js');
    const raw = `${'\u001b[2J'.repeat(60)}\u{e0049}${'x\u0336\u0336\u0336'.repeat(10)}`;
    const forApprove = safeServerText(raw);
    expect(forApprove).toMatch(/… \(\d+ more characters\)$/);
    const view = renderApproval({ amountMsat: 1000, feeReserveMsat: 0, origin: 'https://api.example', description: forApprove, invoice: 'lnbc1' });
    expect(view.text).toContain(`  description: ${forApprove}\n`);
    expect(view.text).not.toContain('\u001b');
    // Raw text handed to renderApproval directly is escaped, and cut once.
    const direct = renderApproval({ amountMsat: 1000, feeReserveMsat: 0, origin: 'https://api.example', description: `a\u200b${'\u0301'.repeat(9)}`, invoice: 'lnbc1' });
    expect(direct.text).toContain(`  description: a\\u{200b}\u0301\u0301${'\\u{301}'.repeat(7)}\n`);
  });
});

describe('an invoice too long for a QR code', () => {
  it('renders without a QR code (with a note), the invoice still shown whole', () => {
    const lightning = fakeLightning();
    const { bolt11 } = lightning.createInvoice({ amountMsat: 50_000, routeHintFields: 5 });
    expect(bolt11.length).toBeGreaterThan(5000);
    const view = renderApproval({ amountMsat: 50_000, feeReserveMsat: 10_000, origin: 'https://api.example', description: 'api', invoice: bolt11 });
    expect(view.text).toContain(bolt11);
    expect(view.text).toContain('(no QR code: the invoice is too long for one; copy it from the line above)');
    expect(view.text).not.toMatch(/[█▀▄]/);
    expect(view.text.split('\n').at(-1)).toBe('Amount to pay: 50 sats (+ up to 10 sats routing fee) to https://api.example');
    expect(view.svg).toBe('');
  });

  it('no QR code of a cut or escaped invoice', () => {
    const view = renderApproval({ amountMsat: 1000, feeReserveMsat: 0, origin: 'https://api.example', description: undefined, invoice: 'lnbc1\u001b[2Jabc' });
    expect(view.text).toContain('(no QR code');
    expect(view.svg).toBe('');
  });

  it('a person asked to pay a 5,000-character invoice is asked (no QR code) and can pay it', async () => {
    const lightning = fakeLightning();
    const invoice = lightning.createInvoice({ amountMsat: 50_000, routeHintFields: 5 });
    await using server = await startServer((req, res) => {
      if (req.headers.authorization === `L402 opaquetok:${invoice.preimage}`) return void res.end('paid');
      res.writeHead(402, { 'www-authenticate': `L402 macaroon="opaquetok", invoice="${invoice.bolt11}"` }).end();
    });
    await using net = await testFetch({ allowedPorts: [server.port] });
    const byHand = lightning.wallet();
    const views: string[] = [];
    const events: PaymentEvent[] = [];
    const spend = createSpendTracker({ maxAutoPaySats: 100 });
    const person = humanWallet({
      ask: async ({ invoice: asked, view }) => {
        views.push(view.text);
        return (await byHand.payInvoice({ invoice: asked, maxFeeMsat: 0, signal: new AbortController().signal })).preimage;
      },
    });
    const payer = createL402Payer({ fetch: net.fetch, spend, wallet: person, onEvent: (e) => events.push(e) });
    expect(await (await payer.fetch(`http://api.test:${server.port}/x`)).text()).toBe('paid');
    expect(views).toHaveLength(1);
    expect(views[0]).toContain('(no QR code');
    expect(byHand.calls).toBe(1);
    expect(events.map((e) => e.outcome)).toEqual(['paid']);
    expect(spend.spentLastMinuteMsat()).toBe(60_000); // the amount and the whole fee reserve (the fee is unknown)
  });

  it('an invoice that cannot be shown: PAYMENT_FAILED (the budget is given back), and the person is never asked', async () => {
    let asked = 0;
    const person = humanWallet({ ask: () => Promise.resolve((asked++, '00'.repeat(32))) });
    const error = await person.payInvoice({ invoice: 'lnbc1notaninvoice', maxFeeMsat: 0, signal: new AbortController().signal }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'PAYMENT_FAILED' });
    expect(asked).toBe(0);
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
