import { createL402Payer, type L402PayerOptions, type PaymentEvent } from '../../src/pay/l402-payer.js';
import { createSpendTracker, type SpendTrackerOptions } from '../../src/pay/spend-tracker.js';
import { createCredentialStore, injectedKey } from '../../src/store/index.js';
import { startL402Server, type L402Knobs } from '../helpers/l402-server.js';
import { fakeLightning, type WalletKnobs } from '../helpers/lightning.js';
import { tempDir } from '../helpers/temp-dir.js';
import { testFetch, testZone } from '../net/setup.js';

/** The test zone, answering for fully qualified names too (`api.test.` as `api.test`), as DNS does. */
export function fqdnZone(): ReturnType<typeof testZone> {
  const zone = testZone();
  const resolver = (hostname: string, options: { signal?: AbortSignal | undefined }) => zone(hostname.endsWith('.') ? hostname.slice(0, -1) : hostname, options);
  return Object.assign(resolver, { lookups: zone.lookups });
}

/** A payer wired to a local L402 server, the fake Lightning network and an encrypted store. */
export async function payRig(options: { knobs?: L402Knobs; wallet?: WalletKnobs; spend?: SpendTrackerOptions; payer?: Partial<L402PayerOptions> } = {}) {
  const lightning = fakeLightning();
  const server = await startL402Server(lightning, options.knobs);
  const dir = await tempDir('portcullis-pay-');
  const net = await testFetch({ allowedPorts: [server.port], resolver: fqdnZone() });
  const store = await createCredentialStore({ dir: dir.join('store'), keyProvider: injectedKey(new Uint8Array(32).fill(3)), confineTo: dir.path });
  const wallet = lightning.wallet(options.wallet);
  const spend = createSpendTracker({ maxAutoPaySats: 100, maxSpendPerMinuteSats: 1000, ...options.spend });
  const events: PaymentEvent[] = [];
  const payer = createL402Payer({ fetch: net.fetch, spend, wallet, store, paymentTimeoutMs: 300, onEvent: (e) => events.push(e), ...options.payer });
  return {
    lightning,
    server,
    wallet,
    spend,
    store,
    payer,
    events,
    url: (path = '/paid/item') => `http://api.test:${server.port}${path}`,
    async [Symbol.asyncDispose]() {
      await net[Symbol.asyncDispose]();
      await server.close();
      await dir[Symbol.asyncDispose]();
    },
  };
}
