// Durable writes/s (fsync of file and directory, atomic rename) with 10, 1,000 and 5,000
// credentials stored, 16 writers at a time; the longest event-loop stall while writing; and
// that reading a credential rewrites nothing.
import { open, readdir, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createCredentialStore, injectedKey } from '../src/store/index.js';
import { tempDir } from '../test/helpers/temp-dir.js';
import { fmt } from './stats.js';

const WRITES = Number(process.env.BENCH_WRITES ?? 1000);
const CONCURRENCY = 16;
const PREIMAGE = 'ab'.repeat(32);
const record = (i: number) => ({ kind: 'l402', origin: `https://api-${i}.example`, token: 'AgEEbHNhdA'.repeat(20), preimage: PREIMAGE });

// The same machine's noise floor: plain durable writes (write, fsync, rename) of the same size,
// with no encryption or store logic, under the same concurrency.
{
  await using dir = await tempDir('portcullis-bench-store-');
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  let next = 0;
  const bytes = Buffer.from(JSON.stringify(record(0)));
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < WRITES) {
        const i = next++;
        const handle = await open(join(dir.path, `${i}.tmp`), 'w');
        await handle.writeFile(bytes);
        await handle.sync();
        await handle.close();
        await rename(join(dir.path, `${i}.tmp`), join(dir.path, `${i % 100}.cred`));
      }
    }),
  );
  delay.disable();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  console.log(`baseline (plain write + fsync + rename): ${fmt(WRITES / seconds)} writes/s, longest event-loop stall ${(delay.max / 1e6).toFixed(1)} ms`);
}

for (const stored of [10, 1000, 5000]) {
  await using dir = await tempDir('portcullis-bench-store-');
  const store = await createCredentialStore({ dir: join(dir.path, 'store'), keyProvider: injectedKey(new Uint8Array(32).fill(1)), confineTo: dir.path });
  for (let i = 0; i < stored; i += CONCURRENCY) await Promise.all(Array.from({ length: Math.min(CONCURRENCY, stored - i) }, (_, j) => store.put(`id-${i + j}`, record(i + j))));
  for (let i = 0; i < 200; i++) await store.put(`warm-${i % 4}`, record(i)); // JIT and file cache, before measuring
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < WRITES) {
        const i = next++;
        await store.put(`id-${i % stored}`, record(i));
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  delay.disable();
  // Reading must not rewrite: the directory's newest mtime stays put across 100 reads.
  const newest = async (): Promise<number> => Math.max(...(await Promise.all((await readdir(store.dir)).map(async (f) => (await stat(join(store.dir, f))).mtimeMs))));
  const before = await newest();
  for (let i = 0; i < 100; i++) await store.get(`id-${i % stored}`);
  const rewrote = (await newest()) !== before;
  const stallMs = delay.max / 1e6;
  console.log(
    `credential-store, ${fmt(stored)} stored: ${fmt(WRITES / seconds)} durable writes/s (target >= 300 at 5,000), ` +
      `longest event-loop stall ${stallMs.toFixed(1)} ms (target < 5; compare the baseline), reads rewrote the store: ${rewrote ? 'YES' : 'no'}`,
  );
}
