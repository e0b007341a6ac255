// gw.call with OpenTelemetry versus the same gateway with `deps.telemetry: false`, in one run,
// on the same tool, args and kind of audit file. Four gateways:
//   - plain:  `deps.telemetry: false` (the baseline);
//   - no SDK: telemetry on by default, created before any SDK is registered (gets no telemetry: zero cost);
//   - hooks alone: created with a minimal tracer provider whose startSpan returns one shared
//             non-recording span: what the gateway's hooks cost without the SDK's work;
//   - SDK:    created after the SDK is registered (a span per call through a BatchSpanProcessor to
//             an exporter that counts and drops, and the counters). This is the instrumented case
//             the goal applies to: instrumented >= 0.9x uninstrumented.
// Each round runs blocks of 50 calls per gateway, the order of the four rotating from block to
// block so all see the same machine; a ratio is taken per round and the median of rounds is
// reported, after a warm-up round of all four. The SDK's own cost per span (startSpan,
// setAttribute, end) and the cost of making the span the active context for the tool
// (context.with) are measured alone, as the floor the hooks cannot go under.
// Then the same comparison (telemetry: false vs SDK registered) on two real tools, whose call
// does I/O as agents' calls do: `fs.readFile` of a 4 KiB file and `http.fetch` of a small JSON
// body from a loopback server in a child process (so client and server do not share a core).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { context, metrics, type Span, SpanKind, trace, type Tracer } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, BatchSpanProcessor, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { z } from 'zod';
import { createGateway, defineTool, type Gateway, type GatewayConfig } from '../src/index.js';
import type { Resolver } from '../src/net/index.js';
import { fmt, median, reportRatio } from './stats.js';

const CALLS = Number(process.env.BENCH_CALLS ?? 10_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const BLOCK = 50;

const schema = z.object({ id: z.number().int(), name: z.string().max(100), tags: z.array(z.string()).max(10) });
const args = { id: 42, name: 'widget', tags: ['a', 'b', 'c'] };
const dir = await mkdtemp(join(tmpdir(), 'portcullis-bench-'));

// The real tools' setup: a 4 KiB file under an allowed root, and a loopback HTTP server reached
// through `allowNetworks` (never by switching the guard off) with an injected resolver.
await mkdir(join(dir, 'data'), { recursive: true });
await writeFile(join(dir, 'data/page.txt'), 'x'.repeat(4096));
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
const realTools: GatewayConfig = {
  policy: { allowTools: ['bench.*', 'fs.readFile', 'http.fetch'] },
  connectors: {
    filesystem: { allowedPaths: [join(dir, 'data')] },
    http: { allowedDomains: ['bench.test'], allowedPorts: [port], allowNetworks: ['127.0.0.1/32'] },
  },
};

async function gateway(telemetry: boolean, file: string): Promise<Gateway> {
  const gw = await createGateway({ ...realTools, audit: { file: join(dir, file) } }, { telemetry, resolver });
  gw.register(defineTool({ name: 'bench.noop', description: 'Does nothing.', inputSchema: schema, execute: () => null }));
  return gw;
}
// The context manager first: it is process-wide (async hooks) and so weighs on every gateway alike.
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
const plain = await gateway(false, 'plain.jsonl');
const noSdk = await gateway(true, 'no-sdk.jsonl'); // no SDK registered yet: no telemetry

// A tracer that does nothing (one shared non-recording span with a valid context): the gateway
// keeps the tracer it found at createGateway, so this gateway measures the hooks alone.
const shared = trace.wrapSpanContext({ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: 1 });
const minimalTracer: Tracer = {
  startSpan: () => shared,
  startActiveSpan: ((name: string, ...rest: unknown[]) => (rest.at(-1) as (span: Span) => unknown)(shared)),
};
trace.setGlobalTracerProvider({ getTracer: () => minimalTracer });
const hooksOnly = await gateway(true, 'hooks.jsonl');
trace.disable();

// The SDK, registered as a host would: context manager, tracer provider, meter provider.
let exported = 0;
const exporter: SpanExporter = {
  export(batch: ReadableSpan[], done) {
    exported += batch.length;
    done({ code: 0 });
  },
  shutdown: () => Promise.resolve(),
};
const tracerProvider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(exporter)] });
trace.setGlobalTracerProvider(tracerProvider);
const meterProvider = new MeterProvider({ readers: [new PeriodicExportingMetricReader({ exporter: new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE), exportIntervalMillis: 60_000 })] });
metrics.setGlobalMeterProvider(meterProvider);
const withSdk = await gateway(true, 'sdk.jsonl');

