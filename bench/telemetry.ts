// gw.call with OpenTelemetry (the SDK registered: a span per call through a batch processor,
// counters and a histogram) versus the same gateway without it (`deps.telemetry: false`), on
// the same tool, the same args and the same audit file. Calls interleave in small blocks so
// both see the same machine. Target: instrumented >= 0.9x uninstrumented.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { context, metrics, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, BatchSpanProcessor, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { z } from 'zod';
import { createGateway, defineTool, type Gateway } from '../src/index.js';
import { fmt, median, reportRatio } from './stats.js';

const CALLS = Number(process.env.BENCH_CALLS ?? 20_000);
const ROUNDS = 5;

// An exporter that counts and drops: the cost measured is the gateway's, not a network's.
let exported = 0;
const exporter: SpanExporter = {
  export(batch: ReadableSpan[], done) {
    exported += batch.length;
    done({ code: 0 });
  },
  shutdown: () => Promise.resolve(),
};
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
const tracerProvider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(exporter)] });
trace.setGlobalTracerProvider(tracerProvider);
const meterProvider = new MeterProvider({ readers: [new PeriodicExportingMetricReader({ exporter: new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE), exportIntervalMillis: 60_000 })] });
metrics.setGlobalMeterProvider(meterProvider);

const schema = z.object({ id: z.number().int(), name: z.string().max(100), tags: z.array(z.string()).max(10) });
const args = { id: 42, name: 'widget', tags: ['a', 'b', 'c'] };
const dir = await mkdtemp(join(tmpdir(), 'portcullis-bench-'));

async function gateway(telemetry: boolean, file: string): Promise<Gateway> {
  const gw = await createGateway({ policy: { allowTools: ['bench.*'] }, audit: { file: join(dir, file) } }, { telemetry });
  gw.register(defineTool({ name: 'bench.noop', description: 'Does nothing.', inputSchema: schema, execute: () => null }));
  return gw;
}
const plain = await gateway(false, 'plain.jsonl');
const traced = await gateway(true, 'traced.jsonl');

async function block(gw: Gateway, calls: number): Promise<number> {
  const started = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) await gw.call('bench.noop', args, { actor: 'bench' });
  return Number(process.hrtime.bigint() - started) / 1e9;
}

/**
 * One round: blocks of 250 calls, alternating which gateway goes first, time summed per
 * gateway. Interleaving this finely cancels the machine's drift (other processes, GC, the
 * audit writer's fsyncs) that whole rounds one after the other pick up.
 */
async function round(): Promise<[number, number]> {
  let plainS = 0;
  let tracedS = 0;
  for (let done = 0, b = 0; done < CALLS; done += 250, b++) {
    if (b % 2 === 0) {
      plainS += await block(plain, 250);
      tracedS += await block(traced, 250);
    } else {
      tracedS += await block(traced, 250);
      plainS += await block(plain, 250);
    }
  }
  return [CALLS / plainS, CALLS / tracedS];
}

await round(); // warm up both (JIT, file open)
const plainOps: number[] = [];
const tracedOps: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  const [p, t] = await round();
  plainOps.push(p);
  tracedOps.push(t);
}
await Promise.all([plain.close(), traced.close()]);
await tracerProvider.forceFlush();
await Promise.all([tracerProvider.shutdown(), meterProvider.shutdown()]);
await rm(dir, { recursive: true, force: true });

console.log(`telemetry: ${CALLS} calls x ${ROUNDS} rounds (median), audit to a file; ${exported} spans exported`);
console.log(`  gw.call without telemetry:             ${fmt(median(plainOps))} calls/s`);
console.log(`  gw.call with OpenTelemetry (SDK on):   ${fmt(median(tracedOps))} calls/s`);
reportRatio('  ratio instrumented/uninstrumented', median(tracedOps) / median(plainOps), 0.9);
