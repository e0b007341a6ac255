import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { createL402Payer } from '../../src/pay/l402-payer.js';
import { postgresCredentialStore, postgresSpendLedger } from '../../src/shared-state/index.js';
import { startL402Server } from '../helpers/l402-server.js';
import { fakeLightning } from '../helpers/lightning.js';
import { startRelay } from '../helpers/nostr-relay.js';
import { startNwcService } from '../helpers/nwc-service.js';
import { tempDir } from '../helpers/temp-dir.js';
import { testFetch } from '../net/setup.js';
import { useTestDatabase } from './database.js';

const db = useTestDatabase();

describe('a payer process killed with -9 in the middle of a payment', () => {
  it('leaves its reservation and pending record for another process, which resumes without paying again', async () => {
    await using dir = await tempDir();
    await using relay = await startRelay();
    const lightning = fakeLightning();
    const service = await startNwcService(relay.url, lightning, { hang: true });
    await using api = await startL402Server(lightning);
    await writeFile(dir.join('nwc-uri'), service.uri, { mode: 0o600 });
    const worker = spawn(process.execPath, ['--import', 'tsx', 'test/shared-state/pay-worker.ts'], {
      env: { ...process.env, PG_URL: db.server.adminUrl, API_PORT: String(api.port), NWC_URI_FILE: dir.join('nwc-uri') },
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    await once(worker.stdout, 'data');
    // Wait until the wallet service has the payment request: the worker is mid-payment.
    for (let i = 0; i < 100 && service.requests === 0; i++) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(service.requests).toBe(1);
    worker.kill('SIGKILL');
    await once(worker, 'exit');
    service.close();

    const { rows: entries } = await db.pool.query<{ used_msat: string | null }>("SELECT used_msat FROM portcullis.spend_leases WHERE owner = 'crash-fleet'");
    expect(entries).toEqual([{ used_msat: null }]); // the lease is never given back: it counts in full
    const { rows: pending } = await db.pool.query<{ id: string }>("SELECT id FROM portcullis.credentials WHERE id LIKE 'pending:%'");
    expect(pending).toHaveLength(1);

    // Another process: same database, same key, the wallet's lookup finds the payment went through.
    const store = await postgresCredentialStore({ pool: db.pool, key: new Uint8Array(32).fill(4) });
    const spend = await postgresSpendLedger({ pool: db.pool, owner: 'crash-fleet' });
    await using net = await testFetch({ allowedPorts: [api.port] });
    const payer = createL402Payer({ fetch: net.fetch, spend, wallet: lightning.wallet(), store });
    const paymentsBefore = lightning.payments;
    const response = await payer.resume(pending[0]?.id ?? '');
    expect(await response.text()).toBe('paid:GET /paid/crash');
    expect(lightning.payments).toBe(paymentsBefore);
    expect(await store.get(pending[0]?.id ?? '')).toBeUndefined();
  });
});
