import { context, metrics, trace, TraceFlags } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createGateway, defineTool, type Gateway } from '../../src/index.js';
import { startL402Server } from '../helpers/l402-server.js';
import { fakeLightning } from '../helpers/lightning.js';

const spans = new InMemorySpanExporter();
const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
const reader = new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 3_600_000 });
const quiet = { logger: { warn: () => undefined } };

beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] }));
  metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));
});
afterEach(() => spans.reset());

const SECRET = 'sk-live-very-secret-argument';

async function gateway(deps: { telemetry?: boolean } = {}): Promise<Gateway> {
  const gw = await createGateway({ policy: { allowTools: ['demo.*'], denyTools: ['demo.admin'] } }, { ...quiet, ...deps });
  gw.register(
    defineTool({
      name: 'demo.echo',
      description: 'Echoes, and reports the span it runs in.',
      inputSchema: z.strictObject({ text: z.string() }),
      execute: ({ text }) => ({ length: text.length, spanId: trace.getActiveSpan()?.spanContext().spanId }),
    }),
  );
  gw.register(defineTool({ name: 'demo.admin', description: 'Denied.', inputSchema: z.object({}), execute: () => 'never' }));
  return gw;
}

async function metricPoints(): Promise<Map<string, { attributes: Record<string, unknown>; value: unknown }[]>> {
  await reader.forceFlush();
  const out = new Map<string, { attributes: Record<string, unknown>; value: unknown }[]>();
  for (const resource of metricExporter.getMetrics().slice(-1)) {
    for (const scope of resource.scopeMetrics) {
      for (const metric of scope.metrics) out.set(metric.descriptor.name, metric.dataPoints.map((p) => ({ attributes: p.attributes, value: p.value })));
    }
  }
  return out;
}

