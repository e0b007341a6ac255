import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createSpendTracker, isSpendRefusal, type Reservation, type SpendRefusal } from './spend-tracker.js';

function clock(start = 1_000_000): { now: () => number; advance(ms: number): void } {
  let t = start;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

function reserved(value: Reservation | SpendRefusal): Reservation {
  if (isSpendRefusal(value)) throw new Error(`refused: ${value.reason}`);
  return value;
}

describe('spend tracker', () => {
  it('needs approval above maxAutoPaySats, and approval does not lift the rolling budget', () => {
    const spend = createSpendTracker({ maxAutoPaySats: 100, maxSpendPerMinuteSats: 150 });
    expect(spend.tryReserve({ amountMsat: 100_001, feeReserveMsat: 0 })).toMatchObject({ code: 'APPROVAL_REQUIRED', limit: 'maxAutoPaySats' });
    reserved(spend.tryReserve({ amountMsat: 120_000, feeReserveMsat: 0, approved: true }));
    expect(spend.tryReserve({ amountMsat: 140_000, feeReserveMsat: 0, approved: true })).toMatchObject({ code: 'SPEND_LIMIT_EXCEEDED' });
  });

  it('counts the fee reserve until settled, and the actual fee after', () => {
    const spend = createSpendTracker({ maxSpendPerMinuteSats: 10 });
    const first = reserved(spend.tryReserve({ amountMsat: 6000, feeReserveMsat: 3000 }));
    expect(spend.spentLastMinuteMsat()).toBe(9000);
    expect(spend.tryReserve({ amountMsat: 1001, feeReserveMsat: 0 })).toMatchObject({ code: 'SPEND_LIMIT_EXCEEDED' });
    first.settle(500);
    expect(spend.spentLastMinuteMsat()).toBe(6500);
    reserved(spend.tryReserve({ amountMsat: 3500, feeReserveMsat: 0 }));
    expect(spend.spentLastMinuteMsat()).toBe(10_000);
  });

  it('counts sub-sat amounts and a fee over the reserve in full', () => {
    const spend = createSpendTracker({ maxSpendPerMinuteSats: 3 });
    reserved(spend.tryReserve({ amountMsat: 1500, feeReserveMsat: 0 }));
    reserved(spend.tryReserve({ amountMsat: 1499, feeReserveMsat: 0 }));
    expect(spend.tryReserve({ amountMsat: 2, feeReserveMsat: 0 })).toMatchObject({ code: 'SPEND_LIMIT_EXCEEDED' });
    const generous = createSpendTracker({ maxSpendPerMinuteSats: 10 });
    reserved(generous.tryReserve({ amountMsat: 1000, feeReserveMsat: 100 })).settle(900);
    expect(generous.spentLastMinuteMsat()).toBe(1900);
  });

  it('gives everything back on release, once, and settles only once', () => {
    const spend = createSpendTracker({ maxSpendPerMinuteSats: 5 });
    const reservation = reserved(spend.tryReserve({ amountMsat: 4000, feeReserveMsat: 1000 }));
    reservation.release();
    reservation.release();
    reservation.settle(0);
    expect(spend.spentLastMinuteMsat()).toBe(0);
  });

  it('rolls: spend leaves the budget a minute later, never earlier', () => {
    const time = clock();
    const spend = createSpendTracker({ maxSpendPerMinuteSats: 1, now: time.now });
    reserved(spend.tryReserve({ amountMsat: 1000, feeReserveMsat: 0 })).settle(0);
    time.advance(59_999);
    expect(spend.tryReserve({ amountMsat: 1, feeReserveMsat: 0 })).toMatchObject({ code: 'SPEND_LIMIT_EXCEEDED' });
    time.advance(200); // past the minute and the 100 ms bucket
    reserved(spend.tryReserve({ amountMsat: 1000, feeReserveMsat: 0 }));
  });

  it('keeps per-origin, per-actor and per-day budgets apart', () => {
    const time = clock();
    const spend = createSpendTracker({ maxSpendPerMinuteSats: 1000, maxSpendPerOriginPerMinuteSats: 10, maxSpendPerActorPerMinuteSats: 15, maxSpendPerDaySats: 30, now: time.now });
    reserved(spend.tryReserve({ amountMsat: 10_000, feeReserveMsat: 0, origin: 'https://a.example', actor: 'x' }));
    expect(spend.tryReserve({ amountMsat: 1000, feeReserveMsat: 0, origin: 'https://a.example' })).toMatchObject({ limit: 'maxSpendPerOriginPerMinuteSats' });
    reserved(spend.tryReserve({ amountMsat: 5000, feeReserveMsat: 0, origin: 'https://b.example', actor: 'x' }));
    expect(spend.tryReserve({ amountMsat: 1000, feeReserveMsat: 0, origin: 'https://c.example', actor: 'x' })).toMatchObject({ limit: 'maxSpendPerActorPerMinuteSats' });
    time.advance(61_000);
    reserved(spend.tryReserve({ amountMsat: 10_000, feeReserveMsat: 0, origin: 'https://a.example', actor: 'y' }));
    expect(spend.tryReserve({ amountMsat: 10_000, feeReserveMsat: 0, origin: 'https://d.example', actor: 'z' })).toMatchObject({ limit: 'maxSpendPerDaySats' });
  });

  it('refuses malformed amounts and limits', () => {
    const spend = createSpendTracker();
    expect(() => spend.tryReserve({ amountMsat: 0, feeReserveMsat: 0 })).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }) as Error);
    expect(() => spend.tryReserve({ amountMsat: 1.5, feeReserveMsat: 0 })).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }) as Error);
    expect(() => createSpendTracker({ maxAutoPaySats: -1 })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }) as Error);
  });

  it('never lets the minute total pass the budget and always equals a naive ledger (property)', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('reserve' as const), amount: fc.integer({ min: 1, max: 5000 }), fee: fc.integer({ min: 0, max: 500 }) }),
      fc.record({ kind: fc.constant('settle' as const), index: fc.nat(), fee: fc.integer({ min: 0, max: 600 }) }),
      fc.record({ kind: fc.constant('release' as const), index: fc.nat() }),
      fc.record({ kind: fc.constant('wait' as const), ms: fc.integer({ min: 0, max: 20_000 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const time = clock();
        const budgetMsat = 20_000;
        const spend = createSpendTracker({ maxSpendPerMinuteSats: 20, maxAutoPaySats: 10, now: time.now });
        // The naive ledger: every live entry with its time and amount, summed over the last 60.1 s.
        const ledger: { at: number; msat: number; open: boolean; reservation: Reservation; fee: number }[] = [];
        for (const step of ops) {
          if (step.kind === 'wait') time.advance(step.ms);
          else if (step.kind === 'reserve') {
            const result = spend.tryReserve({ amountMsat: step.amount, feeReserveMsat: step.fee });
            if (!isSpendRefusal(result)) ledger.push({ at: time.now(), msat: step.amount + step.fee, open: true, reservation: result, fee: step.fee });
          } else {
            const entry = ledger[step.index % Math.max(1, ledger.length)];
            if (entry === undefined || !entry.open) continue;
            entry.open = false;
            if (step.kind === 'settle') {
              const fee = Math.min(step.fee, entry.fee); // a wallet keeps to the fee it was allowed
              entry.reservation.settle(fee);
              entry.msat += fee - entry.fee;
            } else {
              entry.reservation.release();
              entry.msat = 0;
            }
          }
          const spent = spend.spentLastMinuteMsat();
          const inWindow = (e: { at: number }): boolean => e.at - (e.at % 100) + 100 > time.now() - 60_000;
          expect(spent).toBe(ledger.filter(inWindow).reduce((sum, e) => sum + e.msat, 0));
          expect(spent).toBeLessThanOrEqual(budgetMsat);
        }
      }),
    );
  });
});

describe('gw.spend', () => {
  it('is configured from payments, in sats at the edge and msat inside', async () => {
    const { createGateway } = await import('../gateway.js');
    await using gw = await createGateway({ payments: { maxAutoPaySats: 5, maxSpendPerMinuteSats: 8 } }, { logger: { warn: () => undefined } });
    expect(gw.spend.tryReserve({ amountMsat: 5001, feeReserveMsat: 0 })).toMatchObject({ code: 'APPROVAL_REQUIRED' });
    expect(isSpendRefusal(await gw.spend.tryReserve({ amountMsat: 5000, feeReserveMsat: 2000 }))).toBe(false);
    expect(gw.spend.tryReserve({ amountMsat: 1001, feeReserveMsat: 0 })).toMatchObject({ code: 'SPEND_LIMIT_EXCEEDED' });
  });
});
