// A NUT-24 paid request end to end (402, token from the wallet - one swap when no proofs add up
// exactly - the retry with X-Cashu, the seller redeeming at the mint) versus a free request to
// the same server, 8 in flight; rounds alternate, median kept. Also counts the wallet's own
// mint round trips per payment (the seller's redeeming swap is the seller's, not ours).
import { Mint, Wallet, getEncodedToken } from '@cashu/cashu-ts';
import { createGuardedFetch, type GuardedFetch, type Resolver } from '../src/net/index.js';
import { createL402Payer } from '../src/pay/l402-payer.js';
import { createSpendTracker } from '../src/pay/spend-tracker.js';
import { guardedMintRequest } from '../src/pay/wallets/cashu/mint-request.js';
import { cashuWallet } from '../src/pay/wallets/cashu/wallet.js';
import { createCredentialStore, injectedKey } from '../src/store/index.js';
import { startCashuMint } from '../test/helpers/cashu-mint.js';
import { fakeLightning } from '../test/helpers/lightning.js';
import { startNut24Server } from '../test/helpers/nut24-server.js';
import { tempDir } from '../test/helpers/temp-dir.js';
import { fmt, inFlight, median, opsPerSecond } from './stats.js';

const PAYMENTS = Number(process.env.BENCH_PAYMENTS ?? 200);
const CONCURRENCY = 8;
const ROUNDS = 3;
const PRICE_SAT = 10;

const resolver: Resolver = () => Promise.resolve([{ address: '127.0.0.1', family: 4 }]);
const lightning = fakeLightning();
const mint = await startCashuMint(lightning);
const mintUrl = `http://mint.test:${mint.port}`;
const guarded = (ports: number[]): GuardedFetch =>
  createGuardedFetch({ allowedDomains: ['api.test', 'mint.test'], allowedPorts: ports, allowNetworks: ['127.0.0.1/32'], resolver, connectionsPerOrigin: CONCURRENCY });

// Our wallet's mint traffic goes through a counting fetch.
const mintFetch = guarded([mint.port]);
let walletMintCalls = 0;
const counting = Object.assign((input: Parameters<GuardedFetch>[0], init?: Parameters<GuardedFetch>[1]) => ((walletMintCalls += 1), mintFetch(input, init)), {
  request: (input: Parameters<GuardedFetch>[0], init?: Parameters<GuardedFetch>[1]) => mintFetch.request(input, init),
  close: () => mintFetch.close(),
  [Symbol.asyncDispose]: () => mintFetch.close(),
}) as GuardedFetch;

const sellerFetch = guarded([mint.port]);
const server = await startNut24Server({ mints: [mintUrl], amountSat: PRICE_SAT, freePath: '/free' }, guardedMintRequest(sellerFetch, 5000));
const apiFetch = guarded([server.port]);
await using dir = await tempDir('portcullis-bench-cashu-');
const store = await createCredentialStore({ dir: dir.join('store'), keyProvider: injectedKey(new Uint8Array(32).fill(9)), confineTo: dir.path });
const wallet = cashuWallet({ mints: [mintUrl], store, fetch: counting });
const payer = createL402Payer({ fetch: apiFetch, spend: createSpendTracker({ maxSpendPerMinuteSats: 10_000_000 }), cashu: wallet });

// Funding: one token from a stranger, large enough for every payment.
const stranger = new Wallet(new Mint(mintUrl, { customRequest: guardedMintRequest(sellerFetch, 5000) }), { unit: 'sat' });
await stranger.loadMint();
const fundSat = PRICE_SAT * PAYMENTS * (ROUNDS + 2) + 100;
const quote = await stranger.createMintQuoteBolt11(fundSat);
await wallet.receive(getEncodedToken({ mint: mintUrl, unit: 'sat', proofs: await stranger.mintProofsBolt11(fundSat, quote.quote) }));

async function load(one: () => Promise<void>): Promise<void> {
  await inFlight(PAYMENTS, CONCURRENCY, one);
  server.requests.length = 0; // the server keeps requests; do not let them pile up
}
const free = async (): Promise<void> => void (await (await apiFetch(`http://api.test:${server.port}/free`)).text());
const paid = async (): Promise<void> => {
  const response = await payer.fetch(`http://api.test:${server.port}/paid`);
  if (response.status !== 200) throw new Error(`paid request answered ${response.status}`);
  await response.text();
};

await load(free);
await load(paid); // warm-up (keysets loaded, connections open)
const freeRates: number[] = [];
const paidRates: number[] = [];
const callsBefore = walletMintCalls;
const swapsBefore = mint.stats.swaps;
for (let round = 0; round < ROUNDS; round++) {
  const order: [number[], () => Promise<void>][] = round % 2 === 0 ? [[freeRates, free], [paidRates, paid]] : [[paidRates, paid], [freeRates, free]];
  for (const [rates, one] of order) rates.push(await opsPerSecond(PAYMENTS, () => load(one)));
}
const payments = PAYMENTS * ROUNDS;
const walletCalls = walletMintCalls - callsBefore;
const sellerSwaps = payments; // the seller redeems every token with one swap
const walletSwaps = mint.stats.swaps - swapsBefore - sellerSwaps;
// The wallet's share: making and booking out the token alone (a swap at the mint when needed, no HTTP).
const tokenOnly = async (): Promise<void> => {
  const token = await wallet.send(PRICE_SAT, { includeFees: true });
  await wallet.confirm(token.id);
};
const tokenRate = await opsPerSecond(PAYMENTS, () => load(tokenOnly));
const balance = await wallet.balance();
await wallet.close();
await apiFetch.close();
await sellerFetch.close();
await server.close();
await mint.close();

console.log(`cashu-pay: ${PAYMENTS} NUT-24 payments of ${PRICE_SAT} sat x ${ROUNDS} rounds (median), ${CONCURRENCY} in flight`);
console.log(`  free request to the same server:  ${fmt(median(freeRates))} req/s`);
console.log(`  paid request (402, token, retry): ${fmt(median(paidRates))} req/s`);
console.log(`  ratio paid / free: ${(median(paidRates) / median(freeRates)).toFixed(3)}x (no target: a payment is a swap at the mint and the seller's redeeming swap)`);
console.log(`  the wallet's part alone (token made and booked out, no HTTP): ${fmt(tokenRate)} tokens/s`);
console.log(`  wallet mint round trips per payment: ${(walletCalls / payments).toFixed(2)} (swaps: ${(walletSwaps / payments).toFixed(2)}; target <= 1 swap)`);
console.log(`  balance after: ${fmt(balance.availableSat)} sat available, ${balance.pendingSat} pending (funded ${fmt(fundSat)}, spent ${fmt((payments + 2 * PAYMENTS) * PRICE_SAT)} and fees)`);
