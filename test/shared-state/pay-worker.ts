// A worker process for the kill -9 test: pays an L402 API through the shared ledger and the
// shared credential store with an NWC wallet that never answers. Started and killed by
// crash.test.ts, never on its own.
import pg from 'pg';
import { createGuardedFetch } from '../../src/net/fetch.js';
import { createL402Payer } from '../../src/pay/l402-payer.js';
import { nwcWallet } from '../../src/pay/wallets/nwc.js';
import { postgresCredentialStore, postgresSpendLedger } from '../../src/shared-state/index.js';

const env = process.env as Record<string, string>;
const pool = new pg.Pool({ connectionString: env.PG_URL, max: 4 });
pool.on('error', () => undefined);
const spend = await postgresSpendLedger({ pool, owner: 'crash-fleet' });
const store = await postgresCredentialStore({ pool, key: new Uint8Array(32).fill(4) });
const port = Number(env.API_PORT);
const fetch = createGuardedFetch({ allowedDomains: ['api.test'], allowedPorts: [port], allowNetworks: ['127.0.0.1/32'], resolver: () => Promise.resolve([{ address: '127.0.0.1', family: 4 }]) });
const wallet = await nwcWallet({ uriFile: env.NWC_URI_FILE });
const payer = createL402Payer({ fetch, spend, wallet, store, paymentTimeoutMs: 600_000 });
process.stdout.write('ready\n');
await payer.fetch(`http://api.test:${port}/paid/crash`); // never returns: the test kills us while the wallet "pays"
