// Guarded fetch versus raw undici.request with a plain Agent, against the same loopback
// server (in a child process, so client and server do not share a core's time slices),
// 16 requests in flight, 10k requests per round; rounds alternate and the median is kept.
// Also: checkUrl on IP literals and on host names whose DNS answer is at hand.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { Agent, fetch as undiciFetch, request } from 'undici';
import { checkUrl, createGuardedAgent, createGuardedFetch, type Resolver } from '../src/net/index.js';
import { fmt, inFlight, median, opsPerSecond, reportRatio } from './stats.js';

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 10_000);
const CONCURRENCY = 16;
const ROUNDS = 5;

const SERVER = `
const http = require('node:http');
const body = JSON.stringify({ ok: true, items: Array.from({ length: 8 }, (_, i) => ({ id: i, name: 'item-' + i })) });
const server = http.createServer((req, res) => { res.setHeader('content-type', 'application/json'); res.end(body); });
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
`;
const child = spawn(process.execPath, ['-e', SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
const [portLine] = (await once(child.stdout, 'data')) as [Buffer];
const port = Number(portLine.toString().trim());

const resolver: Resolver = () => Promise.resolve([{ address: '127.0.0.1', family: 4 }]);
const policy = { allowedDomains: ['bench.test'], allowedPorts: [port], allowNetworks: ['127.0.0.1/32'], resolver };
const plain = new Agent({ connections: CONCURRENCY });
const guardedAgent = createGuardedAgent({ ...policy, connectionsPerOrigin: CONCURRENCY });
const guarded = createGuardedFetch({ ...policy, connectionsPerOrigin: CONCURRENCY });
const rawUrl = `http://127.0.0.1:${port}/items`;
const guardedUrl = `http://bench.test:${port}/items`;

const load = (one: () => Promise<void>): Promise<void> => inFlight(REQUESTS, CONCURRENCY, one);

const contenders: Record<string, () => Promise<void>> = {
  raw: async () => {
    const res = await request(rawUrl, { dispatcher: plain });
    await res.body.text();
  },
  pinnedRequest: async () => {
    const res = await request(guardedUrl, { dispatcher: guardedAgent });
    await res.body.text();
  },
  undiciFetch: async () => {
    const res = await undiciFetch(rawUrl, { dispatcher: plain });
    await res.text();
  },
  guardedRequest: async () => {
    const res = await guarded.request(guardedUrl);
    await res.body.text();
  },
  guardedFetch: async () => {
    const res = await guarded(guardedUrl);
    await res.text();
  },
};

// Each comparison runs in its own phase, its two sides alternating round by round, so that
// one contender's garbage (fetch Responses are heavy) is not collected on the other's time.
const results: Record<string, number[]> = {};
const phases: [string, string][] = [
  ['raw', 'guardedRequest'],
  ['raw', 'pinnedRequest'],
  ['undiciFetch', 'guardedFetch'],
];
for (const pair of phases) {
  for (const name of pair) await load(contenders[name] as () => Promise<void>); // warm up: JIT, connections
  for (let round = 0; round < ROUNDS; round++) {
    for (const name of round % 2 === 0 ? pair : [...pair].reverse()) {
      (results[name] ??= []).push(await opsPerSecond(REQUESTS, () => load(contenders[name] as () => Promise<void>)));
    }
  }
}
child.kill();
await Promise.all([plain.close(), guardedAgent.close(), guarded.close()]);

const ops = (name: string): number => median(results[name] ?? []);
console.log(`guarded-fetch: ${REQUESTS} requests x ${ROUNDS} rounds (median), ${CONCURRENCY} in flight, loopback server in a child process`);
console.log(`  raw undici.request, plain Agent:        ${fmt(ops('raw'))} req/s`);
console.log(`  undici.request on the pinned agent:     ${fmt(ops('pinnedRequest'))} req/s`);
console.log(`  undici.fetch, plain Agent:              ${fmt(ops('undiciFetch'))} req/s`);
console.log(`  guarded.request (every check, pinning):  ${fmt(ops('guardedRequest'))} req/s`);
console.log(`  guarded fetch (the same + a Response):  ${fmt(ops('guardedFetch'))} req/s`);
reportRatio('  ratio guarded.request / raw undici.request', ops('guardedRequest') / ops('raw'), 0.9);
reportRatio('  ratio pinned agent / raw undici.request   ', ops('pinnedRequest') / ops('raw'), 0.9);
reportRatio('  ratio guarded fetch / undici.fetch        ', ops('guardedFetch') / ops('undiciFetch'), 0.9);
console.log(`  ratio guarded fetch / raw undici.request:   ${(ops('guardedFetch') / ops('raw')).toFixed(2)}x (a fetch Response costs more than the guard)`);

// checkUrl throughput.
const CHECKS = 300_000;
const literalOptions = { allowedDomains: ['93.184.216.34'] };
const hostOptions = { allowedDomains: ['*.example.com'], resolver: (() => Promise.resolve([{ address: '93.184.216.34', family: 4 }])) as Resolver };
async function checks(url: string, options: typeof literalOptions | typeof hostOptions): Promise<number> {
  const rates: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    rates.push(
      await opsPerSecond(CHECKS, async () => {
        for (let i = 0; i < CHECKS; i++) if (!(await checkUrl(url, options)).allowed) throw new Error('refused');
      }),
    );
  }
  return median(rates);
}
const literalRate = await checks('https://93.184.216.34/v1/items?page=2', literalOptions);
const hostRate = await checks('https://api.example.com/v1/items?page=2', hostOptions);
console.log(`  checkUrl on an IP literal:              ${fmt(literalRate)} checks/s (target >= 1,000,000) ${literalRate >= 1e6 ? 'PASS' : 'BELOW TARGET'}`);
console.log(`  checkUrl on a host name (answer at hand): ${fmt(hostRate)} checks/s`);
