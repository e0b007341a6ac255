import { describe, expect, it } from 'vitest';
import { payRig } from './setup.js';

describe('L402 payer', () => {
  it('pays a 402 once, retries with the credential, then reuses it without paying again', async () => {
    await using rig = await payRig();
    const first = await rig.payer.fetch(rig.url('/paid/a'));
    expect(await first.text()).toBe('paid:GET /paid/a');
    expect(rig.lightning.payments).toBe(1);
    expect(rig.spend.spentLastMinuteMsat()).toBe(10_000);
    const again = await rig.payer.fetch(rig.url('/paid/b'));
    expect(await again.text()).toBe('paid:GET /paid/b');
    expect(rig.lightning.payments).toBe(1);
    expect(rig.events.map((e) => e.outcome)).toEqual(['paid', 'reused']);
    expect(JSON.stringify(rig.events)).not.toMatch(/[0-9a-f]{64}:/); // no preimage in events
  });

  it('answers in the scheme challenged, preferring L402 when both are offered, with token= or macaroon=', async () => {
    for (const knobs of [{ scheme: 'LSAT' as const }, { scheme: 'both' as const }, { tokenParam: 'token' as const }]) {
      await using rig = await payRig({ knobs });
      await rig.payer.fetch(rig.url());
      const sent = rig.server.requests.at(-1)?.headers.authorization ?? '';
      expect(sent.startsWith(knobs.scheme === 'LSAT' ? 'LSAT ' : 'L402 '), JSON.stringify(knobs)).toBe(true);
    }
  });

  it.each([
    [{ amountless: true }, 'AMOUNTLESS_INVOICE'],
    [{ expired: true }, 'INVOICE_EXPIRED'],
    [{ network: 'testnet' as const }, 'WRONG_NETWORK'],
    [{ mismatch: true }, 'TOKEN_INVOICE_MISMATCH'],
  ])('refuses before paying: %o → %s', async (knobs, code) => {
    await using rig = await payRig({ knobs });
    await expect(rig.payer.fetch(rig.url())).rejects.toMatchObject({ code });
    expect(rig.wallet.calls).toBe(0);
    expect(rig.spend.spentLastMinuteMsat()).toBe(0);
  });

  it('refuses over the caller cap, over maxAutoPaySats without approval, and over the budget', async () => {
    await using rig = await payRig({ knobs: { amountMsat: 50_000 }, spend: { maxAutoPaySats: 40, maxSpendPerMinuteSats: 1000 } });
    await expect(rig.payer.fetch(rig.url(), {}, { maxAmountSats: 20 })).rejects.toMatchObject({
      code: 'AMOUNT_EXCEEDS_CAP',
      data: { amountMsat: 50_000, capMsat: 20_000 },
      message: expect.stringMatching(/asks 50 sats, over this call's cap of 20 sats/) as string,
    });
    await expect(rig.payer.fetch(rig.url())).rejects.toMatchObject({ code: 'APPROVAL_REQUIRED', data: { amountMsat: 50_000, description: 'api access' } });
    expect(rig.wallet.calls).toBe(0);
  });

  it('asks the host for approval above maxAutoPaySats and pays when approved', async () => {
    const asked: unknown[] = [];
    await using rig = await payRig({ knobs: { amountMsat: 50_000 }, spend: { maxAutoPaySats: 40 }, payer: { approve: (request) => Promise.resolve(asked.push(request) > 0) } });
    expect((await rig.payer.fetch(rig.url())).status).toBe(200);
    expect(asked).toEqual([expect.objectContaining({ amountMsat: 50_000, description: 'api access' })]);
  });

  it('never pays twice for concurrent requests to one unpaid scope (100 at once → 1 payment)', async () => {
    await using rig = await payRig({ wallet: { delayMs: 50 } });
    const responses = await Promise.all(Array.from({ length: 100 }, () => rig.payer.fetch(rig.url('/paid/same'))));
    expect(responses.every((r) => r.status === 200)).toBe(true);
    expect(rig.lightning.payments).toBe(1);
    expect(rig.wallet.calls).toBe(1);
  });

  it('does not cache or send a preimage that does not match, and the budget stays spent', async () => {
    await using rig = await payRig({ wallet: { wrongPreimage: true } });
    const before = rig.server.requests.length;
    await expect(rig.payer.fetch(rig.url())).rejects.toMatchObject({ code: 'PREIMAGE_MISMATCH' });
    expect(rig.server.requests.length).toBe(before + 1); // only the unpaid request; no credential was sent
    expect(rig.spend.spentLastMinuteMsat()).toBeGreaterThan(0);
    expect(rig.events.at(-1)).toMatchObject({ outcome: 'failed', code: 'PREIMAGE_MISMATCH' });
  });

  it('gives the budget back when the wallet says the payment certainly failed', async () => {
    await using rig = await payRig({ wallet: { fail: true } });
    await expect(rig.payer.fetch(rig.url())).rejects.toMatchObject({ code: 'PAYMENT_FAILED' });
    expect(rig.spend.spentLastMinuteMsat()).toBe(0);
  });

  it('keeps the budget and a pending record when the outcome is unknown, and resumes without paying again', async () => {
    await using rig = await payRig({ wallet: { hang: true } });
    const error = (await rig.payer.fetch(rig.url('/paid/x')).catch((e: unknown) => e)) as { code: string; data: { pending: { id: string } } };
    expect(error.code).toBe('PAYMENT_OUTCOME_UNKNOWN');
    expect(rig.spend.spentLastMinuteMsat()).toBeGreaterThan(10_000); // amount + fee reserve still held
    expect(await rig.store.get(error.data.pending.id)).toBeDefined();
    const paymentsBefore = rig.lightning.payments;
    const resumed = await rig.payer.resume(error.data.pending.id); // the wallet's lookup finds the preimage
    expect(await resumed.text()).toBe('paid:GET /paid/x');
    expect(rig.lightning.payments).toBe(paymentsBefore);
    expect(await rig.store.get(error.data.pending.id)).toBeUndefined();
  });

  it('stops at PAID_BUT_REJECTED when the server answers 402 to a paid credential, carrying it, paying once', async () => {
    await using rig = await payRig({ knobs: { rejectPaid: true } });
    const error = (await rig.payer.fetch(rig.url()).catch((e: unknown) => e)) as Error & { code: string; credential?: { preimage: string } };
    expect(error.code).toBe('PAID_BUT_REJECTED');
    expect(error.credential?.preimage).toMatch(/^[0-9a-f]{64}$/);
    expect(error.message).not.toContain(error.credential?.preimage ?? 'x');
    expect(JSON.stringify(error)).not.toContain(error.credential?.preimage ?? 'x');
    expect(rig.lightning.payments).toBe(1);
  });

  it('sends a POST at most once more after paying, never retried', async () => {
    await using rig = await payRig();
    const response = await rig.payer.fetch(rig.url('/paid/order'), { method: 'POST', body: 'buy' });
    expect(await response.text()).toBe('paid:POST /paid/order');
    expect(rig.server.requests.filter((r) => r.method === 'POST')).toHaveLength(2);
  });

  it('pays again when a cached credential is refused for its scope, evicting only that one', async () => {
    await using rig = await payRig();
    await rig.payer.fetch(rig.url('/paid/a'));
    rig.server.knobs.rejectPaid = true;
    await expect(rig.payer.fetch(rig.url('/paid/a'))).rejects.toMatchObject({ code: 'PAID_BUT_REJECTED' });
    expect(rig.lightning.payments).toBe(2);
  });

  it('keeps paid credentials across a restart in the encrypted store', async () => {
    await using rig = await payRig();
    await rig.payer.fetch(rig.url('/paid/a'));
    const { createL402Payer } = await import('../../src/pay/l402-payer.js');
    const { createGuardedFetch } = await import('../../src/net/fetch.js');
    const { testZone } = await import('../net/setup.js');
    await using restarted = createGuardedFetch({ allowedDomains: ['api.test'], allowedPorts: [rig.server.port], allowNetworks: ['127.0.0.1/32'], resolver: testZone() });
    const payer = createL402Payer({ fetch: restarted, spend: rig.spend, wallet: rig.wallet, store: rig.store });
    expect((await payer.fetch(rig.url('/paid/b'))).status).toBe(200);
    expect(rig.lightning.payments).toBe(1);
  });

  it('respects a macaroon expiry caveat: an expired credential is not sent', async () => {
    await using rig = await payRig({ knobs: { caveats: [`api_valid_until=${Math.floor(Date.now() / 1000) + 1}`] } });
    await rig.payer.fetch(rig.url('/paid/a'));
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await rig.payer.fetch(rig.url('/paid/a'));
    expect(rig.lightning.payments).toBe(2);
    expect(rig.events.map((e) => e.outcome)).toEqual(['paid', 'paid']);
  });

  it('refuses a challenge that appears only after a redirect to another origin', async () => {
    await using rig = await payRig();
    rig.server.knobs.redirectTo = `http://other.test:${rig.server.port}/paid/elsewhere`;
    await expect(rig.payer.fetch(rig.url('/paid/r'))).rejects.toMatchObject({ code: 'INVALID_CHALLENGE' });
    expect(rig.server.challenges).toBe(1); // the other origin did challenge…
    expect(rig.wallet.calls).toBe(0); // …and nothing was paid
  });
});
