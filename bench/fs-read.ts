// fs.readFile of a 4 KiB file through gw.call (audit on) versus fs.promises.readFile of the
// same file. The extra realpath, lstat, O_NOFOLLOW open and fstat are the price of containment.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGateway } from '../src/index.js';
import { fmt, median, opsPerSecond, reportRatio } from './stats.js';

const READS = Number(process.env.BENCH_READS ?? 10_000);
const ROUNDS = 5;

const dir = await mkdtemp(join(tmpdir(), 'portcullis-bench-fs-'));
await mkdir(join(dir, 'data/docs'), { recursive: true });
const file = join(dir, 'data/docs/page.txt');
await writeFile(file, 'x'.repeat(4096));
const gw = await createGateway({
  policy: { allowTools: ['fs.readFile'] },
  audit: { file: join(dir, 'audit.jsonl') },
  connectors: { filesystem: { allowedPaths: [join(dir, 'data')], deniedPaths: [join(dir, 'data/secrets')] } },
});

let bytes = 0;
async function raw(): Promise<void> {
  for (let i = 0; i < READS; i++) bytes += (await readFile(file, 'utf8')).length;
}
async function guarded(): Promise<void> {
  for (let i = 0; i < READS; i++) bytes += (await gw.call<{ content: string }>('fs.readFile', { path: 'docs/page.txt' })).content.length;
}

await raw();
await guarded();
const rawRates: number[] = [];
const guardedRates: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  rawRates.push(await opsPerSecond(READS, raw));
  guardedRates.push(await opsPerSecond(READS, guarded));
}
await gw.close();
await rm(dir, { recursive: true, force: true });
console.log(`fs-read: ${READS} reads of a 4 KiB file x ${ROUNDS} rounds (median), ${fmt(bytes / 1e6, 1)} MB read in all`);
console.log(`  fs.promises.readFile:          ${fmt(median(rawRates))} reads/s`);
console.log(`  gw.call('fs.readFile'), audit: ${fmt(median(guardedRates))} reads/s`);
reportRatio('  ratio gateway/raw', median(guardedRates) / median(rawRates), 0.6);