type Workload = (gw: Gateway) => Promise<unknown>;
const noopCall: Workload = (gw) => gw.call('bench.noop', args, { actor: 'bench' });
const readCall: Workload = (gw) => gw.call('fs.readFile', { path: 'page.txt' }, { actor: 'bench' });
const fetchCall: Workload = (gw) => gw.call('http.fetch', { url: `http://bench.test:${port}/items` }, { actor: 'bench' });

async function block(gw: Gateway, call: Workload): Promise<number> {
  const started = process.hrtime.bigint();
  for (let i = 0; i < BLOCK; i++) await call(gw);
  return Number(process.hrtime.bigint() - started);
}

/**
 * One round: CALLS calls per gateway in blocks of 50, the order rotating; returns, per gateway,
 * ns per call as the median over its blocks (a block the scheduler preempted, on a shared
 * machine, is an outlier the median ignores) and as the mean (every block, GC pauses included).
 */
async function round(gateways: readonly Gateway[], call: Workload, calls: number): Promise<{ median: number[]; mean: number[] }> {
  const blocks: number[][] = gateways.map(() => []);
  for (let b = 0; b * BLOCK < calls; b++) {
    for (let k = 0; k < gateways.length; k++) {
      const i = (b % 2 === 0 ? b + k : b + gateways.length - k) % gateways.length; // rotate, and alternate the direction
      blocks[i]!.push((await block(gateways[i]!, call)) / BLOCK);
    }
  }
  return { median: blocks.map((ns) => median(ns)), mean: blocks.map((ns) => ns.reduce((a, b) => a + b, 0) / ns.length) };
}

/** ns per operation of `op`, minus the ns of `base`, in alternating blocks; median of rounds. */
function floorNs(op: () => void, base: () => void): number {
  const time = (f: () => void): number => {
    const started = process.hrtime.bigint();
    for (let i = 0; i < 5_000; i++) f();
    return Number(process.hrtime.bigint() - started) / 5_000;
  };
  time(op);
  time(base);
  const diffs: number[] = [];
  for (let r = 0; r < 21; r++) diffs.push(r % 2 === 0 ? time(op) - time(base) : -time(base) + time(op));
  return median(diffs);
}

const gateways = [plain, noSdk, hooksOnly, withSdk];
await round(gateways, noopCall, CALLS); // warm up all four (JIT, files open)
const perRound: { median: number[]; mean: number[] }[] = [];
for (let r = 0; r < ROUNDS; r++) perRound.push(await round(gateways, noopCall, CALLS));

// The real tools: baseline and SDK only, fewer calls (each does I/O).
const REAL_CALLS = Math.max(BLOCK, Math.round(CALLS / 5));
const realRatios = async (call: Workload): Promise<{ ratio: number; noise: number; hooks: number; plainNs: number; sdkNs: number }> => {
  const pair = [plain, withSdk, noSdk, hooksOnly]; // noSdk runs plain's code path: its ratio is the method's noise
  await round(pair, call, REAL_CALLS);
  const rounds: { median: number[] }[] = [];
  for (let r = 0; r < ROUNDS; r++) rounds.push(await round(pair, call, REAL_CALLS));
  return {
    ratio: median(rounds.map((r) => r.median[0]! / r.median[1]!)),
    noise: median(rounds.map((r) => r.median[0]! / r.median[2]!)),
    hooks: median(rounds.map((r) => r.median[0]! / r.median[3]!)),
    plainNs: median(rounds.map((r) => r.median[0]!)),
    sdkNs: median(rounds.map((r) => r.median[1]!)),
  };
};
const read = await realRatios(readCall);
const fetched = await realRatios(fetchCall);

