import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { verifyPostgresAudit } from '../../src/shared-state/index.js';
import { startL402Server } from '../helpers/l402-server.js';
import { fakeLightning } from '../helpers/lightning.js';
import { startRelay } from '../helpers/nostr-relay.js';
import { startNwcService } from '../helpers/nwc-service.js';
import { tempDir } from '../helpers/temp-dir.js';
import { useTestDatabase } from './database.js';

const db = useTestDatabase();

const WORKERS = 8;
const CALLS = 3;
const INVOICE_MSAT = 10_000; // the L402 server's price
const CAP_SATS = 100; // 8 x 3 x 10 sats = 240 sats tried

interface WorkerResult {
  worker: number;
  outcomes: string[];
  warnings: string[];
}

describe('a fleet of 8 gateway processes on shared PostgreSQL state', () => {
  it('pays through pay.fetch with a real NWC wallet, never over the shared cap, and audits each payment once into one verified chain', async () => {
    await using dir = await tempDir();
    await using relay = await startRelay();
    const lightning = fakeLightning();
    const service = await startNwcService(relay.url, lightning);
    await using api = await startL402Server(lightning);
    await writeFile(dir.join('nwc-uri'), service.uri, { mode: 0o600 });
    const key = randomBytes(32).toString('base64');
    // One 1-sat invoice per worker, paid by the worker before the race to warm its NWC connection.
    const warm = Array.from({ length: WORKERS }, () => lightning.createInvoice({ amountMsat: 1000 }));
    const schema = 'fleet';

    const workers = Array.from({ length: WORKERS }, (_, worker) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'test/shared-state/fleet-worker.ts'], {
        env: {
          ...process.env,
          PG_URL: db.server.adminUrl,
          API_PORT: String(api.port),
          NWC_URI_FILE: dir.join('nwc-uri'),
          FLEET_KEY: key,
          SCHEMA: schema,
          WARM_INVOICE: warm[worker]?.bolt11,
          WORKER: String(worker),
          CALLS: String(CALLS),
          CAP_SATS: String(CAP_SATS),
          USE_POOL: worker % 2 === 0 ? '1' : '0',
        },
        stdio: ['pipe', 'pipe', 'inherit'],
      });
      const lines = createInterface({ input: child.stdout });
      const ready = new Promise<void>((resolve, reject) => {
        lines.once('line', (line) => (line === 'ready' ? resolve() : reject(new Error(`worker ${worker}: ${line}`))));
        child.once('exit', (code) => reject(new Error(`worker ${worker} exited with ${code} before ready`)));
      });
      const result = new Promise<WorkerResult>((resolve, reject) => {
        lines.on('line', (line) => {
          if (line.startsWith('{')) resolve(JSON.parse(line) as WorkerResult);
        });
        child.once('exit', (code) => reject(new Error(`worker ${worker} exited with ${code} without a result`)));
      });
      result.catch(() => undefined);
      return { child, ready, result };
    });
    try {
      await Promise.all(workers.map((w) => w.ready));
      for (const invoice of warm) expect(lightning.isPaid(invoice.paymentHash)).toBe(true);
      const warmedUp = lightning.payments;
      for (const w of workers) w.child.stdin.end('go\n'); // all start paying together
      const results = await Promise.all(workers.map((w) => w.result));
      await Promise.all(workers.map((w) => (w.child.exitCode === null ? once(w.child, 'exit') : Promise.resolve())));

      const outcomes = results.flatMap((r) => r.outcomes);
      expect(outcomes).toHaveLength(WORKERS * CALLS);
      expect(outcomes.filter((o) => o !== 'paid' && o !== 'SPEND_LIMIT_EXCEEDED')).toEqual([]);
      const paid = outcomes.filter((o) => o === 'paid').length;
      // The money side: what the Lightning network paid, never over the fleet's cap.
      expect((lightning.payments - warmedUp) * INVOICE_MSAT).toBeLessThanOrEqual(CAP_SATS * 1000);
      expect(lightning.payments - warmedUp).toBe(paid);
      expect(paid).toBeGreaterThanOrEqual(1);
      expect(outcomes.filter((o) => o === 'SPEND_LIMIT_EXCEEDED').length).toBe(WORKERS * CALLS - paid);

      // One chain for the fleet, verified, with each payment in it exactly once.
      const verdict = await verifyPostgresAudit({ pool: db.pool, schema, stream: 'fleet' });
      expect(verdict.ok).toBe(true);
      const { rows } = await db.pool.query<{ line: string }>(`SELECT line FROM ${schema}.audit_records WHERE stream = 'fleet' ORDER BY seq`);
      const records = rows.map((row) => JSON.parse(row.line) as { tool: string; decision: string; error_code: string | null; details?: Record<string, unknown> });
      const payments = records.filter((r) => r.tool === 'pay.payment' && r.details?.outcome === 'paid');
      expect(payments).toHaveLength(paid);
      const hashes = payments.map((r) => String(r.details?.payment_hash));
      expect(new Set(hashes).size).toBe(hashes.length);
      for (const hash of hashes) expect(lightning.isPaid(hash)).toBe(true);
      const calls = records.filter((r) => r.tool === 'pay.fetch');
      expect(calls).toHaveLength(WORKERS * CALLS);
      expect(calls.filter((r) => r.decision === 'allow')).toHaveLength(paid);
      expect(calls.filter((r) => r.error_code === 'SPEND_LIMIT_EXCEEDED')).toHaveLength(WORKERS * CALLS - paid);
      // No secret in the audit chain.
      const text = rows.map((row) => row.line).join('\n');
      for (const preimage of lightning.preimages()) expect(text).not.toContain(preimage);
    } finally {
      for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
      service.close();
    }
  }, 240_000);
});
