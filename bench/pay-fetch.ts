// pay.fetch with a cached credential versus gw.fetch sending the same Authorization header,
// against the same local L402 server, 16 requests in flight; rounds alternate, median kept.
import { createGuardedFetch, type Resolver } from '../src/net/index.js';
import { createL402Payer } from '../src/pay/l402-payer.js';
import { createSpendTracker } from '../src/pay/spend-tracker.js';
import { startL402Server } from '../test/helpers/l402-server.js';
import { fakeLightning } from '../test/helpers/lightning.js';
import { fmt, inFlight, median, opsPerSecond, reportRatio } from './stats.js';

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 5000);
const CONCURRENCY = 16;
const ROUNDS = 5;

const lightning = fakeLightning();
const server = await startL402Server(lightning);
const resolver: Resolver = () => Promise.resolve([{ address: '127.0.0.1', family: 4 }]);
const fetch = createGuardedFetch({ allowedDomains: ['api.test'], allowedPorts: [server.port], allowNetworks: ['127.0.0.1/32'], resolver, connectionsPerOrigin: CONCURRENCY });
const payer = createL402Payer({ fetch, spend: createSpendTracker(), wallet: lightning.wallet() });
const url = `http://api.test:${server.port}/paid/item`;

// Pay once, then read the credential the server accepted off its last request.
await (await payer.fetch(url)).text();
const authorization = server.requests.at(-1)?.headers.authorization ?? '';
server.requests.length = 0; // the server keeps requests; do not let them pile up during the run

async function load(one: () => Promise<void>): Promise<void> {
  await inFlight(REQUESTS, CONCURRENCY, one);
  server.requests.length = 0;
}
const plain = async (): Promise<void> => void (await (await fetch(url, { headers: { authorization } })).text());
const paid = async (): Promise<void> => void (await (await payer.fetch(url)).text());

await load(plain);
await load(paid);
const plainRates: number[] = [];
const paidRates: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  const order: [number[], () => Promise<void>][] = round % 2 === 0 ? [[plainRates, plain], [paidRates, paid]] : [[paidRates, paid], [plainRates, plain]];
  for (const [rates, one] of order) rates.push(await opsPerSecond(REQUESTS, () => load(one)));
}
await fetch.close();
await server.close();
console.log(`pay-fetch: ${REQUESTS} requests x ${ROUNDS} rounds (median), ${CONCURRENCY} in flight, payments made: ${lightning.payments}`);
console.log(`  gw.fetch with the Authorization header: ${fmt(median(plainRates))} req/s`);
console.log(`  pay.fetch with the cached credential:   ${fmt(median(paidRates))} req/s`);
reportRatio('  ratio pay.fetch / gw.fetch', median(paidRates) / median(plainRates), 0.9);
