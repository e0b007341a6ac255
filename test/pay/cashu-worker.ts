// A worker process for the kill -9 test: sends ecash from a wallet on the file credential store
// while the mint holds its answer. Started and killed by cashu-crash.test.ts, never on its own.
import { createGuardedFetch } from '../../src/net/fetch.js';
import { cashuWallet } from '../../src/pay/wallets/cashu/wallet.js';
import { createCredentialStore, injectedKey } from '../../src/store/index.js';

const env = process.env as Record<string, string>;
const port = Number(env.MINT_PORT);
const store = await createCredentialStore({ dir: env.STORE_DIR ?? '', keyProvider: injectedKey(new Uint8Array(32).fill(7)), confineTo: env.CONFINE_TO });
const fetch = createGuardedFetch({ allowedDomains: ['mint.test'], allowedPorts: [port], allowNetworks: ['127.0.0.1/32'], resolver: () => Promise.resolve([{ address: '127.0.0.1', family: 4 }]) });
const wallet = cashuWallet({ mints: [`http://mint.test:${port}`], store, fetch, timeoutMs: 600_000 });
process.stdout.write('ready\n');
await wallet.send(10); // never returns: the mint holds the answer and the test kills us