describe('OpenTelemetry', () => {
  it('records a span per call with tool, actor, decision and error code, never arguments; refusals and unknown tools too', async () => {
    await using gw = await gateway();
    const out = await gw.call<{ spanId: string }>('demo.echo', { text: SECRET }, { actor: 'agent-7' });
    await expect(gw.call('demo.admin', {}, { actor: 'agent-7' })).rejects.toMatchObject({ code: 'POLICY_DENIED' });
    await expect(gw.call('demo.echo', { text: 42 })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(gw.call(`evil.${SECRET}`, {})).rejects.toMatchObject({ code: 'TOOL_NOT_FOUND' });
    const finished = spans.getFinishedSpans();
    expect(finished.map((s) => [s.name, s.attributes])).toEqual([
      ['portcullis.call demo.echo', { 'portcullis.tool': 'demo.echo', 'portcullis.decision': 'allow', 'portcullis.actor': 'agent-7' }],
      ['portcullis.call demo.admin', { 'portcullis.tool': 'demo.admin', 'portcullis.decision': 'deny', 'portcullis.error_code': 'POLICY_DENIED', 'portcullis.actor': 'agent-7' }],
      ['portcullis.call demo.echo', { 'portcullis.tool': 'demo.echo', 'portcullis.decision': 'deny', 'portcullis.error_code': 'VALIDATION_FAILED' }],
      ['portcullis.call (unknown)', { 'portcullis.tool': '(unknown)', 'portcullis.decision': 'deny', 'portcullis.error_code': 'TOOL_NOT_FOUND' }],
    ]);
    expect(finished[1]?.status).toEqual({ code: 2, message: 'POLICY_DENIED' });
    // The tool ran inside the call's span; nothing of the arguments or messages is recorded.
    expect(out.spanId).toBe(finished[0]?.spanContext().spanId);
    expect(JSON.stringify(finished.map((s) => [s.name, s.attributes, s.status, s.events]))).not.toContain('very-secret');
    for (const span of finished) expect(span.duration[0] * 1e9 + span.duration[1]).toBeGreaterThan(0);
  });

  it("continues the caller's W3C trace context: a remote parent extracted from traceparent, or the caller's own span", async () => {
    await using gw = await gateway();
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const remote = trace.setSpanContext(context.active(), { traceId, spanId: '00f067aa0ba902b7', traceFlags: TraceFlags.SAMPLED, isRemote: true });
    await context.with(remote, () => gw.call('demo.echo', { text: 'a' }));
    const tracer = trace.getTracer('host');
    await tracer.startActiveSpan('agent.step', async (step) => {
      await gw.call('demo.echo', { text: 'b' });
      step.end();
    });
    const [first, second, step] = spans.getFinishedSpans();
    expect(first?.spanContext().traceId).toBe(traceId);
    expect(first?.parentSpanContext?.spanId).toBe('00f067aa0ba902b7');
    expect(second?.parentSpanContext?.spanId).toBe(step?.spanContext().spanId);
    expect(second?.spanContext().traceId).toBe(step?.spanContext().traceId);
  });

  it("runs an async host tool inside the call's span: its own spans, after an await, nest under the call, which nests under the caller's", async () => {
    await using gw = await gateway();
    const tracer = trace.getTracer('host');
    gw.register(
      defineTool({
        name: 'demo.slow',
        description: 'Awaits, then starts a span of its own.',
        inputSchema: z.object({}),
        execute: async () => {
          await new Promise((resolve) => setTimeout(resolve, 5));
          tracer.startSpan('host.inner').end();
          return null;
        },
      }),
    );
    await tracer.startActiveSpan('agent.step', async (step) => {
      await gw.call('demo.slow', {});
      step.end();
    });
    const [inner, call, step] = spans.getFinishedSpans();
    expect([inner?.name, call?.name, step?.name]).toEqual(['host.inner', 'portcullis.call demo.slow', 'agent.step']);
    expect(inner?.parentSpanContext?.spanId).toBe(call?.spanContext().spanId);
    expect(call?.parentSpanContext?.spanId).toBe(step?.spanContext().spanId);
    // After the call, the caller's context is its own again.
    expect(trace.getActiveSpan()).toBeUndefined();
  });

  it('an agent-chosen tool name never reaches a span, even with an invalid context; an invalid actor is left out', async () => {
    await using gw = await gateway();
    await expect(gw.call(`evil.${SECRET}`, {}, { actor: 'bad\u0000actor' })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(gw.call('demo.echo', { text: 'x' }, { actor: 'x'.repeat(257) })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(spans.getFinishedSpans().map((s) => [s.name, s.attributes])).toEqual([
      ['portcullis.call (unknown)', { 'portcullis.tool': '(unknown)', 'portcullis.decision': 'deny', 'portcullis.error_code': 'VALIDATION_FAILED' }],
      ['portcullis.call demo.echo', { 'portcullis.tool': 'demo.echo', 'portcullis.decision': 'deny', 'portcullis.error_code': 'VALIDATION_FAILED' }],
    ]);
  });

  it('counts calls by tool and decision and refusals by code, with agent-chosen names folded into (unknown)', async () => {
    await using gw = await gateway();
    for (let i = 0; i < 3; i++) await gw.call('demo.echo', { text: 'x' });
    await gw.call('demo.admin', {}).catch(() => undefined);
    for (let i = 0; i < 5; i++) await gw.call(`made.up.${i}`, {}).catch(() => undefined);
    const points = await metricPoints();
    const calls = points.get('portcullis.calls') ?? [];
    const count = (tool: string, decision: string): unknown => calls.find((p) => p.attributes['portcullis.tool'] === tool && p.attributes['portcullis.decision'] === decision)?.value;
    expect(count('demo.echo', 'allow')).toBeGreaterThanOrEqual(3);
    expect(count('(unknown)', 'deny')).toBeGreaterThanOrEqual(5);
    expect(calls.some((p) => String(p.attributes['portcullis.tool']).startsWith('made.up'))).toBe(false);
    const refusals = points.get('portcullis.refusals') ?? [];
    expect(refusals.find((p) => p.attributes['portcullis.error_code'] === 'TOOL_NOT_FOUND')?.value).toBeGreaterThanOrEqual(5);
    expect(refusals.find((p) => p.attributes['portcullis.error_code'] === 'POLICY_DENIED')?.value).toBeGreaterThanOrEqual(1);
  });

  it('records nothing with deps.telemetry false (the call is not wrapped)', async () => {
    await using gw = await gateway({ telemetry: false });
    await gw.call('demo.echo', { text: 'x' });
    expect(spans.getFinishedSpans()).toEqual([]);
  });

  it('counts payments and the sats they spent (fees included) from the payment events', async () => {
    const lightning = fakeLightning();
    await using api = await startL402Server(lightning, { amountMsat: 21_000 });
    await using gw = await createGateway(
      {
        policy: { allowTools: ['pay.fetch'] },
        connectors: { http: { allowedDomains: ['paid.test'], allowedPorts: [api.port], allowNetworks: ['127.0.0.1/32'] } },
      },
      { ...quiet, wallet: lightning.wallet({ feeMsat: 1000 }), resolver: () => Promise.resolve([{ address: '127.0.0.1', family: 4 }]) },
    );
    const before = await metricPoints();
    const spentBefore = Number(before.get('portcullis.payments.spent')?.[0]?.value ?? 0);
    await gw.call('pay.fetch', { url: `http://paid.test:${api.port}/v1/a` });
    await gw.call('pay.fetch', { url: `http://paid.test:${api.port}/v1/b` }); // the credential is reused: no payment
    expect(lightning.payments).toBe(1);
    const points = await metricPoints();
    const paid = (points.get('portcullis.payments') ?? []).find((p) => p.attributes['portcullis.payment.outcome'] === 'paid');
    expect(paid?.value).toBe(1);
    expect(Number(points.get('portcullis.payments.spent')?.[0]?.value) - spentBefore).toBe(22);
  });
});
