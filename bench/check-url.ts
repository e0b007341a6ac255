// checkUrl on IP-literal URLs (no DNS): an allowed public address and a refused private one,
// with the options object reused (its compiled policy is cached). Also prints the same-run rate
// of `new URL()` alone on the same strings, the floor of any check that parses the URL.
import { checkUrl, type CheckUrlOptions } from '../src/net/index.js';
import { fmt, median, opsPerSecond, reportRatio } from './stats.js';

const CHECKS = Number(process.env.BENCH_CHECKS ?? 200_000);
const ROUNDS = 5;
const options: CheckUrlOptions = { allowedDomains: ['93.184.216.34', '127.0.0.1'] };
const allowedUrl = 'https://93.184.216.34/api/v1/items?page=2';
const blockedUrl = 'http://127.0.0.1:80/admin';

let sink = 0;
async function run(url: string): Promise<void> {
  for (let i = 0; i < CHECKS; i++) if ((await checkUrl(url, options)).allowed) sink += 1;
}
async function parseOnly(): Promise<void> {
  for (let i = 0; i < CHECKS; i++) sink += new URL(allowedUrl).hostname.length;
  await Promise.resolve();
}

const blockedVerdict = await checkUrl(blockedUrl, options);
if ((await checkUrl(allowedUrl, options)).allowed !== true || blockedVerdict.code !== 'SSRF_BLOCKED') throw new Error('unexpected verdicts');
await run(allowedUrl);
await run(blockedUrl);
const allowed: number[] = [];
const blocked: number[] = [];
const parsed: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  allowed.push(await opsPerSecond(CHECKS, () => run(allowedUrl)));
  blocked.push(await opsPerSecond(CHECKS, () => run(blockedUrl)));
  parsed.push(await opsPerSecond(CHECKS, parseOnly));
}
console.log(`check-url: ${CHECKS} checks x ${ROUNDS} rounds (median), IP literals, no DNS`);
console.log(`  new URL() alone:               ${fmt(median(parsed))} /s`);
console.log(`  checkUrl, public IP (allowed): ${fmt(median(allowed))} /s`);
console.log(`  checkUrl, 127.0.0.1 (refused): ${fmt(median(blocked))} /s`);
reportRatio('  ratio checkUrl(allowed)/new URL()', median(allowed) / median(parsed), 0.5);
console.log(`  checkUrl on an IP literal: ${(median(allowed) / 1e6).toFixed(2)}M/s (target >= 1.5M/s) ${median(allowed) >= 1.5e6 ? 'PASS' : 'BELOW TARGET'}`);
if (sink < 0) console.log('');
