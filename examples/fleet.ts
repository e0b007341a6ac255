// One member of a fleet: every process running this shares one budget, one credential store
// (paid credentials, pending payments), one audit chain and one set of rate limits on
// PostgreSQL. Needs a database (PORTCULLIS_STATE_URL), the fleet's key and an NWC wallet.
import { createGateway } from 'portcullis';
import { nwcWallet } from 'portcullis/pay';
import { keyFile } from 'portcullis/store';

// The same 32-byte key on every machine (base64 text or 32 raw bytes), put there by your secret
// manager: a missing file is CONFIG_INVALID, never a new key. In containers: envKey().
const keyProvider = keyFile('/etc/portcullis/store.key');
const wallet = await nwcWallet({ uriFile: '/run/secrets/nwc-uri' });

const gw = await createGateway(
  {
    // Or { pool } with your own pg.Pool (then the gateway never ends it).
    sharedState: { connectionString: process.env.PORTCULLIS_STATE_URL ?? 'postgres://portcullis@127.0.0.1/portcullis', owner: 'team-a', auditStream: 'team-a' },
    policy: { allowTools: ['pay.fetch'], perTool: { 'pay.fetch': { rateLimit: { maxCalls: 60, windowMs: 60_000 } } } },
    connectors: { http: { allowedDomains: ['api.example.com'] } },
    payments: { maxAutoPaySats: 100, maxSpendPerMinuteSats: 10_000 }, // for the whole fleet of owner team-a
  },
  { wallet, keyProvider },
);
try {
  const result = await gw.call('pay.fetch', { url: 'https://api.example.com/v1/report' }, { actor: 'agent-1' });
  console.log(result);
  console.log(`spent by the fleet in the last minute: ${(await gw.spend.spentLastMinuteMsat()) / 1000} sats`);
} finally {
  await gw.close(); // flushes the audit chain, then ends the pool the gateway made
  await wallet.close();
}
