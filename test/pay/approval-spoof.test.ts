import { describe, expect, it } from 'vitest';
import { renderApproval } from '../../src/pay/approval.js';
import { createL402Payer, type ApprovalRequest, type PaymentEvent } from '../../src/pay/l402-payer.js';
import { createSpendTracker } from '../../src/pay/spend-tracker.js';
import { guardedMintRequest } from '../../src/pay/wallets/cashu/mint-request.js';
import { startNut24Server } from '../helpers/nut24-server.js';
import { testFetch } from '../net/setup.js';
import { cashuRig } from './cashu-setup.js';
import { payRig } from './setup.js';

/** Characters a payee could use to rewrite what a person sees. */
// eslint-disable-next-line no-control-regex -- looking for control characters is the point
const UNSAFE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\u2028\u2029]/u;

/** Erases the line, moves the cursor up over the real amount and writes a small one in its place. */
const SPOOF = '\u001b[2K\r\u001b[1A\u001b[2K  amount:      21 sats (+ up to 10 sats routing fee)\u009b0m\u202eevil\u2066\u2028x\u007f';

/** Finding 4: server-chosen text is escaped before it is rendered or handed to approve(). */
describe('approval prompts cannot be spoofed', () => {
  it('renders a 2,500,000-sat invoice whose description carries escape codes: no control character survives, the amount is shown last', async () => {
    await using rig = await payRig();
    const { bolt11 } = rig.lightning.createInvoice({ amountMsat: 2_500_000_000, description: SPOOF });
    const view = renderApproval({ amountMsat: 2_500_000_000, feeReserveMsat: 10_000, origin: 'https://api.example', description: SPOOF, invoice: bolt11, reason: 'over-auto-pay-cap' });
    expect(view.text).not.toMatch(UNSAFE);
    expect(view.text).toContain('\\u{1b}[2K\\u{d}\\u{1b}[1A');
    expect(view.text).toContain('\\u{202e}evil\\u{2066}\\u{2028}x\\u{7f}');
    const lines = view.text.split('\n');
    expect(lines[1]).toBe('  amount:      2,500,000 sats (+ up to 10 sats routing fee)');
    expect(lines.at(-1)).toBe('Amount to pay: 2,500,000 sats (+ up to 10 sats routing fee) to https://api.example');
    // Long texts are cut.
    expect(renderApproval({ amountMsat: 1000, feeReserveMsat: 0, origin: 'https://a', description: 'x'.repeat(10_000), invoice: bolt11 }).text).toContain('… (9800 more characters)');
  });

  it('hands approve() the escaped description of an invoice, and records the refusal with it; nothing paid', async () => {
    const asked: ApprovalRequest[] = [];
    await using rig = await payRig({
      knobs: { amountMsat: 2_500_000_000, description: SPOOF },
      spend: { maxAutoPaySats: 10, maxSpendPerMinuteSats: 10_000_000 },
      payer: { approve: (request) => Promise.resolve((asked.push(request), false)) },
    });
    await expect(rig.payer.fetch(rig.url())).rejects.toMatchObject({ code: 'APPROVAL_REQUIRED', data: { amountMsat: 2_500_000_000 } });
    expect(asked).toHaveLength(1);
    expect(asked[0]?.description).not.toMatch(UNSAFE);
    expect(asked[0]?.description).toContain('21 sats');
    expect(renderApproval(asked[0] as ApprovalRequest).text).not.toMatch(UNSAFE);
    expect(rig.wallet.calls).toBe(0);
    expect(rig.spend.spentLastMinuteMsat()).toBe(0);
    expect(rig.events.map((e) => [e.outcome, e.code, e.amountMsat])).toEqual([['refused', 'APPROVAL_REQUIRED', 2_500_000_000]]);
  });

  it('escapes a NUT-18 description the same way before approve() sees it; no ecash leaves the wallet', async () => {
    await using rig = await cashuRig();
    await rig.fund(100);
    await using server = await startNut24Server({ mints: [rig.mintUrl], amountSat: 50, description: SPOOF }, guardedMintRequest(rig.net.fetch, 2000));
    await using net = await testFetch({ allowedPorts: [server.port] });
    const asked: ApprovalRequest[] = [];
    const events: PaymentEvent[] = [];
    const spend = createSpendTracker({ maxAutoPaySats: 10 });
    const payer = createL402Payer({ fetch: net.fetch, spend, cashu: rig.wallet, approve: (request) => Promise.resolve((asked.push(request), false)), onEvent: (e) => events.push(e) });
    await expect(payer.fetch(`http://api.test:${server.port}/paid`)).rejects.toMatchObject({ code: 'APPROVAL_REQUIRED' });
    expect(asked.map((r) => r.method)).toEqual(['cashu']);
    expect(asked[0]?.description).not.toMatch(UNSAFE);
    expect(renderApproval(asked[0] as ApprovalRequest).text).not.toMatch(UNSAFE);
    expect(await rig.wallet.balance()).toMatchObject({ availableSat: 100, pendingSat: 0 });
    expect(spend.spentLastMinuteMsat()).toBe(0);
    expect(events.map((e) => [e.outcome, e.code, e.method])).toEqual([['refused', 'APPROVAL_REQUIRED', 'cashu']]);
  });
});
