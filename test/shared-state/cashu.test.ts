import { describe, expect, it } from 'vitest';
import { isGatewayError } from '../../src/errors.js';
import { cashuWallet } from '../../src/pay/wallets/cashu/wallet.js';
import { postgresCredentialStore } from '../../src/shared-state/index.js';
import { cashuRig } from '../pay/cashu-setup.js';
import { useTestDatabase } from './database.js';

const db = useTestDatabase();
const KEY = new Uint8Array(32).fill(4);

describe('Cashu proofs in the shared PostgreSQL store', () => {
  it('two processes spending from one book never hand out the same proof, and lose nothing', async () => {
    await using rig = await cashuRig();
    const open = async () => cashuWallet({ mints: [rig.mintUrl], store: await postgresCredentialStore({ pool: db.newPool({ max: 4 }), key: KEY }), fetch: rig.net.fetch, timeoutMs: 5000 });
    const a = await open();
    const b = await open();
    await a.receive(await rig.strangerToken(100));
    expect((await b.balance()).availableSat).toBe(100); // the other process sees the same book
    const attempts = await Promise.allSettled([...Array.from({ length: 10 }, () => a.send(5)), ...Array.from({ length: 10 }, () => b.send(5))]);
    const sent = attempts.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    for (const r of attempts) if (r.status === 'rejected') expect(isGatewayError(r.reason) && r.reason.code).toBe('INSUFFICIENT_FUNDS');
    expect(sent.length).toBeGreaterThan(0);
    // Every token handed out is redeemable by someone else: no proof went out twice.
    const payee = rig.open({ store: await rig.openStoreAt('payee') });
    let redeemed = 0;
    for (const token of sent) redeemed += (await payee.receive(token.token)).amountSat;
    expect(redeemed).toBe(5 * sent.length);
    for (const token of sent) await a.confirm(token.id); // one process confirms what the other sent: one book
    // What was not handed out is still in the book: 100 sats in all, none counted twice.
    expect(await b.balance()).toMatchObject({ availableSat: 100 - redeemed, pendingSat: 0 });
    await payee.close();
  });
});
