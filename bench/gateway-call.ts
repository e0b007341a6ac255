// gw.call on a no-op host tool (audit on, to a real file) versus a baseline loop doing the
// irreducible work inline: zod parse of the same schema, canonical JSON + SHA-256 of the
// args, and building the JSON audit line. Rounds alternate so that both see the same machine.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { hashArgs } from '../src/audit/canonical-json.js';
import { createGateway, defineTool } from '../src/index.js';
import { fmt, median, opsPerSecond, percentile, reportRatio } from './stats.js';

const CALLS = Number(process.env.BENCH_CALLS ?? 20_000);
const ROUNDS = 5;

const schema = z.object({ id: z.number().int(), name: z.string().max(100), tags: z.array(z.string()).max(10) });
const args = { id: 42, name: 'widget', tags: ['a', 'b', 'c'] };

const dir = await mkdtemp(join(tmpdir(), 'portcullis-bench-'));
const gw = await createGateway({ policy: { allowTools: ['bench.*'] }, audit: { file: join(dir, 'audit.jsonl') } });
gw.register(defineTool({ name: 'bench.noop', description: 'Does nothing.', inputSchema: schema, execute: () => null }));

function baselineOnce(i: number): string {
  const parsed = schema.parse(args);
  const line = JSON.stringify({
    timestamp: new Date().toISOString(),
    request_id: `req-${i}`,
    tool: 'bench.noop',
    actor: 'bench',
    args_sha256: hashArgs(args),
    decision: 'allow',
    reason: 'allowed by allowTools "bench.*"',
    duration_ms: 0,
    result_bytes: parsed.id > 0 ? 4 : 0,
    error_code: null,
  });
  return `${line}\n`;
}

const latenciesMs: number[] = [];
async function gatewayRound(record: boolean): Promise<void> {
  for (let i = 0; i < CALLS; i++) {
    const started = record ? process.hrtime.bigint() : 0n;
    await gw.call('bench.noop', args, { actor: 'bench' });
    if (record) latenciesMs.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
}

let sink = 0;
async function baselineRound(): Promise<void> {
  for (let i = 0; i < CALLS; i++) sink += baselineOnce(i).length;
  await Promise.resolve();
}

// Warm up both paths (JIT, file open).
await baselineRound();
await gatewayRound(false);

const baseline: number[] = [];
const gateway: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  baseline.push(await opsPerSecond(CALLS, baselineRound));
  gateway.push(await opsPerSecond(CALLS, () => gatewayRound(round === ROUNDS - 1)));
}
await gw.close();
await rm(dir, { recursive: true, force: true });

const baselineOps = median(baseline);
const gatewayOps = median(gateway);
console.log(`gateway-call: ${CALLS} calls x ${ROUNDS} rounds (median), audit to a file with fdatasync per batch`);
console.log(`  baseline (zod + canonical SHA-256 + JSON line): ${fmt(baselineOps)} calls/s`);
console.log(`  gw.call (validate, policy, timeout, audit):     ${fmt(gatewayOps)} calls/s`);
console.log(`  gw.call latency: p50 ${percentile(latenciesMs, 50).toFixed(3)} ms, p99 ${percentile(latenciesMs, 99).toFixed(3)} ms`);
reportRatio('  ratio gateway/baseline', gatewayOps / baselineOps, 0.8);
if (sink === 0) console.log('');
