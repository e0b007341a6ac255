// A worker process of the fleet test: one gateway on shared PostgreSQL state calling the
// pay.fetch tool against the local L402 server with a real NWC wallet over the local relay.
// Started by fleet.test.ts, never on its own. Prints "ready", waits for "go" on stdin, makes
// its calls, prints one JSON line of outcomes, closes the gateway (flushing the audit) and exits.
import { once } from 'node:events';
import pg from 'pg';
import { createGateway } from '../../src/index.js';
import { nwcWallet } from '../../src/pay/wallets/nwc.js';
import { envKey } from '../../src/store/index.js';

const env = process.env as Record<string, string>;
const worker = Number(env.WORKER);
const calls = Number(env.CALLS);
const port = Number(env.API_PORT);
// Half the fleet passes its own pool (and ends it), half lets the gateway make one.
const pool = env.USE_POOL === '1' ? new pg.Pool({ connectionString: env.PG_URL, max: 4 }) : undefined;
pool?.on('error', () => undefined);
const warnings: string[] = [];
const wallet = await nwcWallet({ uriFile: env.NWC_URI_FILE });
// Warm the NWC connection up before the race (relay connection, the wallet's info event,
// the encryption): pay this worker's own 1-sat invoice, once, outside the gateway's budget.
await wallet.payInvoice({ invoice: env.WARM_INVOICE ?? '', maxFeeMsat: 0, signal: AbortSignal.timeout(60_000) });
const gw = await createGateway(
  {
    sharedState: { ...(pool === undefined ? { connectionString: env.PG_URL } : { pool }), schema: env.SCHEMA, owner: 'fleet', auditStream: 'fleet' },
    policy: { allowTools: ['pay.fetch'] },
    connectors: { http: { allowedDomains: ['api.test'], allowedPorts: [port], allowNetworks: ['127.0.0.1/32'] } },
    payments: { maxSpendPerMinuteSats: Number(env.CAP_SATS), maxFeeSats: 1, paymentTimeoutMs: 60_000 },
  },
  {
    keyProvider: envKey('FLEET_KEY'),
    wallet,
    resolver: (hostname) => (hostname === 'api.test' ? Promise.resolve([{ address: '127.0.0.1', family: 4 }]) : Promise.reject(new Error(`ENOTFOUND ${hostname}`))),
    logger: { warn: (message) => warnings.push(message) },
  },
);
process.stdout.write('ready\n');
process.stdin.setEncoding('utf8');
await once(process.stdin, 'data');

const outcomes: string[] = [];
const call = async (n: number): Promise<void> => {
  try {
    const result = await gw.call<{ status: number; body: string }>('pay.fetch', { url: `http://api.test:${port}/w${worker}-${n}` }, { actor: `worker-${worker}` });
    outcomes.push(result.status === 200 && result.body === `paid:GET /w${worker}-${n}` ? 'paid' : `status-${result.status}`);
  } catch (error) {
    outcomes.push((error as { code?: string }).code ?? 'crash');
  }
};
// With its own pool (4 connections) two calls at a time; otherwise one after another.
const lanes = pool === undefined ? 1 : 2;
await Promise.all(Array.from({ length: lanes }, async (_, lane) => {
  for (let n = lane; n < calls; n += lanes) await call(n);
}));
await gw.close();
await pool?.end();
process.stdout.write(`${JSON.stringify({ worker, outcomes, warnings })}\n`);
process.exit(0);
