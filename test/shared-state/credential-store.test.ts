import { describe, expect, it } from 'vitest';
import { createL402Payer } from '../../src/pay/l402-payer.js';
import { createSpendTracker } from '../../src/pay/spend-tracker.js';
import { postgresCredentialStore } from '../../src/shared-state/index.js';
import { startL402Server } from '../helpers/l402-server.js';
import { fakeLightning, type WalletKnobs } from '../helpers/lightning.js';
import { testFetch } from '../net/setup.js';
import { useTestDatabase } from './database.js';

const db = useTestDatabase();

const KEY = new Uint8Array(32).fill(9);

/** A "process": its own pool, store, fetch and payer, sharing only the database and the Lightning network. */
async function process_(lightning: ReturnType<typeof fakeLightning>, port: number, knobs: WalletKnobs = {}) {
  const pool = db.newPool({ max: 4 });
  const store = await postgresCredentialStore({ pool, key: KEY });
  const net = await testFetch({ allowedPorts: [port] });
  const payer = createL402Payer({ fetch: net.fetch, spend: createSpendTracker(), wallet: lightning.wallet({ delayMs: 30, ...knobs }), store, paymentTimeoutMs: 300 });
  return { store, payer, pool, net };
}

describe('PostgreSQL credential store', () => {
  it('stores ciphertext only and round-trips a record', async () => {
    const pool = db.newPool({ max: 2 });
    const store = await postgresCredentialStore({ pool, key: KEY });
    await store.put('l402:x', { token: 'AgEEbHNhdA', preimage: 'ab'.repeat(32) });
    expect(await store.get('l402:x')).toEqual({ token: 'AgEEbHNhdA', preimage: 'ab'.repeat(32) });
    const { rows } = await pool.query<{ sealed: Buffer }>("SELECT sealed FROM portcullis.credentials WHERE id = 'l402:x'");
    expect(rows[0]?.sealed.includes(Buffer.from('ab'.repeat(32)))).toBe(false);
    const wrongKey = await postgresCredentialStore({ pool, key: new Uint8Array(32).fill(1) });
    await expect(wrongKey.get('l402:x')).rejects.toMatchObject({ code: 'DECRYPT_FAILED' });
  });

  it('lets only one of two processes pay for a scope; the other picks up its credential', async () => {
    const lightning = fakeLightning();
    await using api = await startL402Server(lightning);
    const a = await process_(lightning, api.port);
    const b = await process_(lightning, api.port);
    const url = `http://api.test:${api.port}/paid/shared`;
    const responses = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? a : b).payer.fetch(url)));
    expect(responses.every((r) => r.status === 200)).toBe(true);
    expect(lightning.payments).toBe(1);
    await a.net[Symbol.asyncDispose]();
    await b.net[Symbol.asyncDispose]();
  });

  it('resumes from another process a payment whose outcome the first one never learned, without paying again', async () => {
    const lightning = fakeLightning();
    await using api = await startL402Server(lightning);
    const crashed = await process_(lightning, api.port, { hang: true });
    const error = (await crashed.payer.fetch(`http://api.test:${api.port}/paid/r`).catch((e: unknown) => e)) as { code: string; data: { pending: { id: string } } };
    expect(error.code).toBe('PAYMENT_OUTCOME_UNKNOWN');
    const survivor = await process_(lightning, api.port);
    const payments = lightning.payments;
    const response = await survivor.payer.resume(error.data.pending.id);
    expect(await response.text()).toBe('paid:GET /paid/r');
    expect(lightning.payments).toBe(payments);
    expect(await survivor.store.get(error.data.pending.id)).toBeUndefined();
    await crashed.net[Symbol.asyncDispose]();
    await survivor.net[Symbol.asyncDispose]();
  });
});

describe('PostgreSQL credential store: payment locks', () => {
  it('holds payment locks on connections of their own, so payments holding every pool connection still reach the database', async () => {
    const pool = db.newPool({ max: 2 });
    const store = await postgresCredentialStore({ pool, key: KEY });
    try {
      // Two payments to different scopes at once, each querying the main pool inside its lock
      // (as the ledger and the store do): with the locks on the main pool, both wait forever.
      const inside = async (scope: string): Promise<string> =>
        store.withLock?.(scope, async () => {
          await store.put(`l402:${scope}`, { token: scope });
          const { rows } = await pool.query<{ n: string }>('SELECT 1::text AS n');
          return `${scope}:${rows[0]?.n}`;
        }) ?? 'no lock';
      const both = Promise.all([inside('a'), inside('b'), inside('c')]);
      const timeout = new Promise<string>((resolve) => setTimeout(() => resolve('hung'), 5000).unref());
      expect(await Promise.race([both.then((done) => done.join(',')), timeout])).toBe('a:1,b:1,c:1');
      // The locks are real: a second holder of scope a waits until the first lets go.
      const order: string[] = [];
      await Promise.all([
        store.withLock?.('a', async () => {
          order.push('first in');
          await new Promise((resolve) => setTimeout(resolve, 100));
          order.push('first out');
        }),
        new Promise((resolve) => setTimeout(resolve, 20)).then(() => store.withLock?.('a', () => Promise.resolve(void order.push('second in')))),
      ]);
      expect(order).toEqual(['first in', 'first out', 'second in']);
    } finally {
      await store.close();
    }
  });
});