// The SDK alone: what the instrumented call adds at least, whatever the wrapper does.
const tracer = trace.getTracer('portcullis');
const options = { kind: SpanKind.INTERNAL, attributes: { 'portcullis.tool': 'bench.noop', 'portcullis.actor': 'bench' } };
const noop = (): void => undefined;
const spanNs = floorNs(() => {
  const span = tracer.startSpan('portcullis.call bench.noop', options, context.active());
  span.setAttribute('portcullis.decision', 'allow');
  span.end();
}, noop);
const probe = tracer.startSpan('probe');
const tool = { execute: (a: unknown, c: unknown): unknown => (a === c ? null : a) };
const withNs = floorNs(
  () => void context.with(trace.setSpan(context.active(), probe), tool.execute, tool, args, probe),
  () => void tool.execute(args, probe),
);
probe.end();

await Promise.all(gateways.map((gw) => gw.close()));
child.kill();
await tracerProvider.forceFlush();
await Promise.all([tracerProvider.shutdown(), meterProvider.shutdown()]);
await rm(dir, { recursive: true, force: true });

const medianNs = (i: number): number => median(perRound.map((r) => r.median[i]!));
// calls/s ratio = ns(baseline) / ns(other), per round; the median of rounds.
const ratio = (i: number): number => median(perRound.map((r) => r.median[0]! / r.median[i]!));
const meanRatio = (i: number): number => median(perRound.map((r) => r.mean[0]! / r.mean[i]!));
const plainNs = medianNs(0);
if (process.env.BENCH_VERBOSE) for (const r of perRound) console.log('  round ns/call (median of blocks; mean):', r.median.map((n) => n.toFixed(0)).join(' '), ';', r.mean.map((n) => n.toFixed(0)).join(' '));
console.log(`telemetry: ${CALLS} calls x ${ROUNDS} rounds per gateway (median of rounds), audit to a file; ${exported} spans exported`);
console.log(`  gw.call, telemetry: false (baseline):      ${fmt(1e9 / plainNs)} calls/s (${fmt(plainNs / 1000, 1)} us/call)`);
console.log(`  gw.call, @opentelemetry/api but no SDK:    ${fmt(1e9 / medianNs(1))} calls/s`);
console.log(`  gw.call, hooks with a do-nothing tracer:   ${fmt(1e9 / medianNs(2))} calls/s`);
console.log(`  gw.call, SDK registered (spans recorded):  ${fmt(1e9 / medianNs(3))} calls/s`);
reportRatio('  ratio no SDK / baseline (zero cost: the same code path; shows the method\'s bias)', ratio(1), 0.9);
reportRatio('  ratio hooks alone / baseline (do-nothing tracer: the gateway\'s own cost)', ratio(2), 0.9);
reportRatio('  ratio SDK / baseline, no-op tool (worst case: nothing but the pipeline; the SDK floor below bounds it)', ratio(3), 0.9);
console.log(`  the same ratios from block means (GC and preemption included): ${[1, 2, 3].map((i) => meanRatio(i).toFixed(2)).join(' / ')}x`);
console.log(`  floor, the SDK alone: startSpan + setAttribute + end = ${fmt(spanNs)} ns/span = ${((100 * spanNs) / plainNs).toFixed(1)}% of a baseline gw.call`);
console.log(`  floor, context.with (the span active while the tool runs) = ${fmt(withNs)} ns/call = ${((100 * withNs) / plainNs).toFixed(1)}% of a baseline gw.call`);
console.log(`  real tools, telemetry: false vs SDK registered (${REAL_CALLS} calls x ${ROUNDS} rounds, median):`);
console.log(`    fs.readFile 4 KiB: ${fmt(read.plainNs / 1000, 1)} us/call vs ${fmt(read.sdkNs / 1000, 1)} us/call`);
reportRatio('    ratio SDK / baseline, fs.readFile (THE GOAL on a tool that does I/O)', read.ratio, 0.9);
console.log(`    (the hooks alone, do-nothing tracer: ${read.hooks.toFixed(2)}x; noise, the baseline's code path against itself: ${read.noise.toFixed(2)}x)`);
console.log(`    http.fetch loopback: ${fmt(fetched.plainNs / 1000, 1)} us/call vs ${fmt(fetched.sdkNs / 1000, 1)} us/call`);
reportRatio('    ratio SDK / baseline, http.fetch (THE GOAL on a tool that does I/O)', fetched.ratio, 0.9);
console.log(`    (the hooks alone, do-nothing tracer: ${fetched.hooks.toFixed(2)}x; noise, the baseline's code path against itself: ${fetched.noise.toFixed(2)}x)`);
