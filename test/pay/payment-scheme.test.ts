import { describe, expect, it } from 'vitest';
import { payRig } from './setup.js';

describe('IETF Payment scheme (lightning method, charge intent)', () => {
  it('pays a Payment challenge and answers with the exact echo of its auth-params, opaque included', async () => {
    await using rig = await payRig({ knobs: { scheme: 'payment' } });
    expect(await (await rig.payer.fetch(rig.url('/paid/p'))).text()).toBe('paid:GET /paid/p');
    const sent = rig.server.requests.at(-1)?.headers.authorization ?? '';
    expect(sent.startsWith('Payment ')).toBe(true);
    const credential = JSON.parse(Buffer.from(sent.slice(8), 'base64url').toString('utf8')) as { challenge: Record<string, string>; payload: { preimage: string } };
    expect(Object.keys(credential.challenge).sort()).toEqual(['id', 'intent', 'method', 'opaque', 'realm', 'request']);
    expect(credential.payload.preimage).toMatch(/^[0-9a-f]{64}$/);
  });

  it('does not reuse a Payment credential (single use): the next request pays its own challenge', async () => {
    await using rig = await payRig({ knobs: { scheme: 'payment' } });
    await rig.payer.fetch(rig.url('/paid/a'));
    await rig.payer.fetch(rig.url('/paid/b'));
    expect(rig.lightning.payments).toBe(2);
  });

  it('refuses a challenge that declares another amount than its invoice (AMOUNT_MISMATCH), paying nothing', async () => {
    await using rig = await payRig({ knobs: { scheme: 'payment', amountMsat: 50_000, declaredSats: 5 } });
    await expect(rig.payer.fetch(rig.url())).rejects.toMatchObject({ code: 'AMOUNT_MISMATCH', data: { declaredMsat: 5000, invoiceMsat: 50_000 } });
    expect(rig.wallet.calls).toBe(0);
  });

  it('pays exactly one challenge when several schemes are offered, L402 first', async () => {
    await using rig = await payRig({ knobs: { scheme: 'all' } });
    await rig.payer.fetch(rig.url('/paid/x'));
    expect(rig.lightning.payments).toBe(1);
    expect(rig.server.requests.at(-1)?.headers.authorization?.startsWith('L402 ')).toBe(true);
  });
});
