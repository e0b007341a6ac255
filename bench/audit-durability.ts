// audit.durability 'sync' versus the default 'buffered': CALLS gw.call of a trivial tool with
// CONCURRENCY in flight, audit to a JSONL file with fdatasync. 'sync' resolves each call once its
// record is written and fdatasync'ed (group commit: calls waiting together share one sync);
// 'buffered' returns at once and writes within flushIntervalMs (100 ms). Ratio in the same run.
import { open, mkdtemp, rm, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { jsonlFileSink } from '../src/audit/index.js';
import { createGateway, defineTool, type Gateway } from '../src/index.js';
import { fmt, inFlight, median, opsPerSecond } from './stats.js';

const CALLS = Number(process.env.BENCH_CALLS ?? 1000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const ROUNDS = 5;

const dir = await mkdtemp(join(tmpdir(), 'portcullis-bench-audit-'));
const syncs = { buffered: 0, sync: 0 };

async function gateway(durability: 'buffered' | 'sync'): Promise<Gateway> {
  // Counts the fdatasync calls the file sink makes (the real call, on the real file).
  const openFile = async (path: string, flags: string, mode: number): Promise<FileHandle> => {
    const handle = await open(path, flags, mode);
    const datasync = handle.datasync.bind(handle);
    handle.datasync = async () => {
      syncs[durability] += 1;
      await datasync();
    };
    return handle;
  };
  const gw = await createGateway({ policy: { allowTools: ['demo.*'] }, audit: { sinks: [jsonlFileSink({ path: join(dir, `${durability}.jsonl`), openFile })], durability } });
  gw.register(defineTool({ name: 'demo.echo', description: 'x', inputSchema: z.object({ n: z.number() }), execute: ({ n }) => n }));
  return gw;
}

const gws = { buffered: await gateway('buffered'), sync: await gateway('sync') };
const run = (gw: Gateway) => () => inFlight(CALLS, CONCURRENCY, () => gw.call('demo.echo', { n: 1 }));
await run(gws.buffered)();
await run(gws.sync)();
await gws.buffered.audit.flush();
syncs.buffered = 0;
syncs.sync = 0;
const rates = { buffered: [] as number[], sync: [] as number[] };
for (let round = 0; round < ROUNDS; round++) {
  rates.buffered.push(await opsPerSecond(CALLS, run(gws.buffered)));
  await gws.buffered.audit.flush(); // its writes are not left to overlap the sync round
  rates.sync.push(await opsPerSecond(CALLS, run(gws.sync)));
}
await Promise.all([gws.buffered.close(), gws.sync.close()]);
await rm(dir, { recursive: true, force: true });

const buffered = median(rates.buffered);
const sync = median(rates.sync);
console.log(`audit-durability: ${CALLS} gw.call x ${ROUNDS} rounds (median), ${CONCURRENCY} in flight, JSONL file with fdatasync`);
console.log(`  'buffered' (default): ${fmt(buffered)} calls/s, ${fmt(syncs.buffered / ROUNDS, 1)} fdatasyncs per round (records reach the disk up to 100 ms after the call)`);
console.log(`  'sync':               ${fmt(sync)} calls/s, ${fmt(syncs.sync / ROUNDS, 1)} fdatasyncs per round (${fmt((CALLS * ROUNDS) / Math.max(1, syncs.sync), 1)} calls per sync)`);
console.log(`  ratio sync/buffered: ${(sync / buffered).toFixed(3)}x`);
